using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using Dapper;
using VideoEncode.Api.Auth;
using VideoEncode.Api.Database;
using VideoEncode.Api.Jobs;
using VideoEncode.Api.Uploads;
using VideoEncode.Api.Upkeep;
using VideoEncode.Contracts;
using static VideoEncode.Testing.TusCalls;

namespace VideoEncode.Api.Tests;

/// <summary>
/// The tus 1.0 server at /api/uploads, held to its spec's own examples (core, creation, expiration,
/// checksum, termination), and the jobs' media downloads. On both stores.
/// </summary>
public sealed class UploadTests : IDisposable
{
    private readonly ManualClock clock = new();
    private readonly List<QueueFactory> hosts = [];

    public void Dispose()
    {
        foreach (var host in hosts) host.Dispose();
    }

    private (QueueFactory Host, HttpClient Client) Start(params (string Name, string Value)[] settings)
    {
        var all = new Dictionary<string, string?>
        {
            ["LeaseSweepSeconds"] = "3600", // the upkeep (and its sweep) runs when the test says so
            ["LeaderLeaseSeconds"] = "7200",
            ["MediaReserveBytes"] = "0",
        };
        foreach (var (name, value) in settings) all[name] = value;
        var host = new QueueFactory(settings: all, clock: clock);
        hosts.Add(host);
        return (host, host.CreateApiClient());
    }

    /// <summary>A host on real Kestrel (a real socket to cut), with a client that sends the key; on the test's clock when it says so.</summary>
    private (QueueFactory Host, HttpClient Client) StartOnLoopback(bool manualClock = false, params (string Name, string Value)[] settings)
    {
        var all = new Dictionary<string, string?> { ["MediaReserveBytes"] = "0" };
        foreach (var (name, value) in settings) all[name] = value;
        var host = new QueueFactory(settings: all, clock: manualClock ? clock : null);
        hosts.Add(host);
        var client = new HttpClient { BaseAddress = host.StartOnLoopback() };
        client.DefaultRequestHeaders.Add(ApiKeyMiddleware.HeaderName, QueueFactory.ApiKey);
        return (host, client);
    }

    private static MediaStore Media(QueueFactory host) => host.GetService<MediaStore>();

    private static Task<long> CountAsync(QueueFactory host, string sql, object? parameters = null) =>
        host.GetService<IStoreSql>().ReadAsync(connection => connection.ExecuteScalarAsync<long>(sql, parameters));

    [Fact]
    public async Task OptionsNamesTheVersionExtensionsLargestUploadAndChecksums()
    {
        var (_, client) = Start(("MaxUploadBytes", "1073741824"));

        var response = await client.SendAsync(new HttpRequestMessage(HttpMethod.Options, Tus.UploadsPath));

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal(Tus.Version, Header(response, Tus.ResumableHeader));
        Assert.Equal(Tus.Version, Header(response, Tus.VersionHeader));
        Assert.Equal("1073741824", Header(response, Tus.MaxSizeHeader));
        Assert.Equal(["creation", "expiration", "checksum", "termination"], Header(response, Tus.ExtensionHeader)!.Split(','));
        var algorithms = Header(response, Tus.ChecksumAlgorithmHeader)!.Split(',');
        Assert.Contains("sha1", algorithms);
        Assert.Contains("sha256", algorithms);
    }

    /// <summary>The spec's creation, HEAD and PATCH examples in a row: a 100-byte upload cut after 70 bytes and resumed.</summary>
    [Fact]
    public async Task AnUploadIsCreatedResumedFromItsOffsetAndStoredWhole()
    {
        var (host, client) = Start();
        var bytes = RandomBytes(100);

        var created = await client.CreateAsync(100, "filename d29ybGRfZG9taW5hdGlvbl9wbGFuLnBkZg==,is_confidential");

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal(Tus.Version, Header(created, Tus.ResumableHeader));
        var location = created.Headers.Location!.OriginalString;
        Assert.Matches("^/api/uploads/[0-9a-f]{32}$", location);
        var id = location.Split('/')[^1];
        var expires = DateTimeOffset.Parse(Header(created, Tus.UploadExpiresHeader)!);
        Assert.Equal(clock.GetUtcNow().AddHours(1).ToUnixTimeSeconds(), expires.ToUnixTimeSeconds()); // until bytes arrive

        var head = await client.HeadAsync(id);
        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.Equal("0", Header(head, Tus.UploadOffsetHeader));
        Assert.Equal("100", Header(head, Tus.UploadLengthHeader));
        Assert.Equal("filename d29ybGRfZG9taW5hdGlvbl9wbGFuLnBkZg==,is_confidential", Header(head, Tus.UploadMetadataHeader));
        Assert.NotNull(Header(head, Tus.UploadExpiresHeader));
        Assert.True(head.Headers.CacheControl!.NoStore);

        var first = await client.PatchAsync(id, 0, bytes[..70]);
        Assert.Equal(HttpStatusCode.NoContent, first.StatusCode);
        Assert.Equal("70", Header(first, Tus.UploadOffsetHeader));
        Assert.Equal(clock.GetUtcNow().AddHours(24).ToUnixTimeSeconds(), DateTimeOffset.Parse(Header(first, Tus.UploadExpiresHeader)!).ToUnixTimeSeconds());
        Assert.Equal(70, await client.OffsetAsync(id));

        var wrongOffset = await client.PatchAsync(id, 0, bytes[..30]);
        Assert.Equal(HttpStatusCode.Conflict, wrongOffset.StatusCode);
        Assert.Contains("stands at 70", await QueueCalls.ErrorOf(wrongOffset));
        Assert.Equal(70, await client.OffsetAsync(id));

        var last = await client.PatchAsync(id, 70, bytes[70..]);
        Assert.Equal(HttpStatusCode.NoContent, last.StatusCode);
        Assert.Equal("100", Header(last, Tus.UploadOffsetHeader));
        Assert.Null(Header(last, Tus.UploadExpiresHeader));
        var done = await client.HeadAsync(id);
        Assert.Equal("100", Header(done, Tus.UploadOffsetHeader));
        Assert.Null(Header(done, Tus.UploadExpiresHeader));

        var upload = (await host.GetService<UploadStore>().GetAsync(id))!;
        Assert.True(upload.IsComplete);
        Assert.Equal(Sha256(bytes), upload.Sha256);
        Assert.Equal("world_domination_plan.pdf", upload.FileName);
        Assert.Equal(KeyRing.ConfiguredKeyName, upload.CreatedBy);
        Assert.Equal(bytes, await File.ReadAllBytesAsync(Media(host).CompletedPath(id)));
        Assert.False(File.Exists(Media(host).PartPath(id)));

        var more = await client.PatchAsync(id, 100, [1]);
        Assert.Equal(HttpStatusCode.Forbidden, more.StatusCode);
    }

