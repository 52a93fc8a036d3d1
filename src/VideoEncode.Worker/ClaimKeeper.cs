using System.Diagnostics;
using VideoEncode.Contracts;
using VideoEncode.Worker.Media;

namespace VideoEncode.Worker;

/// <summary>Why the host stopped a running job.</summary>
public abstract record Interruption
{
    public sealed record CancelRequested : Interruption;

    public sealed record ClaimLost(string Why) : Interruption;
}

/// <summary>
/// Keeps a job's claim alive while it runs: a heartbeat every second (a third of the lease if that
/// is shorter) carrying progress, speed and time left, so a cancel stops the encode within about a
/// second. A 409 or 404 means the claim is gone and the encode stops; a 400 means the host refused
/// the report, so the beat is sent again at once with the claim alone, which still renews the
/// lease. A beat that gets no answer is simply skipped: the next tick is the retry, so the lease
/// is renewed within about a second of a restarted host coming back.
/// </summary>
public sealed class ClaimKeeper : IDisposable
{
    private readonly QueueClient queue;
    private readonly ConsoleOutput console;
    private readonly long id;
    private readonly string? token;
    private readonly TimeSpan interval, timeout;
    private readonly CancellationToken abort;
    private readonly TimeProvider time;
    private readonly CancellationTokenSource stop;
    private readonly CancellationTokenSource done = new();
    private readonly Task loop;
    private bool unanswered, refusalShown;

    /// <param name="time">The clock of the lease and the beats; by default the system's.</param>
    public ClaimKeeper(QueueClient queue, Job job, ConsoleOutput console, CancellationToken abort, TimeProvider? time = null)
    {
        this.queue = queue;
        this.console = console;
        this.abort = abort;
        this.time = time ?? TimeProvider.System;
        id = job.Id;
        token = job.ClaimToken;
        var lease = TimeSpan.FromSeconds(Math.Max(3, (job.LeaseExpiresAt ?? 0) - this.time.GetUtcNow().ToUnixTimeSeconds()));
        interval = TimeSpan.FromSeconds(Math.Clamp(lease.TotalSeconds / 3, 0.5, 1));
        ResultRetryDelay = TimeSpan.FromSeconds(Math.Clamp(lease.TotalSeconds / 3, 0.5, 30));
        // Half the lease: a beat stuck on a hung host gives up in time for another to renew it.
        timeout = TimeSpan.FromSeconds(Math.Clamp(lease.TotalSeconds / 2, 1, 10));
        stop = CancellationTokenSource.CreateLinkedTokenSource(abort);
        // Without a lease or a claim token (an older host) there is nothing to renew.
        loop = job.LeaseExpiresAt is not null && token is not null ? Task.Run(BeatAsync) : Task.CompletedTask;
    }

    /// <summary>
    /// The longest pause between tries of the job's result: a third of the lease, so a result held
    /// up by a host outage lands within the grace of one lease the restarted host gives.
    /// </summary>
    public TimeSpan ResultRetryDelay { get; }

    /// <summary>Fires when the encode must stop: abort, cancel requested, or claim lost.</summary>
    public CancellationToken Stop => stop.Token;

    /// <summary>The encode's (or transfer's) latest progress, sent with the next heartbeat.</summary>
    public EncodeProgress? Latest { get; set; }

    /// <summary>What the run is doing (<see cref="JobPhase"/>), sent with each heartbeat; null: encoding, from a host's view.</summary>
    public string? Phase { get; set; }

    /// <summary>The input's <see cref="HdrKinds"/> once probed, reported with the run's finish or failure.</summary>
    public string? Hdr { get; set; }

    /// <summary>The input's duration in seconds once probed, reported with the run's finish (a key's quota counts it).</summary>
    public double? InputSeconds { get; set; }

    /// <summary>Why the host stopped the job, if it did.</summary>
    public Interruption? Interruption { get; private set; }

