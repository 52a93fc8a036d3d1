using System.Text;
using VideoEncode.Worker.Media;

namespace VideoEncode.Worker.Tests;

public sealed class PlaylistsTests
{
    [Theory]
    [InlineData("#EXTM3U\n#EXTINF:10,\n/etc/secret.ts\n", "HLS playlist")]
    [InlineData("\uFEFF  \r\n#EXTM3U\n", "HLS playlist")]
    [InlineData("#extm3u\n", "HLS playlist")]
    [InlineData("ffconcat version 1.0\nfile /elsewhere/a.mp4\n", "ffconcat playlist")]
    [InlineData("<?xml version=\"1.0\"?>\n<MPD xmlns=\"urn:mpeg:dash:schema:mpd:2011\">", "DASH playlist")]
    [InlineData("\n<MPD type=\"static\">", "DASH playlist")]
    public void APlaylistIsKnownByItsFirstBytes(string head, string named) =>
        Assert.Contains(named, Playlists.Sniff(Encoding.UTF8.GetBytes(head)));

    [Theory]
    [InlineData("\0\0\0\u0020ftypisom\0\0\u0002\0isomiso2avc1mp41")]
    [InlineData("\u001aE\u00df\u00a3\u00a3B\u0086\u0081\u0001")]
    [InlineData("")]
    [InlineData("RIFF....AVI LIST <MPD")]
    [InlineData("a video about #EXTM3U files")]
    public void MediaFilesAreNotPlaylists(string head) => Assert.Null(Playlists.Sniff(Encoding.Latin1.GetBytes(head)));

    [Theory]
    [InlineData("hls", "hls")]
    [InlineData("applehttp", "applehttp")]
    [InlineData("concat", "concat")]
    [InlineData("dash", "dash")]
    [InlineData("mov,mp4,m4a,3gp,3g2,mj2", null)]
    [InlineData("matroska,webm", null)]
    [InlineData(null, null)]
    public void PlaylistFormatsAreKnownByFfprobesName(string? formatName, string? playlist) =>
        Assert.Equal(playlist, Playlists.Format(formatName));
}