    [Fact]
    public async Task AnEmptyUploadIsCompleteAtItsCreation()
    {
        var (host, client) = Start();
        var id = await client.NewUploadAsync(0, "empty.txt");

        var head = await client.HeadAsync(id);
        Assert.Equal("0", Header(head, Tus.UploadOffsetHeader));
        Assert.Null(Header(head, Tus.UploadExpiresHeader));
        Assert.Equal(Sha256([]), (await host.GetService<UploadStore>().GetAsync(id))!.Sha256);
        Assert.Empty(await File.ReadAllBytesAsync(Media(host).CompletedPath(id)));
    }

    [Fact]
    public async Task EveryRequestButOptionsMustSayTusResumable()
    {
        var (_, client) = Start();
        var id = await client.NewUploadAsync(10);

        var noVersion = new HttpRequestMessage(HttpMethod.Post, Tus.UploadsPath);
        noVersion.Headers.Add(Tus.UploadLengthHeader, "10");
        var oldVersion = new HttpRequestMessage(HttpMethod.Head, $"{Tus.UploadsPath}/{id}");
        oldVersion.Headers.Add(Tus.ResumableHeader, "0.2.2");

        foreach (var request in new[] { noVersion, oldVersion })
        {
            var response = await client.SendAsync(request);
            Assert.Equal(HttpStatusCode.PreconditionFailed, response.StatusCode);
            Assert.Equal(Tus.Version, Header(response, Tus.VersionHeader));
        }
    }

    [Theory]
    [InlineData(null, "Upload-Length is required")]
    [InlineData("ten", "Upload-Length is required")]
    [InlineData("-1", "Upload-Length is required")]
    public async Task ACreationWithoutAUsableLengthIs400(string? length, string message)
    {
        var (_, client) = Start();
        var request = Request(HttpMethod.Post, Tus.UploadsPath);
        if (length is not null) request.Headers.TryAddWithoutValidation(Tus.UploadLengthHeader, length);
        var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(message, await QueueCalls.ErrorOf(response));
    }

    [Theory]
    [InlineData("filename not-base64!", "not base64")]
    [InlineData("filename YQ==,filename Yg==", "appears twice")]
    [InlineData("file name YQ==", "is not a pair")]
    [InlineData(",", "is not a pair")]
    public async Task MalformedMetadataIs400(string metadata, string message)
    {
        var (_, client) = Start();
        var response = await client.CreateAsync(10, metadata);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(message, await QueueCalls.ErrorOf(response));
    }

    [Theory]
    [InlineData("../../etc/passwd", "passwd")]
    [InlineData("C:\\Users\\me\\clip.mkv", "clip.mkv")]
    [InlineData("evil\u202Evkm.mp4\u0007 ", "evilvkm.mp4")]
    [InlineData("C:clip.mkv", "C_clip.mkv")]
    [InlineData("what? <now>.mkv", "what_ _now_.mkv")]
    [InlineData("..", "upload")]
    [InlineData("   ", "upload")]
    public async Task TheFileNameIsMadeSafe(string sent, string stored)
    {
        var (host, client) = Start();
        var id = await client.NewUploadAsync(1, sent, "text/html; charset=utf-8");
        var upload = (await host.GetService<UploadStore>().GetAsync(id))!;
        Assert.Equal(stored, upload.FileName);
        Assert.Null(FileNames.Problem(upload.FileName));
        Assert.Null(upload.ContentType); // parameters make it no plain media type
    }

    [Fact]
    public async Task AnUploadLargerThanMaxUploadBytesIs413()
    {
        var (host, client) = Start(("MaxUploadBytes", "1000"));
        Assert.Equal(HttpStatusCode.Created, (await client.CreateAsync(1000)).StatusCode);
        var response = await client.CreateAsync(1001);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Contains("1000 bytes", await QueueCalls.ErrorOf(response));
        Assert.Equal(1, await CountAsync(host, "SELECT COUNT(*) FROM uploads"));
    }

