namespace VideoEncode.Testing;

/// <summary>Waiting for the world to catch up, with a deadline and something to show when it does not.</summary>
public static class Eventually
{
    public static Task TrueAsync(Func<bool> condition, Func<string> context, TimeSpan? timeout = null) =>
        TrueAsync(() => Task.FromResult(condition()), context, timeout);

    public static async Task TrueAsync(Func<Task<bool>> condition, Func<string> context, TimeSpan? timeout = null)
    {
        var limit = timeout ?? TimeSpan.FromSeconds(90);
        var deadline = DateTime.UtcNow + limit;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"Waited {limit} in vain. Context:\n{context()}");
            await Task.Delay(50);
        }
    }

    /// <summary>Whether a live ffmpeg encode (not a zombie) is writing under <paramref name="folder"/>, read from /proc.</summary>
    public static bool FfmpegWritingInto(string folder) => FfmpegsWritingInto(folder).Any();

    /// <summary>The process ids of the live ffmpeg encodes (not zombies) writing under <paramref name="folder"/> (or into that file), read from /proc.</summary>
    public static IReadOnlyList<int> FfmpegsWritingInto(string folder) =>
        Directory.EnumerateDirectories("/proc").Where(process =>
        {
            try
            {
                var commandLine = File.ReadAllText(Path.Combine(process, "cmdline"));
                return commandLine.Contains("libx264", StringComparison.Ordinal)
                    && commandLine.Contains(folder, StringComparison.Ordinal)
                    && !File.ReadAllText(Path.Combine(process, "stat")).Contains(") Z ", StringComparison.Ordinal);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return false; // the process ended while we looked
            }
        }).Select(process => int.Parse(Path.GetFileName(process), System.Globalization.CultureInfo.InvariantCulture)).ToList();
}
