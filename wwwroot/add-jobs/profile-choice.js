// The "Profile" choice of each add-jobs form (upload, one, bulk). "None" is the original service's
// job: crf and preset for libx264 into MP4, both required. With a profile the job gets the profile's
// settings, and crf and preset become optional overrides: empty means the profile's, and the preset
// list is the profile's encoder's. Profiles and choices come from the host (GET /api/profiles and
// /api/encode-options), fetched again whenever a key is saved.
import { api } from '/shared/api.js';
import { el } from '/shared/dom.js';
import { describeSettings } from '/shared/encode-settings.js';
import { applyProfileTasks, setTaskOptions } from './task-settings.js';

const FORMS = ['upload', 'one', 'bulk'];
let options = null;
let profiles = [];
let loading = Promise.resolve();

/** Fetches profiles and choices and fills every form's choice; a failure leaves the forms as they were (the next request reports it). */
export function loadProfileChoices() {
  loading = Promise.all([api('GET', '/api/encode-options'), api('GET', '/api/profiles')])
    .then(([encodeOptions, list]) => {
      options = encodeOptions;
      profiles = list;
      setTaskOptions(encodeOptions);
      for (const prefix of FORMS) fillChoice(prefix);
    })
    .catch(() => {});
  return loading;
}

/** Resolves when the choices asked for last have arrived (or failed): a form read before that would lack its presets. */
export const profileChoicesReady = () => loading;

/** The settings part of a job from form prefix: {crf, preset} without a profile; {profile} and any overrides with one. */
export function settingsOf(prefix) {
  const profile = document.getElementById(`${prefix}-profile`).value;
  const crf = document.getElementById(`${prefix}-crf`).value;
  const preset = document.getElementById(`${prefix}-preset`).value;
  if (!profile) return { crf, preset };
  const settings = { profile };
  if (crf !== '') settings.crf = crf;
  if (preset !== '') settings.preset = preset;
  return settings;
}

function fillChoice(prefix) {
  const select = document.getElementById(`${prefix}-profile`);
  const chosen = select.value;
  select.replaceChildren(select.querySelector('option[value=""]'),
    ...profiles.map(profile => el('option', { value: profile.name }, profile.builtin ? `${profile.name} (built-in)` : profile.name)));
  select.value = profiles.some(profile => profile.name === chosen) ? chosen : '';
  if (!select.dataset.wired) {
    select.dataset.wired = 'true';
    select.addEventListener('change', () => applyChoice(prefix, true));
  }
  // The first fill keeps what a person typed meanwhile: the page opens on "none", with its crf.
  applyChoice(prefix, (select.dataset.applied ?? '') !== select.value);
}

/** Fits crf and preset to the choice; changed: the choice is new, so their values start over (else a person's values stay). */
function applyChoice(prefix, changed) {
  const select = document.getElementById(`${prefix}-profile`);
  const crf = document.getElementById(`${prefix}-crf`);
  const preset = document.getElementById(`${prefix}-preset`);
  const label = document.querySelector(`label[for="${prefix}-crf"]`);
  const hint = document.getElementById(`${prefix}-profile-hint`);
  const profile = profiles.find(candidate => candidate.name === select.value);
  const settings = profile?.settings ?? options.defaults;
  const encoder = options.encoders.find(candidate => candidate.name === settings.encoder);
  select.dataset.applied = select.value;

  label.dataset.base ??= label.textContent.replace(/ \(0–\d+\)$/, '');
  label.textContent = encoder ? `${label.dataset.base} (0–${encoder.max_crf})` : label.dataset.base;
  crf.max = encoder?.max_crf ?? '';
  crf.required = !profile;
  crf.disabled = !encoder;
  crf.placeholder = profile ? `the profile's: ${settings.crf ?? settings.bitrate ?? 'none'}` : '';
  if (changed) crf.value = profile ? '' : crf.defaultValue;

  const presets = encoder?.presets ?? [];
  const current = preset.value;
  preset.replaceChildren(...(profile ? [el('option', { value: '' }, `the profile's: ${settings.preset ?? 'none'}`)] : []),
    ...presets.map(name => el('option', { value: name }, name)));
  preset.value = !changed && presets.includes(current) ? current : profile ? '' : encoder.default_preset;
  preset.disabled = presets.length === 0;

  hint.textContent = profile ? describeSettings(settings) : 'libx264 with AAC audio into MP4, as the original service encoded.';
  if (changed) applyProfileTasks(prefix, profile?.settings ?? null);
}
