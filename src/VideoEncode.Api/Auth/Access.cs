namespace VideoEncode.Api.Auth;

/// <summary>What a route does, as far as keys are concerned. Every route under /api names one (<see cref="AccessRule"/>).</summary>
public enum Access
{
    /// <summary>Lists, one job, stats, workers, events, metrics.</summary>
    Read,
    /// <summary>Enqueue, cancel, retry.</summary>
    Submit,
    /// <summary>A worker's steps: claim, heartbeat, finish, fail, release.</summary>
    Work,
    /// <summary>Everything else: delete, reset, keys, the audit trail, queue-wide changes.</summary>
    Admin,
}

/// <summary>The roles a key can have, and what each may do.</summary>
public static class Roles
{
    public const string Admin = "admin";
    public const string Submit = "submit";
    public const string Worker = "worker";
    public const string Read = "read";

    public static readonly IReadOnlyList<string> All = [Admin, Submit, Worker, Read];

    public static bool Grants(string role, Access access) => role switch
    {
        Admin => true,
        Submit => access is Access.Read or Access.Submit,
        Worker => access is Access.Read or Access.Work,
        Read => access is Access.Read,
        _ => false,
    };

    /// <summary>The roles that may do <paramref name="access"/>, for messages: "admin or submit".</summary>
    public static string AllowedFor(Access access) => string.Join(" or ", All.Where(role => Grants(role, access)));
}
