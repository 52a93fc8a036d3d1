// The profile form's settings fields. Every choice comes from GET /api/encode-options and follows
// the choices above it: the codec's encoders, the encoder's presets, quality scale and bit depths,
// the containers that hold the codec, and the audio that container takes. What the form cannot rule
// out (a crf above the scale, a crf and a bitrate both) the host refuses, naming the field.
import { el } from '/shared/dom.js';

const HARDWARE = { nvenc: 'NVIDIA NVENC', qsv: 'Intel Quick Sync', vaapi: 'VAAPI' };

export class SettingsForm {
  /** form: the profile form; options: the answer of GET /api/encode-options. */
  constructor(form, options) {
    this.form = form;
    this.options = options;
    const fields = form.elements;
    fill(fields.video_codec, options.video_codecs.map(codec => [codec, codec === 'copy' ? 'copy (keep the video as it is)' : codec]));
    fill(fields.subtitles, options.subtitles.map(mode => [mode, mode === 'copy' ? 'copy (keep them)' : 'drop']));
    fields.video_codec.addEventListener('change', () => this.codecChanged());
    fields.encoder.addEventListener('change', () => this.encoderChanged());
    fields.container.addEventListener('change', () => this.containerChanged());
    fields.audio.addEventListener('change', () => this.audioChanged());
  }

  /** Shows these settings (a profile's, or the defaults for a new one). */
  show(settings) {
    const fields = this.form.elements;
    fields.video_codec.value = settings.video_codec;
    this.codecChanged(settings.encoder);
    this.encoderChanged(settings.preset, settings.bit_depth);
    fields.container.value = settings.container;
    this.containerChanged(settings.audio);
    fields.crf.value = settings.crf ?? '';
    fields.bitrate.value = settings.bitrate ?? '';
    fields.max_height.value = settings.max_height ?? '';
    fields.audio_bitrate.value = settings.audio_bitrate ?? '';
    fields.subtitles.value = settings.subtitles;
    fields.min_ssim.value = settings.min_ssim ?? '';
    fields.min_psnr.value = settings.min_psnr ?? '';
    fields.skip_if_larger.checked = settings.skip_if_larger;
  }

  /** The body of PUT /api/profiles/{name}: only what the form says; fields left empty take the host's defaults. */
  read() {
    const fields = this.form.elements;
    const body = { video_codec: fields.video_codec.value };
    if (body.video_codec !== 'copy') {
      body.encoder = fields.encoder.value;
      setIfGiven(body, 'crf', fields.crf.value);
      setIfGiven(body, 'bitrate', fields.bitrate.value.trim());
      if (!fields.preset.disabled) body.preset = fields.preset.value;
      body.bit_depth = Number(fields.bit_depth.value);
      setIfGiven(body, 'max_height', numberOrText(fields.max_height.value));
    }
    body.container = fields.container.value;
    body.audio = fields.audio.value;
    if (!fields.audio_bitrate.disabled) setIfGiven(body, 'audio_bitrate', fields.audio_bitrate.value.trim());
    body.subtitles = fields.subtitles.value;
    setIfGiven(body, 'min_ssim', numberOrText(fields.min_ssim.value));
    setIfGiven(body, 'min_psnr', numberOrText(fields.min_psnr.value));
    body.skip_if_larger = fields.skip_if_larger.checked;
    return body;
  }

  /** The codec chose: its encoders (keeping wanted, else its default, which the catalog lists first) and the containers that hold it. */
  codecChanged(wanted) {
    const fields = this.form.elements;
    const codec = fields.video_codec.value;
    for (const field of this.form.querySelectorAll('[data-video]')) field.hidden = codec === 'copy';
    const encoders = this.options.encoders.filter(encoder => encoder.codec === codec);
    fill(fields.encoder, encoders.map(encoder => [encoder.name, encoder.hardware ? `${encoder.name} (${HARDWARE[encoder.hardware] ?? encoder.hardware})` : encoder.name]),
      wanted ?? fields.encoder.value);
    const containers = Object.entries(this.options.containers).filter(([, holds]) => holds.video.includes(codec)).map(([name]) => [name, name]);
    fill(fields.container, containers, fields.container.value);
    this.encoderChanged();
    this.containerChanged();
  }

  /** The encoder chose: its presets (its default unless wanted or the current one fits), its quality scale and bit depths. */
  encoderChanged(wantedPreset, wantedDepth) {
    const fields = this.form.elements;
    const encoder = this.options.encoders.find(candidate => candidate.name === fields.encoder.value);
    if (!encoder) return; // video copy: no encoder
    fields.preset.disabled = encoder.presets.length === 0;
    fill(fields.preset, encoder.presets.length ? encoder.presets.map(preset => [preset, preset]) : [['', 'none (this encoder has no presets)']],
      wantedPreset ?? (encoder.presets.includes(fields.preset.value) ? fields.preset.value : encoder.default_preset));
    fill(fields.bit_depth, encoder.bit_depths.map(depth => [String(depth), `${depth}-bit`]), String(wantedDepth ?? fields.bit_depth.value));
    fields.crf.max = encoder.max_crf;
    document.getElementById('profile-crf-label').textContent = `CRF (0–${encoder.max_crf})`;
  }

  /** The container chose: the audio it takes. */
  containerChanged(wantedAudio) {
    const fields = this.form.elements;
    const audio = this.options.containers[fields.container.value]?.audio ?? this.options.audio;
    fill(fields.audio, audio.map(choice => [choice, choice === 'copy' ? 'copy (keep it as it is)' : choice]), wantedAudio ?? fields.audio.value);
    this.audioChanged();
  }

  audioChanged() {
    const fields = this.form.elements;
    fields.audio_bitrate.disabled = fields.audio.value === 'copy';
    if (fields.audio_bitrate.disabled) fields.audio_bitrate.value = '';
  }
}

/** Replaces a select's options with [value, label] pairs; selects wanted when it is among them, else the first. */
function fill(select, choices, wanted) {
  select.replaceChildren(...choices.map(([value, label]) => el('option', { value }, label)));
  select.value = choices.some(([value]) => value === wanted) ? wanted : choices[0]?.[0] ?? '';
}

function setIfGiven(body, name, value) {
  if (value !== '' && value !== null && value !== undefined) body[name] = value;
}

/** A number as a number; anything else as typed, for the host to explain (a number input gives '' for text it cannot read). */
function numberOrText(text) {
  const trimmed = text.trim();
  return trimmed === '' ? '' : Number.isFinite(Number(trimmed)) ? Number(trimmed) : trimmed;
}
