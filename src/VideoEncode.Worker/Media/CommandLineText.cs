namespace VideoEncode.Worker.Media;

/// <summary>
/// A program and its argument list as one line a person can read and paste into a POSIX shell: an
/// argument with anything but plain characters (spaces, quotes, $, ?, non-ASCII) goes in single
/// quotes. Only for showing: ffmpeg itself gets the list, never this line.
/// </summary>
public static class CommandLineText
{
    private const string PlainPunctuation = "-_./:=+,@%";

    /// <summary>The line, cut to <paramref name="maxChars"/> (ending in "…" when cut).</summary>
    public static string Render(string program, IEnumerable<string> arguments, int maxChars)
    {
        var line = string.Join(' ', arguments.Prepend(program).Select(Quote));
        return line.Length <= maxChars ? line : line[..(maxChars - 1)] + "…";
    }

    private static string Quote(string argument) =>
        argument.Length > 0 && argument.All(c => char.IsAsciiLetterOrDigit(c) || PlainPunctuation.Contains(c))
            ? argument
            : "'" + argument.Replace("'", "'\\''") + "'";
}
