using System.Threading.Channels;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;
using VideoEncode.Api.Configuration;

namespace VideoEncode.Api.Database.Sqlite;

/// <summary>
/// The single writer: every change to the database runs here, one at a time, on one connection.
///
/// Why: SQLite allows one writer per file, and Microsoft.Data.Sqlite answers a busy lock by
/// sleeping 150 ms, so concurrent writers on separate connections stall each other. Queuing the
/// writes in-process avoids that entirely.
///
/// Group commit: writes that arrive while a commit is being fsynced wait in the channel and are
/// then committed together in one transaction, each inside its own SAVEPOINT so one failing write
/// rolls back alone. Every caller learns its result only after the COMMIT that contains it has
/// returned, so an acknowledged write is on disk, yet a burst of N writes costs one fsync, not N.
///
/// Backpressure: at most MaxQueuedWrites writes wait; one more is refused at once
/// (<see cref="WriterBusyException"/>, answered 503 with Retry-After) instead of queuing without
/// bound while memory and latency grow. A write whose caller gave up (its request was aborted)
/// before its turn came is dropped, not run.
/// </summary>
public sealed class SqliteWriter : IAsyncDisposable
{
    private const int MaxBatchSize = 512;

    private readonly Channel<IPendingWrite> queue;
    private readonly SqliteConnection connection;
    private readonly SqliteCommand begin, commit, rollback, savepoint, release, rollbackToSavepoint;
    private readonly Task loop;
    private readonly ILogger<SqliteWriter> logger;
    private volatile bool disposed;

