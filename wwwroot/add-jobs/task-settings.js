// What makes a job of tasks, for an add-jobs form: an adaptive-streaming ladder ("package"), thumbnails
// with a storyboard, splitting into chunks ("split_seconds"), and several outputs ("outputs", each with
// its own codec, crf, preset, container, height and name). The block is built here for a form's prefix;
// every control's id is the prefix and the field as the host names it in a 400 ("one-package",
// "one-outputs[1].crf"), so the form shows the host's error beside the control it is about.
import { el } from '/shared/dom.js';
import { numberOrText } from './form-values.js';

const HEIGHTS = [1080, 720, 480, 360];
const MAX_OUTPUTS = 8;
// The host's defaults (PackageSpec, ThumbnailsSpec), shown until a profile says otherwise.
const DEFAULTS = { format: 'hls', ladder: HEIGHTS, segment_seconds: 4, every_seconds: 10, width: 160, split_seconds: 60 };

let options = null;

/** Builds the block into #{prefix}-tasks. */
export function setUpTaskSettings(prefix) {
  const id = name => `${prefix}-${name}`;
  const error = name => el('p', { class: 'field-error', id: id(`${name}-error`) });
  const number = (name, label, attributes) => el('div', { class: 'field' },
    el('label', { for: id(name) }, label),
    el('input', { id: id(name), type: 'number', step: 1, 'aria-describedby': id(`${name}-error`), ...attributes }),
    error(name));
  const toggle = (name, label) => el('label', { class: 'toggle' },
    el('input', { type: 'checkbox', id: id(`${name}-on`), onchange: () => enable(prefix) }), ` ${label}`);

  const block = el('details', { class: 'task-settings', id: id('task-settings') },
    el('summary', {}, 'Streaming ladder, thumbnails, splitting, several outputs'),
    el('fieldset', {},
      el('legend', {}, toggle('package', 'Adaptive-streaming ladder (HLS or DASH)')),
      el('div', { class: 'row', id: id('package') },
        el('div', { class: 'field' },
          el('label', { for: id('package-format') }, 'Format'),
          el('select', { id: id('package-format') }, el('option', { value: 'hls' }, 'HLS'), el('option', { value: 'dash' }, 'DASH'))),
        el('fieldset', { class: 'heights', 'aria-describedby': id('package-error') },
          el('legend', {}, 'Heights'),
          ...HEIGHTS.map(height => el('label', { class: 'inline' },
            el('input', { type: 'checkbox', name: 'ladder', value: height, id: id(`ladder-${height}`) }), ` ${height}p`))),
        number('package-segment_seconds', 'Segment seconds', { min: 1, max: 60 })),
      error('package')),
    el('fieldset', {},
      el('legend', {}, toggle('thumbnails', 'Thumbnails: a sprite, a storyboard for scrubbing, a poster')),
      el('div', { class: 'row', id: id('thumbnails') },
        number('thumbnails-every_seconds', 'One picture every … seconds', { min: 1, max: 3600 }),
        number('thumbnails-width', 'Picture width (pixels)', { min: 16, max: 1920, step: 2 })),
      error('thumbnails')),
    el('fieldset', {},
      el('legend', {}, toggle('split', 'Split into chunks that several workers encode at once')),
      el('div', { class: 'row' }, number('split_seconds', 'Chunk seconds (10 or more)', { min: 10 }))),
    el('fieldset', {},
      el('legend', {}, 'Outputs'),
      el('p', { class: 'hint' }, `Up to ${MAX_OUTPUTS} results of the same input, each with its own settings over the form's; empty means the form's.`),
      el('ol', { class: 'outputs', id: id('outputs') }),
      el('button', { type: 'button', id: id('add-output'), onclick: () => addOutput(prefix) }, 'Add an output'),
      error('outputs')));
  document.getElementById(id('tasks')).replaceChildren(block);
  fill(prefix, null);
}

/** The choices of GET /api/encode-options, for the outputs' codec, preset and container lists. */
export function setTaskOptions(encodeOptions) {
  options = encodeOptions;
}

/**
 * Fills the block from a chosen profile's settings (null: none chosen). A profile's ladder, thumbnails or
 * split cannot be left out by a job (the host keeps what the profile says), so its switch stays on.
 */
export function applyProfileTasks(prefix, settings) {
  if (!document.getElementById(`${prefix}-task-settings`)) return;
  fill(prefix, settings);
}

/** The fields of the job that the block asks for: package, thumbnails, split_seconds, outputs; none when nothing is on. */
export function taskSettingsOf(prefix) {
  const value = name => document.getElementById(`${prefix}-${name}`)?.value.trim() ?? '';
  const on = name => document.getElementById(`${prefix}-${name}-on`)?.checked;
  const fields = {};
  if (on('package')) {
    fields.package = {
      format: value('package-format'),
      ladder: [...document.querySelectorAll(`#${prefix}-package input[name="ladder"]:checked`)].map(box => Number(box.value)),
      segment_seconds: numberOrText(value('package-segment_seconds')),
    };
  }
  if (on('thumbnails')) fields.thumbnails = { every_seconds: numberOrText(value('thumbnails-every_seconds')), width: numberOrText(value('thumbnails-width')) };
  if (on('split')) fields.split_seconds = numberOrText(value('split_seconds'));
  const outputs = [...document.getElementById(`${prefix}-outputs`).children].map(item => {
    const output = {};
    for (const control of item.querySelectorAll('[data-field]')) {
      const given = control.value.trim();
      if (given !== '') output[control.dataset.field] = control.type === 'number' ? numberOrText(given) : given;
    }
    return output;
  });
  if (outputs.length > 0) fields.outputs = outputs;
  return fields;
}

