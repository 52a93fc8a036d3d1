using System.Diagnostics;

namespace VideoEncode.Worker.Transfers;

/// <summary>
/// Holds one transfer to --transfer-limit bytes per second (none: no waiting), and tells its progress:
/// after each buffer the copy waits until the bytes sent so far are no ahead of the allowed rate. A
/// connection on which no byte moves for <see cref="IdleTimeout"/> is given up (and the transfer
/// resumed on a new one): transfers have no overall time limit, as a large file on a slow line may
/// rightly take hours, but a silent connection must not hold a job for ever.
/// </summary>
public sealed class TransferPace(double? bytesPerSecond, long total, long already, Action<TransferProgress> report)
{
    private const int BufferBytes = 1 << 20;
    private static readonly TimeSpan ReportEvery = TimeSpan.FromMilliseconds(250);
    public static readonly TimeSpan IdleTimeout = TimeSpan.FromSeconds(60);

    private readonly Stopwatch clock = Stopwatch.StartNew();
    private readonly long startedAt = already;
    private long done = already;
    private TimeSpan? lastReport;

    /// <summary>Copies <paramref name="count"/> bytes (all, when null) from one stream to the other at the allowed pace.</summary>
    public async Task CopyAsync(Stream from, Stream to, long? count, CancellationToken cancel)
    {
        var buffer = new byte[(int)Math.Min(BufferBytes, count ?? BufferBytes)];
        for (var left = count ?? long.MaxValue; left > 0;)
        {
            using var idle = CancellationTokenSource.CreateLinkedTokenSource(cancel);
            idle.CancelAfter(IdleTimeout);
            try
            {
                var read = await from.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, left)), idle.Token);
                if (read == 0)
                {
                    if (count is null) return;
                    throw new TransientException($"the transfer ended {left} bytes early");
                }
                await to.WriteAsync(buffer.AsMemory(0, read), idle.Token);
                left -= read;
                await AdvanceAsync(read, cancel);
            }
            catch (OperationCanceledException) when (!cancel.IsCancellationRequested)
            {
                throw new TransientException($"no byte moved for {IdleTimeout.TotalSeconds:0} s");
            }
        }
    }

    private async Task AdvanceAsync(int bytes, CancellationToken cancel)
    {
        done += bytes;
        var elapsed = clock.Elapsed;
        if (lastReport is not { } last || elapsed - last >= ReportEvery || done == total)
        {
            lastReport = elapsed;
            var rate = (done - startedAt) / Math.Max(elapsed.TotalSeconds, 0.001);
            report(new TransferProgress(done, total, rate));
        }
        if (bytesPerSecond is { } limit)
        {
            var due = TimeSpan.FromSeconds((done - startedAt) / limit) - elapsed;
            if (due > TimeSpan.Zero) await Task.Delay(due, cancel);
        }
    }
}

/// <summary>How far a transfer is: bytes done of the total, at a rate in bytes per second.</summary>
public sealed record TransferProgress(long Done, long Total, double BytesPerSecond)
{
    public double Percent => Total == 0 ? 100 : 100.0 * Done / Total;

    public TimeSpan? Eta => BytesPerSecond > 0 ? TimeSpan.FromSeconds((Total - Done) / BytesPerSecond) : null;
}