    public SqliteWriter(QueueDatabase database, IOptions<QueueOptions> options, ILogger<SqliteWriter> logger)
    {
        this.logger = logger;
        queue = Channel.CreateBounded<IPendingWrite>(new BoundedChannelOptions(Math.Max(1, options.Value.MaxQueuedWrites))
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait, // TryWrite answers false when full; nothing is dropped silently
        });
        connection = database.OpenWriter();
        IncrementalVacuum.TurnOn(connection, logger);
        SchemaMigrator.Migrate(connection);
        begin = Prepare("BEGIN IMMEDIATE");
        commit = Prepare("COMMIT");
        rollback = Prepare("ROLLBACK");
        savepoint = Prepare("SAVEPOINT write");
        release = Prepare("RELEASE write");
        rollbackToSavepoint = Prepare("ROLLBACK TO write");
        loop = Task.Run(RunAsync);
    }

    /// <summary>
    /// Runs <paramref name="write"/> inside the writer's transaction and completes once that
    /// transaction is durably committed. If the write throws, its changes are rolled back and the
    /// exception reaches the caller; other writes in the same batch are unaffected. When
    /// <paramref name="cancel"/> fires before the write's turn, it is dropped and the task is cancelled.
    /// </summary>
    /// <exception cref="WriterBusyException">Too many writes are waiting already.</exception>
    public Task<T> WriteAsync<T>(Func<SqliteConnection, T> write, CancellationToken cancel = default) =>
        Enqueue(new PendingWrite<T>(write, null, cancel));

    private Task<T> Enqueue<T>(PendingWrite<T> pending)
    {
        if (queue.Writer.TryWrite(pending)) return pending.Task;
        if (disposed) throw new ObjectDisposedException(nameof(SqliteWriter), "The database writer has shut down.");
        throw new WriterBusyException();
    }

    /// <summary>
    /// As <see cref="WriteAsync{T}"/> for a write written async (shared with PostgreSQL). Microsoft.Data.Sqlite
    /// has no truly asynchronous I/O — its async methods complete before they return — so such a write's task
    /// is complete when the writer's synchronous turn ends; one that is not (it awaited something else) is a
    /// bug and throws, since the single writer cannot wait for it.
    /// </summary>
    public Task<T> WriteAwaitedAsync<T>(Func<SqliteConnection, ValueTask<T>> write, CancellationToken cancel = default) =>
        Enqueue(new PendingWrite<T>(null, write, cancel));

    /// <summary>Writes waiting for their turn (not counting the batch being committed).</summary>
    internal int QueuedWrites => queue.Reader.Count;

    private async Task RunAsync()
    {
        var batch = new List<IPendingWrite>(MaxBatchSize);
        while (await queue.Reader.WaitToReadAsync().ConfigureAwait(false))
        {
            while (batch.Count < MaxBatchSize && queue.Reader.TryRead(out var next))
                if (!next.DropIfAbandoned()) batch.Add(next);
            try
            {
                if (batch.Count > 0) CommitTogether(batch);
            }
            catch (Exception unexpected)
            {
                // Whatever went wrong, the loop must live on: every later write depends on it.
                logger.LogError(unexpected, "The database writer failed a batch of {Count} writes; it carries on with the next.", batch.Count);
                foreach (var write in batch) write.Abandon(unexpected);
            }
            batch.Clear();
        }
    }

    private void CommitTogether(List<IPendingWrite> batch)
    {
        try
        {
            begin.ExecuteNonQuery();
            foreach (var write in batch)
            {
                savepoint.ExecuteNonQuery();
                if (write.Run(connection))
                    release.ExecuteNonQuery();
                else
                {
                    rollbackToSavepoint.ExecuteNonQuery();
                    release.ExecuteNonQuery();
                }
            }
            commit.ExecuteNonQuery();
        }
        catch (Exception failure)
        {
            // The transaction itself failed (disk full, I/O error): nothing in it is durable.
            TryRollback();
            foreach (var write in batch)
                write.Abandon(failure);
            return;
        }
        foreach (var write in batch)
            write.Acknowledge();
    }

    private void TryRollback()
    {
        try
        {
            // sqlite3_get_autocommit is 0 while a transaction is open.
            if (SQLitePCL.raw.sqlite3_get_autocommit(connection.Handle) == 0)
                rollback.ExecuteNonQuery();
        }
        catch (SqliteException)
        {
            // Already rolled back by SQLite itself; nothing left to undo.
        }
    }

    private SqliteCommand Prepare(string sql)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        return command;
    }

    public async ValueTask DisposeAsync()
    {
        disposed = true;
        queue.Writer.TryComplete();
        await loop.ConfigureAwait(false);
        foreach (var command in new[] { begin, commit, rollback, savepoint, release, rollbackToSavepoint })
            command.Dispose();
        await connection.DisposeAsync().ConfigureAwait(false);
        SqliteConnection.ClearAllPools();
    }

    private interface IPendingWrite
    {
        /// <summary>True, and the caller told so, when the caller gave up before the write ran.</summary>
        bool DropIfAbandoned();

        /// <summary>Runs the write; false when it threw and its savepoint must be rolled back.</summary>
        bool Run(SqliteConnection connection);

        /// <summary>The batch committed: hand over the result (or the write's own exception).</summary>
        void Acknowledge();

        /// <summary>The batch did not commit: the write did not happen.</summary>
        void Abandon(Exception failure);
    }

    /// <summary>A write waiting for its turn: <paramref name="write"/>, or <paramref name="awaited"/> (<see cref="WriteAwaitedAsync{T}"/>).</summary>
    private sealed class PendingWrite<T>(Func<SqliteConnection, T>? write, Func<SqliteConnection, ValueTask<T>>? awaited, CancellationToken cancel)
        : IPendingWrite
    {
        // Continuations must not run on the writer's loop, or one slow caller would stall every write.
        private readonly TaskCompletionSource<T> completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private T? result;
        private Exception? error;

        public Task<T> Task => completion.Task;

        public bool DropIfAbandoned() => cancel.IsCancellationRequested && completion.TrySetCanceled(cancel);

        public bool Run(SqliteConnection connection)
        {
            try
            {
                result = write is not null ? write(connection) : Completed(awaited!(connection));
                return true;
            }
            catch (Exception e)
            {
                error = e;
                return false;
            }
        }

        private static T Completed(ValueTask<T> task) => task.IsCompleted
            ? task.GetAwaiter().GetResult()
            : throw new InvalidOperationException("A SQLite write awaited something other than the database; the single writer cannot wait for it.");

        public void Acknowledge()
        {
            if (error is null) completion.TrySetResult(result!);
            else completion.TrySetException(error);
        }

        public void Abandon(Exception failure) => completion.TrySetException(failure);
    }
}

/// <summary>The writer's queue is full: the host is overloaded for the moment. Answered 503 with Retry-After.</summary>
public sealed class WriterBusyException() : Exception("The database writer is busy; try again in a moment.");
