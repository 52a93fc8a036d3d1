using Npgsql;

namespace VideoEncode.Api.Database.Postgres;

/// <summary>
/// The connections to a PostgreSQL queue and the way every write runs: in its own transaction,
/// committed before anyone is answered, with synchronous_commit on (whatever the server's
/// default), so an acknowledged write has reached the server's disk. Concurrency is PostgreSQL's:
/// many writes run at once, a step on a job locks that job's row, and a claim skips rows other
/// claims hold (FOR UPDATE SKIP LOCKED). A write that collides with another — a deadlock, a
/// serialisation failure, or two hosts taking the same output name in the same instant — is run
/// again from the start, a few times, in a fresh transaction.
/// </summary>
public sealed class PostgresDatabase : IAsyncDisposable
{
    private const int MaxAttempts = 5;

    public PostgresDatabase(string connectionString)
    {
        var builder = new NpgsqlDataSourceBuilder(connectionString);
        var options = builder.ConnectionStringBuilder.Options;
        builder.ConnectionStringBuilder.Options = (string.IsNullOrEmpty(options) ? "" : options + " ") + "-c synchronous_commit=on";
        // The queue runs the same few statements all day: prepared once per connection, they are not
        // planned afresh each time (planning was ~40 % of the server's time per statement in bench/).
        if (builder.ConnectionStringBuilder.MaxAutoPrepare == 0) builder.ConnectionStringBuilder.MaxAutoPrepare = 50;
        // A connection the network dropped silently (the listening one waits on it for hours) is noticed within a minute.
        if (builder.ConnectionStringBuilder.KeepAlive == 0) builder.ConnectionStringBuilder.KeepAlive = 30;
        DataSource = builder.Build();
    }

    public NpgsqlDataSource DataSource { get; }

    /// <summary>The database's name and server, for messages (never the password).</summary>
    public string Describe()
    {
        var settings = new NpgsqlConnectionStringBuilder(DataSource.ConnectionString);
        return $"database '{settings.Database ?? settings.Username}' on {settings.Host}:{settings.Port}";
    }

    public ValueTask<NpgsqlConnection> OpenAsync(CancellationToken cancel = default) => DataSource.OpenConnectionAsync(cancel);

    /// <summary>
    /// Runs <paramref name="write"/> in a transaction and completes once it is committed. When
    /// <paramref name="cancel"/> fires before the write starts it does not run; once started it
    /// runs to its commit, so a caller that gave up never leaves half a change behind.
    /// </summary>
    public async Task<T> WriteAsync<T>(Func<NpgsqlConnection, Task<T>> write, CancellationToken cancel = default)
    {
        for (var attempt = 1; ; attempt++)
        {
            await using var connection = await DataSource.OpenConnectionAsync(cancel);
            await using var transaction = await connection.BeginTransactionAsync(CancellationToken.None);
            try
            {
                var result = await write(connection);
                await transaction.CommitAsync(CancellationToken.None);
                return result;
            }
            catch (PostgresException collision) when (attempt < MaxAttempts && IsCollision(collision))
            {
                await transaction.RollbackAsync(CancellationToken.None);
            }
        }
    }

    /// <summary>
    /// A write that lost a race with another and would succeed if run again: a deadlock, a
    /// serialisation failure, or the live-output index refusing a name another host took a moment ago.
    /// (Any other unique violation is a bug to report, not to retry.) One still colliding after
    /// <see cref="MaxAttempts"/> tries reaches the client as a 503 to try again.
    /// </summary>
    public static bool IsCollision(PostgresException e) =>
        e.SqlState is PostgresErrorCodes.SerializationFailure or PostgresErrorCodes.DeadlockDetected
        || (e.SqlState == PostgresErrorCodes.UniqueViolation && e.ConstraintName == "jobs_live_output");

    public ValueTask DisposeAsync() => DataSource.DisposeAsync();
}