/** What the block asks for, in a few words ("HLS 720/360 · thumbnails · 2 outputs"), or '' for nothing. */
export function describeTasks(fields) {
  return [
    fields.package && `${fields.package.format.toUpperCase()} ${fields.package.ladder.join('/')}`,
    fields.thumbnails && 'thumbnails',
    fields.split_seconds && `split every ${fields.split_seconds} s`,
    fields.outputs && `${fields.outputs.length} output${fields.outputs.length === 1 ? '' : 's'}`,
  ].filter(Boolean).join(' · ');
}

function fill(prefix, settings) {
  const set = (name, value) => { document.getElementById(`${prefix}-${name}`).value = value; };
  const switchTo = (name, given) => {
    const box = document.getElementById(`${prefix}-${name}-on`);
    box.checked = given;
    box.disabled = given && settings !== null;
    box.title = box.disabled ? 'The profile asks for it' : '';
  };
  const pack = settings?.package;
  switchTo('package', Boolean(pack));
  set('package-format', pack?.format ?? DEFAULTS.format);
  for (const height of HEIGHTS)
    document.getElementById(`${prefix}-ladder-${height}`).checked = (pack?.ladder ?? DEFAULTS.ladder).includes(height);
  set('package-segment_seconds', pack?.segment_seconds ?? DEFAULTS.segment_seconds);
  const thumbnails = settings?.thumbnails;
  switchTo('thumbnails', Boolean(thumbnails));
  set('thumbnails-every_seconds', thumbnails?.every_seconds ?? DEFAULTS.every_seconds);
  set('thumbnails-width', thumbnails?.width ?? DEFAULTS.width);
  const split = settings?.split_seconds;
  switchTo('split', Boolean(split));
  set('split_seconds', split ?? DEFAULTS.split_seconds);
  if (pack || thumbnails || split) document.getElementById(`${prefix}-task-settings`).open = true;
  enable(prefix);
}

/** A switched-off part's controls are disabled, so it is plain what will be sent. */
function enable(prefix) {
  for (const name of ['package', 'thumbnails', 'split']) {
    const on = document.getElementById(`${prefix}-${name}-on`).checked;
    const fieldset = document.getElementById(`${prefix}-${name}-on`).closest('fieldset');
    for (const control of fieldset.querySelectorAll('input, select'))
      if (!control.id.endsWith('-on')) control.disabled = !on;
  }
}

function addOutput(prefix) {
  const list = document.getElementById(`${prefix}-outputs`);
  if (list.children.length >= MAX_OUTPUTS) return;
  const at = list.children.length;
  const id = name => `${prefix}-outputs[${at}].${name}`;
  const field = (name, label, control) => el('div', { class: 'field' },
    el('label', { for: id(name) }, label), control, el('p', { class: 'field-error', id: id(`${name}-error`) }));
  const codecs = (options?.video_codecs ?? ['h264']).filter(codec => codec !== 'copy');
  const codec = el('select', { id: id('video_codec'), 'data-field': 'video_codec', onchange: () => codecChanged() },
    el('option', { value: '' }, "the form's"), ...codecs.map(name => el('option', { value: name }, name)));
  const preset = el('select', { id: id('preset'), 'data-field': 'preset' });
  const container = el('select', { id: id('container'), 'data-field': 'container' });
  const item = el('li', { class: 'output' },
    el('div', { class: 'row' },
      field('video_codec', `Output ${at + 1} codec`, codec),
      field('crf', 'CRF', el('input', { id: id('crf'), 'data-field': 'crf', type: 'number', min: 0, max: 63, step: 'any', placeholder: "the form's" })),
      field('preset', 'Preset', preset),
      field('container', 'Container', container),
      field('max_height', 'At most … lines', el('input', { id: id('max_height'), 'data-field': 'max_height', type: 'number', min: 2, step: 2, placeholder: 'as the input' })),
      field('output_name', 'Output name', el('input', { id: id('output_name'), 'data-field': 'output_name', maxlength: 1024, autocomplete: 'off',
        placeholder: 'the file name, with the container’s extension' }))),
    el('button', { type: 'button', 'aria-label': `Remove output ${at + 1}`, onclick: () => removeOutput(prefix, item) }, 'Remove'));
  list.append(item);
  codecChanged();

  /** The presets of the codec's default encoder and the containers that hold the codec; the form's for "the form's". */
  function codecChanged() {
    const encoder = options?.encoders.find(candidate => candidate.codec === codec.value);
    preset.replaceChildren(el('option', { value: '' }, "the form's"), ...(encoder?.presets ?? []).map(name => el('option', { value: name }, name)));
    const holding = Object.entries(options?.containers ?? {}).filter(([, holds]) => !codec.value || holds.video.includes(codec.value)).map(([name]) => name);
    container.replaceChildren(el('option', { value: '' }, "the form's"), ...holding.map(name => el('option', { value: name }, name)));
  }
  document.getElementById(`${prefix}-add-output`).disabled = list.children.length >= MAX_OUTPUTS;
}

/** Removes an output; those after it move up, so their ids follow their new places (the host names outputs by place). */
function removeOutput(prefix, item) {
  const list = document.getElementById(`${prefix}-outputs`);
  item.remove();
  [...list.children].forEach((output, at) => {
    for (const node of output.querySelectorAll('[id]')) node.id = node.id.replace(/outputs\[\d+\]/, `outputs[${at}]`);
    for (const node of output.querySelectorAll('[for]')) node.htmlFor = node.htmlFor.replace(/outputs\[\d+\]/, `outputs[${at}]`);
    output.querySelector('label').textContent = `Output ${at + 1} codec`;
    output.querySelector('button').setAttribute('aria-label', `Remove output ${at + 1}`);
  });
  document.getElementById(`${prefix}-add-output`).disabled = false;
}