    [Fact]
    public async Task AnUploadThatWouldEatIntoTheReserveIs507AndStoresNothing()
    {
        var (host, client) = Start(("MediaReserveBytes", long.MaxValue.ToString()));

        var response = await client.CreateAsync(10, $"filename {Base64("a.mkv")}");

        Assert.Equal(HttpStatusCode.InsufficientStorage, response.StatusCode);
        Assert.Contains("MediaReserveBytes", await QueueCalls.ErrorOf(response));
        Assert.Equal(0, await CountAsync(host, "SELECT COUNT(*) FROM uploads"));
        Assert.Empty(Directory.EnumerateFiles(Media(host).Root, "*", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task BytesPromisedToUploadsUnderWayCountAgainstTheReserve()
    {
        var (host, client) = Start(("MaxUploadBytes", long.MaxValue.ToString()));
        // Six tenths of the free space (what other programs do to the disk meanwhile cannot move it that far):
        // one such upload fits, a second beside it does not, and it does once the first is gone.
        var large = Media(host).FreeBytes() / 10 * 6;
        var first = await client.NewUploadAsync(large);
        Assert.Equal(HttpStatusCode.InsufficientStorage, (await client.CreateAsync(large)).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await client.SendAsync(Request(HttpMethod.Delete, $"{Tus.UploadsPath}/{first}"))).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await client.CreateAsync(large)).StatusCode);
    }

    /// <summary>
    /// A key's unfinished uploads may reserve at most MaxReservedUploadBytesPerKey (twice MaxUploadBytes unless set): past
    /// it a creation is 429 and stores nothing; other keys are not held back, and bytes that arrive free the key's share.
    /// </summary>
    [Fact]
    public async Task AKeyCannotReserveMoreThanItsShareOfTheMediaStore()
    {
        var (host, admin) = Start(("MaxUploadBytes", "100"));
        var person = host.CreateApiClient(await KeyCalls.CreateKeyAsync(admin, "person", Roles.Submit));
        var other = host.CreateApiClient(await KeyCalls.CreateKeyAsync(admin, "other", Roles.Worker));
        var first = await person.NewUploadAsync(100);
        await person.NewUploadAsync(60);

        var refused = await person.CreateAsync(41);

        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        var message = await QueueCalls.ErrorOf(refused);
        Assert.Contains("Key 'person' already holds 160 bytes reserved", message);
        Assert.Contains("VIDEOENCODE_MAXRESERVEDUPLOADBYTESPERKEY", message);
        Assert.Equal(2, await CountAsync(host, "SELECT COUNT(*) FROM uploads WHERE created_by = 'person'"));
        Assert.Equal(2, Directory.EnumerateFiles(Media(host).ReceivingRoot).Count());
        Assert.Equal(HttpStatusCode.Created, (await other.CreateAsync(100)).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await person.CreateAsync(40)).StatusCode);

        Assert.Equal(HttpStatusCode.NoContent, (await person.PatchAsync(first, 0, new byte[50])).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await person.CreateAsync(50)).StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, (await person.CreateAsync(1)).StatusCode);
    }

    [Fact]
    public void AShareOfReservationsBelowTheLargestUploadIsRefusedAtStart()
    {
        var options = new Configuration.QueueOptions { MaxUploadBytes = 1000, MaxReservedUploadBytesPerKey = 999 };
        var result = new Configuration.QueueOptionsValidation(sharedStore: false).Validate(null, options);
        Assert.Equal("MaxReservedUploadBytesPerKey must be at least MaxUploadBytes (1000), or unset for twice that " +
                     "(set VIDEOENCODE_MAXRESERVEDUPLOADBYTESPERKEY), not 999.", Assert.Single(result.Failures!));
        Assert.Equal(2000, new Configuration.QueueOptions { MaxUploadBytes = 1000 }.ReservedUploadBytesPerKey);
        Assert.Equal(long.MaxValue, new Configuration.QueueOptions { MaxUploadBytes = long.MaxValue }.ReservedUploadBytesPerKey);
    }

    /// <summary>An upload nothing was sent to expires within the hour (its reservation with it); one that got bytes, UploadExpiryHours after the last.</summary>
    [Fact]
    [Trait("Store", TestStore.Contract)]
    public async Task AnUploadThatReceivesNothingWithinAnHourExpiresAndIsSwept()
    {
        var (host, client) = Start(("UploadExpiryHours", "24"));
        var idle = await client.NewUploadAsync(10);
        var started = await client.NewUploadAsync(10);
        Assert.Equal(HttpStatusCode.NoContent, (await client.PatchAsync(started, 0, new byte[1])).StatusCode);

        clock.Advance(TimeSpan.FromMinutes(61));
        Assert.Equal(HttpStatusCode.Gone, (await client.HeadAsync(idle)).StatusCode);
        await host.GetService<UpkeepLoop>().RunRoundAsync();

        Assert.Equal(HttpStatusCode.NotFound, (await client.HeadAsync(idle)).StatusCode);
        Assert.False(File.Exists(Media(host).PartPath(idle)));
        Assert.Equal(1, await client.OffsetAsync(started));
    }

    /// <summary>Admins list the uploads — whose key made each (its name), size, bytes received, expiry — and may delete one.</summary>
    [Fact]
    public async Task AdminsListTheUploadsWithTheirKeysAndDeleteThem()
    {
        var (host, admin) = Start();
        var secret = await KeyCalls.CreateKeyAsync(admin, "person", Roles.Submit);
        var person = host.CreateApiClient(secret);
        var unfinished = await person.NewUploadAsync(10, "clip.mkv");
        Assert.Equal(HttpStatusCode.NoContent, (await person.PatchAsync(unfinished, 0, new byte[4])).StatusCode);
        clock.Advance(TimeSpan.FromSeconds(1));
        var complete = await admin.UploadAsync(RandomBytes(3));

        var listed = await admin.GetAsync($"{Tus.UploadsPath}?status=all");

        Assert.Equal(HttpStatusCode.OK, listed.StatusCode);
        var json = await listed.Content.ReadAsStringAsync();
        Assert.DoesNotContain(secret, json);
        Assert.DoesNotContain(QueueFactory.ApiKey, json);
        var uploads = System.Text.Json.JsonSerializer.Deserialize<UploadListing[]>(json, WireJson.Options)!;
        Assert.Equal([complete, unfinished], uploads.Select(upload => upload.Id));
        var now = clock.GetUtcNow().ToUnixTimeSeconds();
        Assert.Equal(new UploadListing(unfinished, "person", "clip.mkv", 10, 4, now - 1, now - 1 + 24 * 3600, null), uploads[1]);
        Assert.Equal(Auth.KeyRing.ConfiguredKeyName, uploads[0].Key);
        Assert.NotNull(uploads[0].CompletedAt);
        Assert.Equal([unfinished], (await admin.GetFromJsonAsync<UploadListing[]>($"{Tus.UploadsPath}?status=unfinished", WireJson.Options))!.Select(upload => upload.Id));
        Assert.Equal(HttpStatusCode.BadRequest, (await admin.GetAsync($"{Tus.UploadsPath}?status=old")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await admin.GetAsync($"{Tus.UploadsPath}?limit=0")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await person.GetAsync(Tus.UploadsPath)).StatusCode);

        Assert.Equal(HttpStatusCode.NoContent, (await admin.SendAsync(Request(HttpMethod.Delete, $"{Tus.UploadsPath}/{unfinished}"))).StatusCode);
        Assert.Equal([complete], (await admin.GetFromJsonAsync<UploadListing[]>(Tus.UploadsPath, WireJson.Options))!.Select(upload => upload.Id));
        Assert.False(File.Exists(Media(host).PartPath(unfinished)));
    }

    [Fact]
    public async Task APatchWithoutTheOffsetStreamContentTypeIs415()
    {
        var (_, client) = Start();
        var id = await client.NewUploadAsync(3);
        var response = await client.PatchAsync(id, 0, [1, 2, 3], contentType: "application/octet-stream");
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        Assert.Equal(0, await client.OffsetAsync(id));
    }

    [Fact]
    public async Task ABodyLongerThanWhatRemainsIs413AndNothingOfItIsKept()
    {
        var (host, client) = Start();
        var id = await client.NewUploadAsync(10);
        Assert.Equal(HttpStatusCode.NoContent, (await client.PatchAsync(id, 0, new byte[4])).StatusCode);
        var response = await client.PatchAsync(id, 4, new byte[7]);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal(4, await client.OffsetAsync(id));
        Assert.Equal(4, new FileInfo(Media(host).PartPath(id)).Length);
    }

    /// <summary>The spec's checksum example ("hello world", sha1), the same with sha256, and a mismatch.</summary>
    [Theory]
    [InlineData("sha1 Kq5sNclPz7QV2+lfQIuc6R7oRu0=")]
    [InlineData("sha256 uU0nuZNNPgilLlLX2n2r+sSE7+N6U4DukIj3rOLvzek=")]
    [InlineData("md5 XrY7u+Ae7tCTyyK7j1rNww==")]
    public async Task AChunkMatchingItsChecksumIsStored(string checksum)
    {
        var (host, client) = Start();
        var id = await client.NewUploadAsync(22);
        var response = await client.PatchAsync(id, 0, Encoding.ASCII.GetBytes("hello world"), checksum);
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal("11", Header(response, Tus.UploadOffsetHeader));
        // The running whole-file hash survives a checked chunk.
        Assert.Equal(HttpStatusCode.NoContent, (await client.PatchAsync(id, 11, Encoding.ASCII.GetBytes("hello world"))).StatusCode);
        Assert.Equal(Sha256(Encoding.ASCII.GetBytes("hello worldhello world")), (await host.GetService<UploadStore>().GetAsync(id))!.Sha256);
    }

    [Theory]
    [InlineData("sha1")]
    [InlineData("sha256")]
    public async Task AChunkNotMatchingItsChecksumIs460AndIsDiscarded(string algorithm)
    {
        var (host, client) = Start();
        var bytes = RandomBytes(64);
        var id = await client.NewUploadAsync(bytes.Length);
        Assert.Equal(HttpStatusCode.NoContent, (await client.PatchAsync(id, 0, bytes[..16])).StatusCode);
        var wrong = $"{algorithm} {Convert.ToBase64String(algorithm == "sha1" ? new byte[20] : new byte[32])}";

        var response = await client.PatchAsync(id, 16, bytes[16..], wrong);

        Assert.Equal(Tus.ChecksumMismatchStatus, (int)response.StatusCode);
        Assert.Contains("stays at offset 16", await QueueCalls.ErrorOf(response));
        Assert.Equal(16, await client.OffsetAsync(id));
        Assert.Equal(16, new FileInfo(Media(host).PartPath(id)).Length);
        // The same bytes with no checksum (or the right one) go on from there, and the file is what was sent.
        Assert.Equal(HttpStatusCode.NoContent, (await client.PatchAsync(id, 16, bytes[16..])).StatusCode);
        Assert.Equal(Sha256(bytes), (await host.GetService<UploadStore>().GetAsync(id))!.Sha256);
        Assert.Equal(bytes, await File.ReadAllBytesAsync(Media(host).CompletedPath(id)));
    }

    [Theory]
    [InlineData("crc32 AAAAAA==", "not supported")]
    [InlineData("sha1", "an algorithm and a base64 digest")]
    [InlineData("sha1 ***", "not base64")]
    public async Task AnUnusableChecksumIs400(string checksum, string message)
    {
        var (_, client) = Start();
        var id = await client.NewUploadAsync(3);
        var response = await client.PatchAsync(id, 0, [1, 2, 3], checksum);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(message, await QueueCalls.ErrorOf(response));
        Assert.Equal(0, await client.OffsetAsync(id));
    }

    /// <summary>
    /// A PATCH whose connection closes after a random number of bytes, resumed as a tus client does (HEAD,
    /// then PATCH from there; a 409 while the host still winds up the broken request means: ask again): the
    /// stored file is bit for bit what was sent. The host keeps every byte it had read (Kestrel drops what it
    /// had buffered but not yet handed over when a client disconnects, so HEAD may say a little less than was sent).
    /// </summary>
    [Fact]
    public async Task AnUploadCutMidwayResumesFromTheOffsetHeadReportsAndIsStoredBitForBit()
    {
        var (host, client) = StartOnLoopback();
        var bytes = RandomBytes(3 * UploadReceiver.BufferBytes + Random.Shared.Next(1, 1000));
        var id = await client.NewUploadAsync(bytes.Length, "cut.bin");
        var cutAt = Random.Shared.Next(1, bytes.Length);

        using (var socket = await StartPatchAsync(client.BaseAddress!, id, 0, bytes.Length))
            await socket.GetStream().WriteAsync(bytes.AsMemory(0, cutAt)); // then the connection closes, short of its Content-Length

        var kept = new List<long>();
        await Eventually.TrueAsync(async () =>
        {
            var offset = await client.OffsetAsync(id);
            kept.Add(offset);
            var resumed = await client.PatchAsync(id, offset, bytes[(int)offset..]);
            return resumed.StatusCode == HttpStatusCode.NoContent;
        }, () => $"never resumed; HEAD said {string.Join(", ", kept)}");
        Assert.InRange(kept[^1], 0, cutAt);
        Assert.Equal(Sha256(bytes), (await host.GetService<UploadStore>().GetAsync(id))!.Sha256);
        Assert.Equal(Sha256(bytes), Sha256(await File.ReadAllBytesAsync(Media(host).CompletedPath(id))));
    }

    [Fact]
    public async Task APatchWhileAnotherWritesTheSameUploadIsRefusedWith409()
    {
        var (_, client) = StartOnLoopback();
        const int length = 8 * 1024 * 1024;
        var id = await client.NewUploadAsync(length);
        var sent = 0;

        var socket = await StartPatchAsync(client.BaseAddress!, id, 0, length);
        try
        {
            // The first PATCH keeps sending (slower than Kestrel's minimum data rate, it would be cut off) while a second
            // one, too long for the upload, comes in: answered 413 unless refused first for the PATCH under way. The
            // second may come in before the first has begun, and then the first is the one refused (its connection
            // closed): it is started again from where the upload stands.
            await Eventually.TrueAsync(async () =>
            {
                try
                {
                    await socket.GetStream().WriteAsync(new byte[4096]);
                    sent += 4096;
                }
                catch (IOException)
                {
                    socket.Dispose();
                    var offset = await client.OffsetAsync(id);
                    socket = await StartPatchAsync(client.BaseAddress!, id, offset, length - offset);
                    return false;
                }
                return (await client.PatchAsync(id, 0, new byte[length + 1])).StatusCode == HttpStatusCode.Conflict;
            }, () => "the second PATCH was not refused while the first wrote");
            var busy = await client.PatchAsync(id, 0, new byte[length + 1]);
            Assert.Contains("Another request is writing", await QueueCalls.ErrorOf(busy));
        }
        finally
        {
            socket.Dispose();
        }
        // Once the first has ended (cut off), the upload stands where it left off.
        long offset = -1;
        await Eventually.TrueAsync(async () => (await client.PatchAsync(id, offset = await client.OffsetAsync(id), [])).StatusCode == HttpStatusCode.NoContent,
            () => $"the upload stayed busy at {offset}");
        Assert.InRange(offset, 0, sent);
    }

    /// <summary>
    /// The expiry is looked at as a PATCH starts; one that is still writing when that time comes keeps its upload, as
    /// its expiry is moved on while it runs, and the sweep leaves it alone.
    /// </summary>
    [Fact]
    public async Task APatchStillWritingPastTheExpiryItStartedWithKeepsItsUpload()
    {
        var (host, client) = StartOnLoopback(manualClock: true, ("UploadExpiryHours", "1"), ("LeaseSweepSeconds", "3600"), ("LeaderLeaseSeconds", "7200"));
        const int length = 4 * 1024 * 1024;
        var id = await client.NewUploadAsync(length);
        using var socket = await StartPatchAsync(client.BaseAddress!, id, 0, length);
        var chunk = new byte[64 * 1024]; // far above Kestrel's minimum data rate: the PATCH is never cut off for being slow
        var sent = 0;

        // Eighty minutes on the clock, four at a time, a chunk each: after each, the expiry is at least five minutes off
        // (so the next four never reach it), however late the host reads the chunk.
        for (var minutes = 4; minutes <= 80; minutes += 4)
        {
            clock.Advance(TimeSpan.FromMinutes(4));
            await socket.GetStream().WriteAsync(chunk);
            sent += chunk.Length;
            await Eventually.TrueAsync(async () => (await host.GetService<UploadStore>().GetAsync(id))!.ExpiresAt >= clock.GetUtcNow().AddMinutes(5).ToUnixTimeSeconds(),
                () => $"the expiry was not moved on {minutes} minutes into the PATCH", TimeSpan.FromSeconds(10));
        }
        await host.GetService<UpkeepLoop>().RunRoundAsync();
        Assert.Equal(HttpStatusCode.OK, (await client.HeadAsync(id)).StatusCode);

        await socket.GetStream().WriteAsync(new byte[length - sent]);
        using var answer = new StreamReader(socket.GetStream(), Encoding.ASCII);
        Assert.StartsWith("HTTP/1.1 204", await answer.ReadLineAsync());
        Assert.Equal(length, await client.OffsetAsync(id));
    }

    /// <summary>A raw HTTP/1.1 PATCH whose headers promise <paramref name="contentLength"/> bytes; the test writes (some of) them.</summary>
    private static async Task<TcpClient> StartPatchAsync(Uri address, string id, long offset, long contentLength)
    {
        var socket = new TcpClient();
        await socket.ConnectAsync(address.Host, address.Port);
        var head = $"PATCH {Tus.UploadsPath}/{id} HTTP/1.1\r\nHost: {address.Authority}\r\n{ApiKeyMiddleware.HeaderName}: {QueueFactory.ApiKey}\r\n" +
                   $"{Tus.ResumableHeader}: {Tus.Version}\r\n{Tus.UploadOffsetHeader}: {offset}\r\nContent-Type: {Tus.OffsetOctetStream}\r\n" +
                   $"Content-Length: {contentLength}\r\n\r\n";
        await socket.GetStream().WriteAsync(Encoding.ASCII.GetBytes(head));
        return socket;
    }

    [Fact]
    public async Task ATerminatedUploadIsGoneWithItsFiles()
    {
        var (host, client) = Start();
        var id = await client.NewUploadAsync(10, "gone.mkv");
        Assert.Equal(HttpStatusCode.NoContent, (await client.PatchAsync(id, 0, new byte[4])).StatusCode);

        var response = await client.SendAsync(Request(HttpMethod.Delete, $"{Tus.UploadsPath}/{id}"));

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal(Tus.Version, Header(response, Tus.ResumableHeader));
        Assert.Equal(HttpStatusCode.NotFound, (await client.HeadAsync(id)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.PatchAsync(id, 4, new byte[6])).StatusCode);
        Assert.False(File.Exists(Media(host).PartPath(id)));
        Assert.Contains("upload.delete", await client.GetStringAsync("/api/audit"));
        Assert.Equal(HttpStatusCode.NotFound, (await client.SendAsync(Request(HttpMethod.Delete, $"{Tus.UploadsPath}/{id}"))).StatusCode);
    }

    [Fact]
    [Trait("Store", TestStore.Contract)]
    public async Task AnUploadAJobRefersToCannotBeTerminated()
    {
        var (host, client) = Start();
        var id = await client.UploadAsync(RandomBytes(10));
        var job = await JobWithMediaAsync(host, client, input: id);

        var response = await client.SendAsync(Request(HttpMethod.Delete, $"{Tus.UploadsPath}/{id}"));

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Contains($"Job {job.Id} refers to upload {id}", await QueueCalls.ErrorOf(response));
        Assert.Equal(HttpStatusCode.OK, (await client.HeadAsync(id)).StatusCode);
    }

    [Fact]
    public async Task PostWithMethodOverridePatchesAndDeletes()
    {
        var (_, client) = Start();
        var id = await client.NewUploadAsync(3);
        var patch = Request(HttpMethod.Post, $"{Tus.UploadsPath}/{id}");
        patch.Headers.Add(Tus.MethodOverrideHeader, "PATCH");
        patch.Headers.Add(Tus.UploadOffsetHeader, "0");
        patch.Content = new ByteArrayContent([1, 2]);
        patch.Content.Headers.ContentType = new MediaTypeHeaderValue(Tus.OffsetOctetStream);
        Assert.Equal(HttpStatusCode.NoContent, (await client.SendAsync(patch)).StatusCode);
        Assert.Equal(2, await client.OffsetAsync(id));

        var delete = Request(HttpMethod.Post, $"{Tus.UploadsPath}/{id}");
        delete.Headers.Add(Tus.MethodOverrideHeader, "DELETE");
        Assert.Equal(HttpStatusCode.NoContent, (await client.SendAsync(delete)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.HeadAsync(id)).StatusCode);
    }

    /// <summary>Expiration: an unfinished upload past Upload-Expires is 410, then swept (404, files gone); a finished one nobody uses goes too, one a job uses stays.</summary>
    [Fact]
    [Trait("Store", TestStore.Contract)]
    public async Task TheSweepRemovesExpiredAndUnusedUploadsAndLeftoverFilesButKeepsWhatJobsUse()
    {
        var (host, client) = Start(("UploadExpiryHours", "24"));
        var unfinished = await client.NewUploadAsync(10);
        Assert.Equal(HttpStatusCode.NoContent, (await client.PatchAsync(unfinished, 0, new byte[3])).StatusCode);
        var unused = await client.UploadAsync(RandomBytes(5));
        var used = await client.UploadAsync(RandomBytes(5));
        var job = await JobWithMediaAsync(host, client, input: used);
        var leftover = Path.Combine(Media(host).CompletedRoot, MediaStore.NewId());
        await File.WriteAllBytesAsync(leftover, [1]);
        var foreign = Path.Combine(Media(host).CompletedRoot, "notes.txt"); // not the store's: never touched
        await File.WriteAllBytesAsync(foreign, [1]);

        clock.Advance(TimeSpan.FromHours(23));
        await host.GetService<UpkeepLoop>().RunRoundAsync();
        Assert.Equal(HttpStatusCode.OK, (await client.HeadAsync(unfinished)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.HeadAsync(unused)).StatusCode);

        clock.Advance(TimeSpan.FromHours(2));
        var expired = await client.HeadAsync(unfinished);
        Assert.Equal(HttpStatusCode.Gone, expired.StatusCode);
        Assert.Equal(HttpStatusCode.Gone, (await client.PatchAsync(unfinished, 3, new byte[7])).StatusCode);
        await host.GetService<UpkeepLoop>().RunRoundAsync();

        Assert.Equal(HttpStatusCode.NotFound, (await client.HeadAsync(unfinished)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.HeadAsync(unused)).StatusCode);
        Assert.False(File.Exists(Media(host).PartPath(unfinished)));
        Assert.False(File.Exists(Media(host).CompletedPath(unused)));
        Assert.False(File.Exists(leftover));
        Assert.True(File.Exists(foreign));
        Assert.Equal(HttpStatusCode.OK, (await client.HeadAsync(used)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"/api/jobs/{job.Id}/input")).StatusCode);
        Assert.Contains(host.LogLines, line => line.StartsWith("Swept 1 uploads left unfinished past their expiry, 1 completed uploads no job refers to and 1 files", StringComparison.Ordinal));
        var metrics = await client.GetStringAsync("/metrics");
        Assert.Contains("videoencode_uploads_swept_total{reason=\"expired\"} 1", metrics);
        Assert.Contains("videoencode_uploads_swept_total{reason=\"leftover\"} 1", metrics);

        // Once its job is gone (deleted here, or by retention), the upload follows at the next sweep after its expiry.
        Assert.Equal(HttpStatusCode.OK, (await client.DeleteAsync($"/api/jobs/{job.Id}")).StatusCode);
        clock.Advance(TimeSpan.FromMinutes(2)); // the sweep's next round
        await host.GetService<UpkeepLoop>().RunRoundAsync();
        Assert.Equal(HttpStatusCode.NotFound, (await client.HeadAsync(used)).StatusCode);
    }

    /// <summary>A crash after the rename into files/ but before the row said complete: the next HEAD finishes the completion.</summary>
    [Fact]
    [Trait("Store", TestStore.Contract)]
    public async Task ACompletionCutShortByACrashIsFinishedByTheNextHead()
    {
        var (host, client) = Start();
        var bytes = RandomBytes(20);
        var id = await client.NewUploadAsync(bytes.Length);
        Assert.Equal(HttpStatusCode.NoContent, (await client.PatchAsync(id, 0, bytes[..19])).StatusCode);
        // What a crash leaves: every byte flushed and renamed into place, the row still at 19.
        await File.AppendAllBytesAsync(Media(host).PartPath(id), bytes[19..]);
        File.Move(Media(host).PartPath(id), Media(host).CompletedPath(id));

        Assert.Equal(20, await client.OffsetAsync(id));

        var upload = (await host.GetService<UploadStore>().GetAsync(id))!;
        Assert.True(upload.IsComplete);
        Assert.Equal(Sha256(bytes), upload.Sha256);
    }

    /// <summary>
    /// A PATCH that brought the last byte is completing its upload (hash, rename, mark complete): a HEAD then waits for
    /// it rather than answer the old offset, which sent a client that lost that PATCH's answer back to append to an
    /// upload about to be complete (and then 403).
    /// </summary>
    [Fact]
    public async Task AHeadWhileAPatchCompletesTheUploadWaitsForItAndAnswersTheFullLength()
    {
        var (host, client) = Start();
        var bytes = RandomBytes(20);
        var id = await client.NewUploadAsync(bytes.Length);
        Assert.Equal(HttpStatusCode.NoContent, (await client.PatchAsync(id, 0, bytes[..19])).StatusCode);
        // The PATCH of the last byte, played by hand: it holds the upload, has written the byte, and is completing.
        var sessions = host.GetService<UploadSessions>();
        var patch = sessions.TryBegin(id)!;
        await File.AppendAllBytesAsync(Media(host).PartPath(id), bytes[19..]);
        patch.BeginCompleting();

        var head = client.HeadAsync(id);
        await Task.WhenAny(head, Task.Delay(TimeSpan.FromMilliseconds(300))); // time for a HEAD that does not wait to answer
        await host.GetService<UploadCompletion>().CompleteAsync((await host.GetService<UploadStore>().GetAsync(id))!, sha256: null);
        sessions.End(id, patch, forget: true);

        var answer = await head;
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.Equal("20", Header(answer, Tus.UploadOffsetHeader));
        Assert.Null(Header(answer, Tus.UploadExpiresHeader));
    }

    [Fact]
    public async Task KeysThatUploadAreSubmitWorkerAndAdminKeys()
    {
        var (host, admin) = Start();
        foreach (var role in new[] { Roles.Submit, Roles.Worker })
        {
            var client = host.CreateApiClient(await KeyCalls.CreateKeyAsync(admin, $"{role}-key", role));
            var id = await client.UploadAsync(RandomBytes(4));
            Assert.Equal(HttpStatusCode.OK, (await client.HeadAsync(id)).StatusCode);
        }
        var reader = host.CreateApiClient(await KeyCalls.CreateKeyAsync(admin, "reader", Roles.Read));
        var refused = await reader.CreateAsync(4);
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Contains("it needs admin or submit or worker", await QueueCalls.ErrorOf(refused));
        Assert.Equal(HttpStatusCode.Forbidden, (await reader.HeadAsync(await admin.NewUploadAsync(4))).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await reader.SendAsync(new HttpRequestMessage(HttpMethod.Options, Tus.UploadsPath))).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await host.CreateApiClient(key: null).CreateAsync(4)).StatusCode);
    }

    [Fact]
    public async Task ABrowserOnAnotherOriginMaySendTheTusHeaders()
    {
        var (host, client) = Start();
        var id = await client.NewUploadAsync(4);
        var preflight = new HttpRequestMessage(HttpMethod.Options, $"{Tus.UploadsPath}/{id}");
        preflight.Headers.Add("Origin", "http://example.test");
        preflight.Headers.Add("Access-Control-Request-Method", "PATCH");
        preflight.Headers.Add("Access-Control-Request-Headers", "content-type,x-api-key,tus-resumable,upload-offset,upload-checksum");

        var response = await host.CreateApiClient(key: null).SendAsync(preflight);

        Assert.True(response.IsSuccessStatusCode, response.StatusCode.ToString());
        Assert.Contains("PATCH", string.Join(",", response.Headers.GetValues("Access-Control-Allow-Methods")));
        Assert.Contains("upload-offset", string.Join(",", response.Headers.GetValues("Access-Control-Allow-Headers")), StringComparison.OrdinalIgnoreCase);
        var patch = Request(HttpMethod.Head, $"{Tus.UploadsPath}/{id}");
        patch.Headers.Add("Origin", "http://example.test");
        var head = await client.SendAsync(patch);
        Assert.Contains(Tus.UploadOffsetHeader, string.Join(",", head.Headers.GetValues("Access-Control-Expose-Headers")), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task AJobsInputDownloadsWithRangesETagAndItsFileName()
    {
        var (host, client) = Start();
        var bytes = RandomBytes(1000);
        var id = await client.UploadAsync(bytes, "clip one.mkv", "video/x-matroska");
        var job = await JobWithMediaAsync(host, client, input: id);
        var etag = $"\"{Sha256(bytes)}\"";

        var whole = await client.GetAsync($"/api/jobs/{job.Id}/input");
        Assert.Equal(HttpStatusCode.OK, whole.StatusCode);
        Assert.Equal(bytes, await whole.Content.ReadAsByteArrayAsync());
        Assert.Equal("video/x-matroska", whole.Content.Headers.ContentType!.MediaType);
        Assert.Equal("clip one.mkv", whole.Content.Headers.ContentDisposition!.FileNameStar);
        Assert.Equal(etag, whole.Headers.ETag!.Tag);
        Assert.Contains("bytes", whole.Headers.AcceptRanges);

        var range = new HttpRequestMessage(HttpMethod.Get, $"/api/jobs/{job.Id}/input");
        range.Headers.Range = new RangeHeaderValue(100, 199);
        var part = await client.SendAsync(range);
        Assert.Equal(HttpStatusCode.PartialContent, part.StatusCode);
        Assert.Equal("bytes 100-199/1000", part.Content.Headers.ContentRange!.ToString());
        Assert.Equal(bytes[100..200], await part.Content.ReadAsByteArrayAsync());

        var resumed = new HttpRequestMessage(HttpMethod.Get, $"/api/jobs/{job.Id}/input");
        resumed.Headers.Range = new RangeHeaderValue(900, null);
        resumed.Headers.IfRange = new RangeConditionHeaderValue(new EntityTagHeaderValue(etag));
        Assert.Equal(bytes[900..], await (await client.SendAsync(resumed)).Content.ReadAsByteArrayAsync());

        var cached = new HttpRequestMessage(HttpMethod.Get, $"/api/jobs/{job.Id}/input");
        cached.Headers.IfNoneMatch.Add(new EntityTagHeaderValue(etag));
        Assert.Equal(HttpStatusCode.NotModified, (await client.SendAsync(cached)).StatusCode);

        var head = await client.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"/api/jobs/{job.Id}/input"));
        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.Equal(1000, head.Content.Headers.ContentLength);
        Assert.Empty(await head.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task AJobsOutputDownloadsUnderItsOutputName()
    {
        var (host, client) = Start();
        var input = await client.UploadAsync(RandomBytes(10), "in.mkv");
        var job = await JobWithMediaAsync(host, client, input: input);
        var missing = await client.GetAsync($"/api/jobs/{job.Id}/output");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Contains("has no result in the host's media store", await QueueCalls.ErrorOf(missing));

        var result = RandomBytes(50);
        var output = await client.UploadAsync(result, "whatever-the-worker-called-it.tmp");
        await SetMediaAsync(host, job.Id, "output_upload", output);

        var response = await client.GetAsync($"/api/jobs/{job.Id}/output");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(result, await response.Content.ReadAsByteArrayAsync());
        Assert.Equal("video/mp4", response.Content.Headers.ContentType!.MediaType);
        Assert.Equal(Path.GetFileName(job.OutputName), response.Content.Headers.ContentDisposition!.FileNameStar);
    }

    [Fact]
    public async Task ADownloadWithNothingToServeIs404WithAReason()
    {
        var (host, client) = Start();
        var shared = (await client.EnqueueAsync(QueueCalls.NewJob("shared.mkv")))[0];
        var unfinished = await client.NewUploadAsync(10);
        var waiting = await JobWithMediaAsync(host, client, input: unfinished);

        Assert.Contains("shared folder", await QueueCalls.ErrorOf(await client.GetAsync($"/api/jobs/{shared.Id}/input")));
        Assert.Contains("still being uploaded: 0 of 10 bytes", await QueueCalls.ErrorOf(await client.GetAsync($"/api/jobs/{waiting.Id}/input")));
        Assert.Equal("Job not found", await QueueCalls.ErrorOf(await client.GetAsync("/api/jobs/999999/input")));
        Assert.Equal(HttpStatusCode.BadRequest, (await client.GetAsync("/api/jobs/abc/output")).StatusCode);
    }

    [Fact]
    [Trait("Store", TestStore.Contract)]
    public async Task AnUploadAJobTakesUpIsKeptAFullExpiryFromThenEvenOnceTheJobIsGone()
    {
        var (host, client) = Start(("UploadExpiryHours", "24"));
        var id = await client.UploadAsync(RandomBytes(5));
        clock.Advance(TimeSpan.FromHours(23));
        var job = await JobWithMediaAsync(host, client, input: id);
        Assert.Equal(HttpStatusCode.OK, (await client.DeleteAsync($"/api/jobs/{job.Id}")).StatusCode);

        clock.Advance(TimeSpan.FromHours(2));
        await host.GetService<UpkeepLoop>().RunRoundAsync();
        Assert.Equal(HttpStatusCode.OK, (await client.HeadAsync(id)).StatusCode);

        clock.Advance(TimeSpan.FromHours(23));
        await host.GetService<UpkeepLoop>().RunRoundAsync();
        Assert.Equal(HttpStatusCode.NotFound, (await client.HeadAsync(id)).StatusCode);
    }

    /// <summary>
    /// A job whose input is the given upload, complete or not (which the enqueue by upload_id would refuse): the
    /// upload held for the job in the write that points the job at it, as the enqueue holds it (Jobs/StoredInputs.cs).
    /// </summary>
    private async Task<Job> JobWithMediaAsync(QueueFactory host, HttpClient client, string input)
    {
        var job = (await client.EnqueueAsync(QueueCalls.NewJob($"{input}.mkv")))[0];
        await SetMediaAsync(host, job.Id, "input_upload", input);
        return job;
    }

    private Task SetMediaAsync(QueueFactory host, long job, string column, string upload) =>
        host.GetService<IStoreSql>().WriteAsync(async connection =>
        {
            await connection.ExecuteAsync("UPDATE uploads SET expires_at = @keep WHERE id = @upload AND completed_at IS NOT NULL",
                new { upload, keep = clock.GetUtcNow().ToUnixTimeSeconds() + 24 * 3600 });
            return await connection.ExecuteAsync($"UPDATE jobs SET {column} = @upload WHERE id = @job", new { upload, job });
        });
}
