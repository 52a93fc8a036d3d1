// A job's thumbnails as a scrubbing preview: its WebVTT storyboard (one cue per picture, "sprite.jpg#xywh=x,y,w,h")
// and its sprite sheet, both fetched with the key in a header. The pages' policy lets images come from the host
// or data: only, not blob:, so the sheet is decoded with createImageBitmap and the picture under the pointer is
// drawn on a canvas. Moving along the bar (pointer, touch, or the arrow keys) shows that moment's picture and time.
import { el } from '/shared/dom.js';
import { fetchWithKey } from '/shared/download.js';

/** Fetches job jobId's storyboard and sprite and answers the preview's node; throws ApiError when the host has none. */
export async function storyboardPreview(jobId) {
  const [vtt, sprite] = await Promise.all([
    fetchWithKey(`/api/jobs/${jobId}/thumbnails/storyboard.vtt`).then(response => response.text()),
    fetchWithKey(`/api/jobs/${jobId}/thumbnails/sprite.jpg`).then(response => response.blob()).then(blob => createImageBitmap(blob)),
  ]);
  const cues = parseStoryboard(vtt);
  if (cues.length === 0) throw new Error('the storyboard has no pictures');
  const length = cues[cues.length - 1].end;
  const first = cues[0];
  const canvas = el('canvas', { class: 'storyboard-tile', width: first.w, height: first.h, 'aria-hidden': 'true' });
  const time = el('span', { class: 'storyboard-time' });
  const tile = el('div', { class: 'storyboard-preview' }, canvas, time);
  const bar = el('div', {
    class: 'storyboard-bar', role: 'slider', tabindex: 0, 'aria-label': `Scrub through job ${jobId}`,
    'aria-valuemin': 0, 'aria-valuemax': Math.round(length), 'aria-valuenow': 0,
  });
  let shown = 0;

  const show = seconds => {
    shown = Math.min(Math.max(seconds, 0), length);
    const cue = cues.find(candidate => shown < candidate.end) ?? cues[cues.length - 1];
    canvas.width = cue.w;
    canvas.height = cue.h;
    canvas.getContext('2d').drawImage(sprite, cue.x, cue.y, cue.w, cue.h, 0, 0, cue.w, cue.h);
    time.textContent = clock(shown);
    bar.setAttribute('aria-valuenow', Math.round(shown));
    bar.setAttribute('aria-valuetext', clock(shown));
    // The picture follows the pointer, kept inside the bar (CSSOM, which the policy allows, not a style attribute).
    const room = Math.max(0, bar.clientWidth - tile.offsetWidth);
    tile.style.left = `${Math.min(room, Math.max(0, (shown / length) * bar.clientWidth - tile.offsetWidth / 2))}px`;
  };
  const fromPointer = event => {
    const box = bar.getBoundingClientRect();
    show(((event.clientX - box.left) / box.width) * length);
  };
  bar.addEventListener('pointermove', fromPointer);
  bar.addEventListener('pointerdown', event => {
    bar.setPointerCapture(event.pointerId);   // a finger dragged past the bar's edge keeps scrubbing
    fromPointer(event);
  });
  bar.addEventListener('keydown', event => {
    const step = { ArrowLeft: -1, ArrowRight: 1, Home: -Infinity, End: Infinity }[event.key];
    if (step === undefined) return;
    event.preventDefault();
    const at = cues.findIndex(candidate => shown < candidate.end);
    show(cues[Math.min(cues.length - 1, Math.max(0, (at < 0 ? cues.length - 1 : at) + step))].start);
  });
  const node = el('div', { class: 'storyboard' }, el('div', { class: 'storyboard-track' }, tile, bar),
    el('p', { class: 'hint' }, `${cues.length} pictures over ${clock(length)}: move along the bar to see them.`));
  requestAnimationFrame(() => show(0));
  return node;
}

/** The cues of a WebVTT storyboard: [{start, end, x, y, w, h}] in seconds and pixels; cues that point nowhere are left out. */
export function parseStoryboard(text) {
  const cues = [];
  const timing = /^((?:\d+:)?\d{2}:\d{2}\.\d{3})\s+-->\s+((?:\d+:)?\d{2}:\d{2}\.\d{3})/;
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const times = timing.exec(lines[i]);
    const place = times && /#xywh=(\d+),(\d+),(\d+),(\d+)/.exec(lines[i + 1] ?? '');
    if (!place) continue;
    const [x, y, w, h] = place.slice(1).map(Number);
    cues.push({ start: seconds(times[1]), end: seconds(times[2]), x, y, w, h });
  }
  return cues.sort((a, b) => a.start - b.start);
}

/** "01:02:03.045" or "02:03.045" in seconds. */
function seconds(timestamp) {
  return timestamp.split(':').reduce((total, part) => total * 60 + Number(part), 0);
}

/** A moment as a player shows it: "1:05", "1:02:03". */
function clock(value) {
  const whole = Math.floor(value);
  const [h, m, s] = [Math.floor(whole / 3600), Math.floor(whole / 60) % 60, whole % 60];
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')}` : `${m}:${String(s).padStart(2, '0')}`;
}
