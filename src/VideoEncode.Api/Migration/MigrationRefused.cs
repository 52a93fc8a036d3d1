namespace VideoEncode.Api.Migration;

/// <summary>Why `migrate` will not copy (no source file, a target that already holds a queue), in one line for the operator.</summary>
internal sealed class MigrationRefused(string message) : Exception(message);
