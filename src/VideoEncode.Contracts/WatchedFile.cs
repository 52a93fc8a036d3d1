namespace VideoEncode.Contracts;

/// <summary>
/// A job's "source" on the wire: the file a watched folder found, as {"path", "size", "mtime"}.
/// The host enqueues each (path, size, mtime) once, in the job's own transaction; a second enqueue
/// of the same file answers 409 with the job it became. A file whose size or mtime changed is a new file.
/// </summary>
/// <param name="Path">Where the file is, relative to the media root: the job's file_name for a shared-folder job, so watchers on different machines that mount one share agree.</param>
/// <param name="Size">Its length in bytes.</param>
/// <param name="Mtime">Its last-write time in unix milliseconds.</param>
public sealed record WatchedFile(string Path, long Size, long Mtime);
