namespace VideoEncode.Testing;

/// <summary>Stand-ins for ffmpeg and ffprobe: shell scripts that misbehave on cue and pass everything else to the real program.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public static class FakeTools
{
    /// <summary>Runs the real <paramref name="program"/> after appending its arguments to <paramref name="log"/>.</summary>
    public static string Recording(string folder, string program, string log) =>
        Script(folder, program, $"printf '%s\\n' \"$*\" >> '{log}'\nexec {program} \"$@\"");

    /// <summary>
    /// An ffmpeg that, asked to encode, prints nothing and never ends; its PID goes to
    /// <paramref name="pidFile"/> (exec keeps the PID, so it is the hanging process's).
    /// </summary>
    public static string HangingFfmpeg(string folder, string pidFile) =>
        Script(folder, "ffmpeg", $"case \" $* \" in *\" -progress \"*) {HangAs(pidFile)};; esac\nexec ffmpeg \"$@\"");

    /// <summary>An ffprobe that answers the version check and hangs on every file, like one reading a dead network share.</summary>
    public static string HangingFfprobe(string folder, string pidFile) =>
        Script(folder, "ffprobe", $"case \"$1\" in -version) exec ffprobe \"$@\";; esac\n{HangAs(pidFile)}");

    /// <summary>An ffmpeg that encodes at the input's own pace (-re), so an encode lasts as long as its clip, whatever the machine.</summary>
    public static string RealTimeFfmpeg(string folder) =>
        Script(folder, "ffmpeg", "case \" $* \" in *\" -progress \"*) exec ffmpeg -re \"$@\";; esac\nexec ffmpeg \"$@\"");

    /// <summary>
    /// An ffmpeg whose "-encoders" lists exactly <paramref name="listed"/> (video encoders, in ffmpeg's
    /// layout), and whose test encodes into the null muxer succeed only with <paramref name="working"/>:
    /// any other fails as NVENC does on a machine without an NVIDIA driver. Everything else runs the real ffmpeg.
    /// </summary>
    public static string FfmpegWithEncoders(string folder, IEnumerable<string> listed, IEnumerable<string> working)
    {
        var listing = string.Concat(listed.Select(name => $" V....D {name,-20} {name} (fake)\n"));
        var works = string.Join("|", working.Select(name => $"*\" -c:v {name} \"*"));
        return Script(folder, "ffmpeg", $$"""
            case " $* " in
              *" -encoders "*) printf 'Encoders:\n V..... = Video\n ------\n{{listing}}'; exit 0;;
              {{(works.Length == 0 ? "*\" -c:v --none-- \"*" : works)}}) exit 0;;
              *" -f null "*) echo '[h264_nvenc @ 0x0] Cannot load libcuda.so.1' >&2; exit 1;;
            esac
            exec ffmpeg "$@"
            """);
    }

    /// <summary>
    /// An ffmpeg whose encodes (the runs that name a video encoder, -c:v) succeed and then lose the last
    /// third of their output (the last argument), as a full disk or a dying share would leave it.
    /// </summary>
    public static string TruncatingFfmpeg(string folder) =>
        Script(folder, "ffmpeg", """
            case " $* " in *" -c:v "*)
                ffmpeg "$@" || exit $?
                for output; do :; done
                truncate -s $(( $(stat -c %s "$output") * 2 / 3 )) "$output"
                exit 0;;
            esac
            exec ffmpeg "$@"
            """);

    /// <summary>An ffmpeg whose encodes (-c:v) drop every audio stream of their input (-an before it), as a wrong mapping would.</summary>
    public static string MutingFfmpeg(string folder) =>
        Script(folder, "ffmpeg", "case \" $* \" in *\" -c:v \"*) exec ffmpeg -an \"$@\";; esac\nexec ffmpeg \"$@\"");

    /// <summary>Whether a process is alive: present in /proc and not a zombie.</summary>
    public static bool Running(int pid)
    {
        try
        {
            return !File.ReadAllText($"/proc/{pid}/stat").Contains(") Z ", StringComparison.Ordinal);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>Sends a POSIX signal to a process (STOP and CONT freeze and thaw it).</summary>
    public static void Signal(int pid, string name)
    {
        using var kill = System.Diagnostics.Process.Start("kill", ["-" + name, pid.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
    }

    /// <summary>The PID a hanging fake wrote, once it has.</summary>
    public static int? ReadPid(string pidFile) =>
        File.Exists(pidFile) && int.TryParse(File.ReadAllText(pidFile).Trim(), out var pid) ? pid : null;

    private static string HangAs(string pidFile) => $"echo $$ > '{pidFile}.new' && mv '{pidFile}.new' '{pidFile}'; exec sleep 600";

    private static string Script(string folder, string name, string body)
    {
        var path = Path.Combine(Directory.CreateDirectory(Path.Combine(folder, "fake-" + Guid.NewGuid().ToString("N")[..8])).FullName, name);
        File.WriteAllText(path, "#!/bin/sh\n" + body + "\n");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return path;
    }
}
