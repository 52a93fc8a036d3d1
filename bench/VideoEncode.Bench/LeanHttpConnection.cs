using System.Net.Sockets;
using System.Text;

namespace VideoEncode.Bench;

/// <summary>
/// One keep-alive HTTP/1.1 connection that writes requests and reads responses with almost no
/// work of its own. The load generator shares the host's two cores; HttpClient and full JSON
/// parsing cost more CPU per request than the host spends answering, so the cycle benchmark
/// would measure the client. This plays the part of wrk.
/// </summary>
public sealed class LeanHttpConnection : IBenchConnection
{
    private readonly Socket socket = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
    private readonly byte[] buffer;
    private readonly string host;
    private readonly string apiKey;
    private int start, end;

    private LeanHttpConnection(string host, string apiKey, int bufferBytes)
    {
        this.host = host;
        this.apiKey = apiKey;
        buffer = new byte[bufferBytes];
    }

    /// <param name="bufferBytes">The most a response may hold (64 KiB; a farm of ten thousand connections takes less each).</param>
    public static async Task<LeanHttpConnection> OpenAsync(Uri address, string apiKey, int bufferBytes = 64 * 1024)
    {
        var connection = new LeanHttpConnection($"{address.Host}:{address.Port}", apiKey, bufferBytes);
        await connection.socket.ConnectAsync(address.Host, address.Port);
        return connection;
    }

    /// <summary>Sends one request and answers the status code and the body.</summary>
    public async Task<(int Status, string Body)> SendAsync(string method, string path, string? json = null)
    {
        var body = json is null ? [] : Encoding.UTF8.GetBytes(json);
        var head = $"{method} {path} HTTP/1.1\r\nHost: {host}\r\nX-API-Key: {apiKey}\r\nContent-Length: {body.Length}\r\n" +
                   (json is null ? "" : "Content-Type: application/json\r\n") + "\r\n";
        await socket.SendAsync(Encoding.ASCII.GetBytes(head).Concat(body).ToArray());

        int headerEnd;
        while ((headerEnd = IndexOf("\r\n\r\n"u8)) < 0) await FillAsync();
        var headers = Encoding.ASCII.GetString(buffer, start, headerEnd - start);
        var status = int.Parse(headers.AsSpan(9, 3));
        var length = 0;
        var chunked = false;
        foreach (var line in headers.Split("\r\n"))
            if (line.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase))
                length = int.Parse(line.AsSpan(15).Trim());
            else if (line.StartsWith("Transfer-Encoding:", StringComparison.OrdinalIgnoreCase))
                chunked = line.Contains("chunked", StringComparison.OrdinalIgnoreCase);
        start = headerEnd + 4;
        if (!chunked) return (status, await ReadBytesAsync(length));

        var text = new StringBuilder();
        while (true)
        {
            int lineEnd;
            while ((lineEnd = IndexOf("\r\n"u8)) < 0) await FillAsync();
            var size = Convert.ToInt32(Encoding.ASCII.GetString(buffer, start, lineEnd - start).Split(';')[0], 16);
            start = lineEnd + 2;
            text.Append(await ReadBytesAsync(size));
            while (end - start < 2) await FillAsync();
            start += 2; // the CRLF after each chunk, and after the last, empty one
            if (size == 0) return (status, text.ToString());
        }
    }

    private async Task<string> ReadBytesAsync(int length)
    {
        while (end - start < length) await FillAsync();
        var text = Encoding.UTF8.GetString(buffer, start, length);
        start += length;
        return text;
    }

    private int IndexOf(ReadOnlySpan<byte> pattern)
    {
        var at = buffer.AsSpan(start, end - start).IndexOf(pattern);
        return at < 0 ? -1 : start + at;
    }

    private async Task FillAsync()
    {
        if (start > 0)
        {
            Buffer.BlockCopy(buffer, start, buffer, 0, end - start);
            end -= start;
            start = 0;
        }
        var read = await socket.ReceiveAsync(buffer.AsMemory(end));
        if (read == 0) throw new IOException("The host closed the connection.");
        end += read;
    }

    public ValueTask DisposeAsync()
    {
        socket.Dispose();
        return ValueTask.CompletedTask;
    }
}
