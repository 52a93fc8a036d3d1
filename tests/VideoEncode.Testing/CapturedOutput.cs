using System.Diagnostics;
using System.Text;

namespace VideoEncode.Testing;

/// <summary>A child process's stdout and stderr, collected line by line as they come, for assertions and failure messages.</summary>
internal sealed class CapturedOutput
{
    private readonly StringBuilder text = new();

    public CapturedOutput(Process process)
    {
        process.OutputDataReceived += (_, line) => Append(line.Data);
        process.ErrorDataReceived += (_, line) => Append(line.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    private void Append(string? line)
    {
        lock (text) text.AppendLine(line);
    }

    public override string ToString()
    {
        lock (text) return text.ToString();
    }
}
