// What a job's details say about how it was encoded: its profile, every field of the settings it
// was given (its own copy, made when it was added), the scores the worker measured against the
// input, whether the original was kept, the input's HDR, and the exact ffmpeg command line that ran.
import { el } from '/shared/dom.js';
import { settingsEntries } from '/shared/encode-settings.js';

const COPIED_MS = 2000;

/** [name, value] rows for the job detail list; a value is text or a node. */
export function jobSettingsDetail(job) {
  const settings = job.settings;
  return [
    ['Profile', job.profile ?? 'none'],
    ['Settings', el('dl', { class: 'settings-list', 'aria-label': `Encode settings of job ${job.id}` },
      ...settingsEntries(settings).flatMap(([field, value]) => [el('dt', {}, field), el('dd', { 'data-field': field }, value)]))],
    ['SSIM', score(job.ssim, settings.min_ssim, '')],
    ['PSNR', score(job.psnr, settings.min_psnr, ' dB')],
    ['Outcome', outcome(job)],
    // What the worker's probe found: none, hdr10, hlg or dolby_vision (whose enhancement layer is not kept).
    ['HDR', job.hdr ?? 'not probed yet'],
    ['Command line', job.command_line ? commandLine(job.command_line) : '–'],
  ];
}

/** A measured score and the floor it had to reach: "0.9712 (at least 0.95)"; "not measured" when the worker measured none. */
function score(value, floor, unit) {
  const wanted = floor === null || floor === undefined ? '' : ` (at least ${floor}${unit})`;
  return value === null || value === undefined ? `not measured${wanted}` : `${value}${unit}${wanted}`;
}

function outcome(job) {
  if (job.result === 'kept_original') return el('span', { class: 'kept-original' }, 'original kept: encode was not smaller');
  if (job.result === 'encoded') return 'encoded';
  return '–';
}

/** The command in monospace, with a button that copies it (or selects it, where the browser will not copy: plain http). */
function commandLine(text) {
  const code = el('code', {}, text);
  const button = el('button', { type: 'button', 'aria-label': 'Copy the command line', onclick: async () => {
    try {
      await navigator.clipboard.writeText(text);
      button.textContent = 'Copied';
    } catch {
      const range = document.createRange();
      range.selectNodeContents(code);
      getSelection().removeAllRanges();
      getSelection().addRange(range);
      button.textContent = 'Selected: press Ctrl+C';
    }
    setTimeout(() => { button.textContent = 'Copy'; }, COPIED_MS);
  } }, 'Copy');
  return el('div', { class: 'command-line' }, code, button);
}
