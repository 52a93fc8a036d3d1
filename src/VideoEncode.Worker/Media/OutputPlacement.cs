namespace VideoEncode.Worker.Media;

/// <summary>
/// The rule for putting a result in place. A file already at the output is replaced only when
/// the job says overwrite, and even then never inside the input folder (when --output is, or lies
/// inside, --input), where it may be another job's input. Nothing here ever writes through a
/// link: the result arrives by rename.
/// </summary>
public static class OutputPlacement
{
    /// <summary>Why the result may not go to its output as things stand, or null when it may. Asked before encoding, to save the time.</summary>
    public static string? Refusal(JobPaths paths, bool overwrite)
    {
        // File.Exists counts a link too, even one that leads nowhere.
        if (!File.Exists(paths.Output) && !Directory.Exists(paths.Output)) return null;
        if (!overwrite) return $"output exists: {paths.OutputName} (the job does not allow overwriting it)";
        if (Directory.Exists(paths.Output)) return $"output exists: {paths.OutputName} is a folder";
        if (paths.OutputInsideInput)
            return $"will not replace {paths.OutputName}: it lies in the input folder, where it may be another job's input (use an --output outside --input)";
        return null;
    }

    /// <summary>
    /// Moves the finished temporary file to the output; null when done, or why not (the temporary
    /// file then stays where it is). Unless the output may be replaced, the move itself refuses an
    /// existing one (.NET links the new name and unlinks the old, and link fails on an existing
    /// name), so a file that appeared during the encode is not replaced either.
    /// </summary>
    public static string? Place(string temporary, JobPaths paths, bool overwrite)
    {
        try
        {
            File.Move(temporary, paths.Output, overwrite: overwrite && !paths.OutputInsideInput);
            return null;
        }
        catch (IOException) when (Refusal(paths, overwrite) is { } refusal)
        {
            return refusal;
        }
    }
}
