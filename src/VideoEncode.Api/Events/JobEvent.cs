using System.Globalization;
using System.Text;
using VideoEncode.Api.Changes;

namespace VideoEncode.Api.Events;

/// <summary>
/// One change to a job, as the event stream sends it: an id to resume from, a type and the job's JSON.
/// Its Server-Sent Events bytes are made once, by the first stream that writes it, and shared by every
/// stream and by the replay window; the change it came from is let go then.
/// </summary>
public sealed class JobEvent
{
    /// <summary>The id of a passing event (<see cref="JobEvents.PublishTransient"/>): it is sent without one.</summary>
    public const long NoId = 0;

    private readonly object encoding = new();
    private ChangeNotice? notice;
    private byte[]? sse;

    public JobEvent(long id, ChangeNotice notice)
    {
        (Id, Type, this.notice) = (id, notice.Type, notice);
    }

    private JobEvent(long id, string type, string data)
    {
        (Id, Type, sse) = (id, type, Encode(id, type, data));
    }

    /// <summary>Tells a client that changes it has not seen are gone, up to <paramref name="newestId"/>: it should reload what it shows.</summary>
    public static JobEvent Reset(long newestId) => new(newestId, "reset", "{}");

    public long Id { get; }
    public string Type { get; }

    /// <summary>"id: …\nevent: …\ndata: …\n\n" in UTF-8 (no id line for a passing event).</summary>
    public ReadOnlyMemory<byte> Sse
    {
        get
        {
            if (Volatile.Read(ref sse) is { } made) return made;
            lock (encoding)
            {
                if (sse is null)
                {
                    sse = Encode(Id, Type, notice!.Data);
                    notice = null;
                }
                return sse;
            }
        }
    }

    private static byte[] Encode(long id, string type, string data)
    {
        // The JSON is written without indentation, so it holds no line break that would end the data line.
        var head = id == NoId
            ? string.Create(CultureInfo.InvariantCulture, $"event: {type}\ndata: ")
            : string.Create(CultureInfo.InvariantCulture, $"id: {id}\nevent: {type}\ndata: ");
        var bytes = new byte[Encoding.UTF8.GetByteCount(head) + Encoding.UTF8.GetByteCount(data) + 2];
        var length = Encoding.UTF8.GetBytes(head, bytes);
        length += Encoding.UTF8.GetBytes(data, bytes.AsSpan(length));
        bytes[length] = (byte)'\n';
        bytes[length + 1] = (byte)'\n';
        return bytes;
    }
}
