using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using VideoEncode.Api.Configuration;

namespace VideoEncode.Api.Auth;

/// <summary>
/// Tells who a presented key belongs to: the configured admin key (VIDEOENCODE_APIKEY), compared in
/// constant time, or a stored key (<see cref="ApiKeyStore"/>).
///
/// A stored key's answer is remembered for a second, so a worker's heartbeats do not each cost a
/// database read. A key revoked through this host stops working at once (the memory is dropped); one
/// revoked through another host sharing the store, or with `keys revoke`, within that second. Each key's
/// last use is written at most once a minute, beside the request, never delaying it.
/// </summary>
public sealed class KeyRing(IOptions<QueueOptions> options, ApiKeyStore keys, TimeProvider clock, ILogger<KeyRing> logger)
{
    /// <summary>The configured key's name, in the audit trail and on jobs it created.</summary>
    public static readonly string ConfiguredKeyName = SettingNames.ApiKeyVariable;

    private const long RememberMilliseconds = 1000;
    private const int MaxRemembered = 10_000;
    private const long TouchEverySeconds = 60;

    private static readonly Caller ConfiguredCaller = new(ConfiguredKeyName, Roles.Admin);

    private readonly byte[] configuredDigest = Digest(options.Value.ApiKey);
    private readonly ConcurrentDictionary<string, (Caller? Caller, long Until)> remembered = new();
    private readonly ConcurrentDictionary<string, long> lastTouched = new();
    private long generation;

    public async ValueTask<Caller?> AuthenticateAsync(string presented)
    {
        var digest = Digest(presented);
        if (CryptographicOperations.FixedTimeEquals(digest, configuredDigest)) return ConfiguredCaller;
        var hash = Convert.ToHexStringLower(digest);
        // Real time, not the injectable clock: a test's stopped clock must not keep a revoked key alive.
        var now = Environment.TickCount64;
        if (!remembered.TryGetValue(hash, out var known) || known.Until < now)
        {
            // A key revoked here while this lookup ran must not be remembered as it was before: the answer
            // is kept only if nothing was forgotten meanwhile, and asked afresh otherwise.
            long before;
            do
            {
                before = Interlocked.Read(ref generation);
                known = (await keys.FindAsync(hash), now + RememberMilliseconds);
            } while (Interlocked.Read(ref generation) != before);
            if (remembered.Count >= MaxRemembered) remembered.Clear();
            remembered[hash] = known;
            // Forgotten after it was stored (a revoke that committed after the lookup): drop it again.
            if (Interlocked.Read(ref generation) != before) remembered.TryRemove(hash, out _);
        }
        if (known.Caller is { } caller) NoteUse(caller.Name);
        return known.Caller;
    }

    /// <summary>
    /// Whether the key a request was let in with still works: a request that stays open (an event stream, a
    /// waiting claim) asks again as it goes, so a key revoked meanwhile is not served to the end.
    /// </summary>
    public async ValueTask<bool> StillWorksAsync(HttpRequest request) =>
        await AuthenticateAsync(request.Headers[ApiKeyMiddleware.HeaderName].ToString()) is not null;

    /// <summary>A key was created or revoked here: answer from the store from now on.</summary>
    public void Forget()
    {
        Interlocked.Increment(ref generation);
        remembered.Clear();
    }

    private void NoteUse(string name)
    {
        var now = clock.GetUtcNow().ToUnixTimeSeconds();
        if (lastTouched.TryGetValue(name, out var last) && now - last < TouchEverySeconds) return;
        lastTouched[name] = now;
        _ = TouchAsync(name, now);
    }

    private async Task TouchAsync(string name, long now)
    {
        try
        {
            await keys.TouchAsync(name, now);
        }
        catch (Exception e)
        {
            // A missed "last used" is not worth failing or slowing a request for.
            logger.LogDebug(e, "Could not note the use of key {KeyName}", name);
        }
    }

    private static byte[] Digest(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));
}