    /// <summary>
    /// The host's limits on a heartbeat's numbers (progress 0–100, speed 0–10000, eta_seconds
    /// 0–10,000,000): a value outside them would get the whole beat refused, so it is clamped;
    /// one that is no number at all is left out.
    /// </summary>
    public static Heartbeat Report(string token, EncodeProgress? progress, string? phase = null) => new(token,
        Clamp(progress?.Percent, Heartbeat.MaxProgress),
        Clamp(progress?.Speed, Heartbeat.MaxSpeed),
        Clamp(progress?.Eta?.TotalSeconds, Heartbeat.MaxEtaSeconds) is { } eta ? (long)Math.Round(eta) : null,
        phase);

    private static double? Clamp(double? value, double max) =>
        value is { } number && double.IsFinite(number) ? Math.Clamp(number, 0, max) : null;

    /// <summary>
    /// Stops the heartbeats and asks the host once more whether the claim is still ours, before a
    /// result is put in place. False only when the host says it is not; no answer is not a no.
    /// </summary>
    public async Task<bool> StillOursAsync()
    {
        await StopAsync();
        if (Interruption is Interruption.ClaimLost) return false;
        if (token is null) return true;
        if (await SendAsync(abort) is not HeartbeatAnswer.Lost lost) return true;
        Interrupt(new Interruption.ClaimLost($"the host no longer holds this claim ({lost.Message})"));
        return false;
    }

    /// <summary>Heartbeats per span of a job's trace: one a second would bury its other steps.</summary>
    private const int BeatsPerSpan = 60;

    private async Task BeatAsync()
    {
        Activity? batch = null;
        var beats = 0;
        try
        {
            while (true)
            {
                await Task.Delay(interval, time, done.Token);
                if (beats % BeatsPerSpan == 0)
                {
                    batch?.Stop();
                    batch = JobTracing.Step("heartbeats");
                }
                beats++;
                batch?.SetTag("videoencode.heartbeats", (beats - 1) % BeatsPerSpan + 1);
                switch (await SendAsync(done.Token))
                {
                    case HeartbeatAnswer.Renewed { CancelRequested: true }:
                        Interrupt(new Interruption.CancelRequested());
                        return;
                    case HeartbeatAnswer.Lost lost:
                        Interrupt(new Interruption.ClaimLost($"the host no longer holds this claim ({lost.Message})"));
                        return;
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The job ended; no more heartbeats.
        }
        finally
        {
            batch?.Stop();
        }
    }

    /// <summary>One beat, and the one at once after it if the host refused the report; says what it came to.</summary>
    private async Task<HeartbeatAnswer> SendAsync(CancellationToken cancel)
    {
        var answer = await queue.HeartbeatAsync(id, Report(token!, Latest, Phase), timeout, cancel);
        if (answer is HeartbeatAnswer.Refused refused)
        {
            if (!refusalShown) console.Warn($"Job {id}: the host refused a heartbeat's progress report ({refused.Message}); renewing the lease without it.");
            refusalShown = true;
            answer = await queue.HeartbeatAsync(id, new Heartbeat(token!), timeout, cancel);
        }
        if (answer is HeartbeatAnswer.Unanswered failed && !unanswered)
            console.Warn($"Job {id}: could not send a heartbeat ({failed.Reason}); the encode goes on, retrying every {interval.TotalSeconds:0.#} s.");
        else if (answer is not HeartbeatAnswer.Unanswered && unanswered)
            console.Info($"Job {id}: the host answers heartbeats again.");
        unanswered = answer is HeartbeatAnswer.Unanswered;
        return answer;
    }

    private void Interrupt(Interruption why)
    {
        Interruption ??= why;
        stop.Cancel();
        done.Cancel();
    }

    public async Task StopAsync()
    {
        await done.CancelAsync();
        await loop;
    }

    public void Dispose()
    {
        stop.Dispose();
        done.Dispose();
    }
}
