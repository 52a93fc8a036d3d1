using System.Net;
using System.Net.Http.Headers;

namespace VideoEncode.Worker.Transfers;

/// <summary>A PATCH body: bytes [offset, offset + count) of a file, streamed at the transfer's pace, never held in memory whole.</summary>
internal sealed class FileSliceContent : HttpContent
{
    private readonly string path;
    private readonly long offset, count;
    private readonly TransferPace pace;

    public FileSliceContent(string path, long offset, long count, TransferPace pace)
    {
        this.path = path;
        this.offset = offset;
        this.count = count;
        this.pace = pace;
        Headers.ContentType = new MediaTypeHeaderValue("application/offset+octet-stream");
        Headers.ContentLength = count;
    }

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
        SerializeToStreamAsync(stream, context, CancellationToken.None);

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancel)
    {
        await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.Asynchronous | FileOptions.SequentialScan);
        file.Position = offset;
        await pace.CopyAsync(file, stream, count, cancel);
    }

    protected override bool TryComputeLength(out long length)
    {
        length = count;
        return true;
    }
}
