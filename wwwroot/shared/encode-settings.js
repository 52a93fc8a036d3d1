// Encode settings (a job's copy, or a profile's) in words, the same on every page. The choices
// themselves come from GET /api/encode-options; this only shows what a set of settings says.

/** Every settings field in wire order, as the API names it (a person can copy them into a request). */
export const SETTINGS_FIELDS = ['video_codec', 'encoder', 'crf', 'bitrate', 'preset', 'bit_depth', 'max_height', 'audio',
  'audio_bitrate', 'container', 'subtitles', 'audio_languages', 'subtitle_languages', 'tonemap', 'min_ssim', 'min_psnr', 'skip_if_larger',
  'package', 'thumbnails', 'split_seconds'];

/** One line: "libx265 · crf 24 · medium · 10-bit · audio copy · mkv · subtitles kept · kept only if smaller". */
export function describeSettings(settings) {
  const parts = [];
  if (settings.video_codec === 'copy') parts.push('video copied');
  else {
    parts.push(settings.encoder ?? settings.video_codec);
    parts.push(settings.crf !== null && settings.crf !== undefined ? `crf ${settings.crf}` : settings.bitrate);
    // SVT-AV1's and VP9's presets are numbers, which alone read like anything.
    parts.push(/^\d+$/.test(settings.preset ?? '') ? `preset ${settings.preset}` : settings.preset);
    if (settings.bit_depth === 10) parts.push('10-bit');
    if (settings.max_height) parts.push(`at most ${settings.max_height} lines`);
  }
  if (settings.audio) parts.push(settings.audio === 'copy' ? 'audio copied' : [settings.audio, settings.audio_bitrate].filter(Boolean).join(' '));
  parts.push(settings.container);
  if (settings.subtitles === 'copy') parts.push('subtitles kept');
  if (settings.audio_languages) parts.push(`audio in ${settings.audio_languages.join('/')}`);
  if (settings.subtitle_languages) parts.push(`subtitles in ${settings.subtitle_languages.join('/')}`);
  if (settings.tonemap) parts.push(`HDR tone-mapped to ${settings.tonemap.toUpperCase()}`);
  parts.push(...describeChecks(settings));
  if (settings.package) parts.push(`${settings.package.format.toUpperCase()} ladder ${settings.package.ladder.join('/')}`);
  if (settings.thumbnails) parts.push(`thumbnails every ${settings.thumbnails.every_seconds} s`);
  if (settings.split_seconds) parts.push(`split into ${settings.split_seconds} s chunks`);
  return parts.filter(part => part !== null && part !== undefined && part !== '').join(' · ');
}

/** The checks a result must pass: "SSIM ≥ 0.95", "PSNR ≥ 40 dB", "kept only if smaller". */
export function describeChecks(settings) {
  return [
    settings.min_ssim !== null && settings.min_ssim !== undefined ? `SSIM ≥ ${settings.min_ssim}` : null,
    settings.min_psnr !== null && settings.min_psnr !== undefined ? `PSNR ≥ ${settings.min_psnr} dB` : null,
    settings.skip_if_larger ? 'kept only if smaller' : null,
  ].filter(Boolean);
}

/** Codec and container in a few characters, for a table cell: "hevc → mkv"; null for today's h264 into MP4. */
export function codecAndContainer(settings) {
  if (!settings.container || settings.video_codec === 'h264' && settings.container === 'mp4') return null;
  return `${settings.video_codec === 'copy' ? 'copy' : settings.video_codec} → ${settings.container}`;
}

/** Each field and its value as written on the wire ("–" for none), for a settings list. */
export function settingsEntries(settings) {
  return SETTINGS_FIELDS.map(field => {
    const value = settings[field];
    return [field, value === null || value === undefined ? '–' : Array.isArray(value) ? value.join(', ')
      : typeof value === 'object' ? JSON.stringify(value) : String(value)];
  });
}
