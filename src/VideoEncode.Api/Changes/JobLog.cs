namespace VideoEncode.Api.Changes;

/// <summary>One log line per job state change: which job, from what to what, and through which route.</summary>
internal static partial class JobLog
{
    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId}: {From} -> {To} via {Route}")]
    public static partial void StateChanged(ILogger logger, long jobId, string from, string to, string route);
}
