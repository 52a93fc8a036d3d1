using System.Globalization;
using System.Text;
using VideoEncode.Contracts;
using VideoEncode.Worker.Media;

namespace VideoEncode.Worker.Tasks;

/// <summary>
/// How a sprite sheet is laid out: one picture every <paramref name="EverySeconds"/>, <paramref name="Count"/> of them,
/// left to right then top to bottom in <paramref name="Columns"/> × <paramref name="Rows"/> tiles of
/// <paramref name="TileWidth"/> × <paramref name="TileHeight"/> pixels, no margins.
/// </summary>
public sealed record SpriteLayout(int EverySeconds, int Count, int Columns, int Rows, int TileWidth, int TileHeight)
{
    public int SheetWidth => Columns * TileWidth;
    public int SheetHeight => Rows * TileHeight;
}

/// <summary>
/// The pure parts of a thumbnails task (<see cref="ThumbnailsWork"/>): the sprite's layout, the ffmpeg arguments of the
/// sprite and the poster, and the WebVTT storyboard whose cues point into the sprite (<c>sprite.jpg#xywh=x,y,w,h</c>).
/// </summary>
public static class Storyboard
{
    /// <summary>Pictures side by side in a row of the sheet.</summary>
    public const int MaxColumns = 10;

    /// <summary>
    /// The tallest sheet made, in pixels (the largest texture many GPUs and browsers take): a long input gets a picture
    /// less often than asked rather than a sheet no player shows. At 90 pixels a picture that is 1,820 pictures.
    /// </summary>
    public const int MaxSheetSide = 16384;

    /// <summary>The poster is the input's width, at most this many pixels.</summary>
    public const int MaxPosterWidth = 1280;

    /// <summary>Inputs shorter than this get their first picture as the poster; longer ones the picture at a tenth of their length (past a title's black).</summary>
    private const double PosterFromStartBelowSeconds = 2;

    /// <summary>JPEG quality on ffmpeg's mjpeg scale (2 best … 31 worst): the poster is looked at, the sprite's pictures are small.</summary>
    private const string PosterQuality = "2";
    private const string SpriteQuality = "4";

    /// <summary>
    /// The sheet for an input of <paramref name="durationSeconds"/> and <paramref name="inputWidth"/> × <paramref name="inputHeight"/>:
    /// a picture every <see cref="ThumbnailsSpec.EverySeconds"/> (less often when the sheet would pass <see cref="MaxSheetSide"/>),
    /// covering the whole input; each <see cref="ThumbnailsSpec.Width"/> wide and as high as scale=W:-2 makes it.
    /// </summary>
    public static SpriteLayout Layout(ThumbnailsSpec spec, double durationSeconds, int inputWidth, int inputHeight)
    {
        var tileHeight = Math.Max(2, PackageArguments.EvenScaled(spec.Width, inputHeight, inputWidth));
        var most = MaxColumns * Math.Max(1, MaxSheetSide / tileHeight);
        var every = Math.Max(Math.Max(1, spec.EverySeconds), (int)Math.Ceiling(durationSeconds / most));
        // A last stretch shorter than a millisecond would be a cue that starts where it ends.
        var count = Math.Max(1, (int)Math.Ceiling((durationSeconds - 0.001) / every));
        var columns = Math.Min(MaxColumns, count);
        return new SpriteLayout(every, count, columns, (count + columns - 1) / columns, spec.Width, tileHeight);
    }

    /// <summary>
    /// One run that decodes the input once and keeps, for each stretch, its first frame (the first at or after k × every
    /// seconds; the last frame repeated when the video ends before the input does), scaled and tiled into one JPEG.
    /// The decoded video also goes to a null output, so the progress ffmpeg reports moves with the decode: the sheet's
    /// only frame comes at the very end, and the stall watchdog must not take the wait for a hang.
    /// </summary>
    public static IReadOnlyList<string> SpriteArguments(string input, string output, SpriteLayout layout, bool toneMap)
    {
        var every = layout.EverySeconds.ToString(CultureInfo.InvariantCulture);
        List<string> chain =
        [
            $"tpad=stop_mode=clone:stop_duration={every}",
            $"select='lt(selected_n,{layout.Count})*gte(t,selected_n*{every})'",
            $"scale={layout.TileWidth}:-2",
            .. toneMap ? EncodeArguments.ToneMapFilters(tenBit: false) : [],
            $"tile={layout.Columns}x{layout.Rows}",
        ];
        return
        [
            "-hide_banner", "-nostdin", "-y", .. Ffmpeg.InputArguments(input),
            "-filter_complex", $"[0:v:0]{string.Join(',', chain)}[sprite]",
            "-progress", "pipe:1", "-nostats",
            "-map", "0:v:0", "-f", "null", "-",
            "-map", "[sprite]", "-frames:v", "1", "-update", "1", "-q:v", SpriteQuality, "-f", "image2", output,
        ];
    }

    /// <summary>One frame at <see cref="PosterSeconds"/>, the input's width up to <see cref="MaxPosterWidth"/>, as a JPEG.</summary>
    public static IReadOnlyList<string> PosterArguments(string input, string output, double durationSeconds, int inputWidth, bool toneMap)
    {
        var at = PosterSeconds(durationSeconds);
        List<string> filters = [$"scale={Math.Min(inputWidth, MaxPosterWidth)}:-2", .. toneMap ? EncodeArguments.ToneMapFilters(tenBit: false) : []];
        return
        [
            "-hide_banner", "-nostdin", "-y",
            // Before the input: ffmpeg seeks to the keyframe before and decodes on to the very time, quickly.
            .. at > 0 ? new[] { "-ss", at.ToString("0.###", CultureInfo.InvariantCulture) } : [],
            .. Ffmpeg.InputArguments(input),
            "-map", "0:v:0", "-vf", string.Join(',', filters), "-frames:v", "1", "-update", "1", "-q:v", PosterQuality,
            "-progress", "pipe:1", "-nostats", "-f", "image2", output,
        ];
    }

    public static double PosterSeconds(double durationSeconds) =>
        durationSeconds < PosterFromStartBelowSeconds ? 0 : Math.Round(durationSeconds / 10, 3);

    /// <summary>
    /// The WebVTT storyboard: one cue per picture, from k × every to the next picture's time (the last to the input's
    /// end), whose text is <paramref name="sprite"/> (a URI relative to the storyboard) and the picture's place in it.
    /// </summary>
    public static string WebVtt(SpriteLayout layout, double durationSeconds, string sprite)
    {
        var text = new StringBuilder("WEBVTT\n");
        for (var index = 0; index < layout.Count; index++)
        {
            var start = (double)index * layout.EverySeconds;
            var end = index == layout.Count - 1 ? durationSeconds : start + layout.EverySeconds;
            var (x, y) = (index % layout.Columns * layout.TileWidth, index / layout.Columns * layout.TileHeight);
            text.Append($"\n{Timestamp(start)} --> {Timestamp(end)}\n{sprite}#xywh={x},{y},{layout.TileWidth},{layout.TileHeight}\n");
        }
        return text.ToString();
    }

    /// <summary>A WebVTT timestamp, hours always written: "01:02:03.045".</summary>
    public static string Timestamp(double seconds)
    {
        var milliseconds = (long)Math.Round(seconds * 1000, MidpointRounding.AwayFromZero);
        return string.Create(CultureInfo.InvariantCulture,
            $"{milliseconds / 3_600_000:00}:{milliseconds / 60_000 % 60:00}:{milliseconds / 1000 % 60:00}.{milliseconds % 1000:000}");
    }
}
