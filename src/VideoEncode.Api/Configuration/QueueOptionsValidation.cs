using System.Globalization;
using Microsoft.Extensions.Options;

namespace VideoEncode.Api.Configuration;

/// <summary>
/// The rules a <see cref="QueueOptions"/> must meet, checked when the host starts (ValidateOnStart) so a
/// setting that cannot work stops it at once with a line that names the setting and its environment
/// variable, rather than misbehaving later. <paramref name="sharedStore"/>: the queue is in PostgreSQL,
/// where the lead of the upkeep passes between hosts (<see cref="QueueOptions.LeaderLeaseSeconds"/>).
/// The API key is not among these rules: the command-line tools (keys, backup) run without it.
/// </summary>
public sealed class QueueOptionsValidation(bool sharedStore) : IValidateOptions<QueueOptions>
{
    public ValidateOptionsResult Validate(string? name, QueueOptions options)
    {
        var failures = Failures(options).ToList();
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private IEnumerable<string> Failures(QueueOptions options)
    {
        // A backoff of 0 would make a failed job claimable in a second the lease keeper has already looked at.
        foreach (var (setting, value) in new[] { (nameof(options.LeaseSeconds), options.LeaseSeconds),
                     (nameof(options.LegacyLeaseSeconds), options.LegacyLeaseSeconds), (nameof(options.RetryBackoffSeconds), options.RetryBackoffSeconds),
                     (nameof(options.MaxQueuedWrites), options.MaxQueuedWrites), (nameof(options.LeaderLeaseSeconds), options.LeaderLeaseSeconds) })
            if (value < 1)
                yield return Refusal(setting, "must be 1 or more", value);
        if (options.QuotaResetHour is < 0 or > 23)
            yield return Refusal(nameof(options.QuotaResetHour), "must be an hour of the day, 0 to 23", options.QuotaResetHour);
        if (options.RetentionDays < 0)
            yield return Refusal(nameof(options.RetentionDays), "must be 0 (keep ended jobs forever) or more", options.RetentionDays);
        if (options.MaxUploadBytes < 0)
            yield return Refusal(nameof(options.MaxUploadBytes), "must be 0 or more", options.MaxUploadBytes);
        // Below MaxUploadBytes, the largest upload the host announces (Tus-Max-Size) could never be made.
        if (options.MaxReservedUploadBytesPerKey is { } perKey && perKey < options.MaxUploadBytes)
            yield return Refusal(nameof(options.MaxReservedUploadBytesPerKey),
                $"must be at least {nameof(options.MaxUploadBytes)} ({options.MaxUploadBytes}), or unset for twice that", perKey);
        if (options.MediaReserveBytes < 0)
            yield return Refusal(nameof(options.MediaReserveBytes), "must be 0 or more", options.MediaReserveBytes);
        // Zero would send keep-alives without pause.
        if (!(options.EventKeepAliveSeconds > 0))
            yield return Refusal(nameof(options.EventKeepAliveSeconds), "must be more than 0", options.EventKeepAliveSeconds);
        // Zero would expire every upload as it is made.
        if (!(options.UploadExpiryHours > 0))
            yield return Refusal(nameof(options.UploadExpiryHours), "must be more than 0", options.UploadExpiryHours);
        // The lead is renewed at each sweep: a lead shorter than two sweeps lapses between renewals now and
        // then, and passes from host to host. Only hosts sharing PostgreSQL have a lead to pass.
        if (sharedStore && options.LeaderLeaseSeconds >= 1 && options.LeaderLeaseSeconds < 2 * options.LeaseSweepSeconds)
            yield return Refusal(nameof(options.LeaderLeaseSeconds),
                $"must be at least twice {nameof(options.LeaseSweepSeconds)} ({Text(2 * options.LeaseSweepSeconds)}) on PostgreSQL, " +
                "or the lead of the upkeep passes from host to host", options.LeaderLeaseSeconds);
    }

    /// <summary>"LeaseSeconds must be 1 or more (set VIDEOENCODE_LEASESECONDS), not 0."</summary>
    private static string Refusal(string setting, string rule, IConvertible value) =>
        $"{setting} {rule} (set {SettingNames.EnvironmentVariable(setting)}), not {Text(value)}.";

    private static string Text(IConvertible value) => value.ToString(CultureInfo.InvariantCulture);
}
