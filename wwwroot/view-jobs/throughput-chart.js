// The last hour's throughput as a bar chart drawn in SVG by hand (nothing loaded from elsewhere):
// one bar per minute, finished jobs with the failed ones stacked on top, the newest minute at the
// right. Colours come from the stylesheet (classes), so light and dark both work.
import { localTime } from '/shared/dom.js';

const SVG = 'http://www.w3.org/2000/svg';
const WIDTH = 600;
const HEIGHT = 120;
const AXIS = 14;

function svg(tag, attributes = {}, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

/** Draws GET /api/stats/throughput's per_minute into the <svg> target, with a summary for screen readers. */
export function drawThroughput(target, perMinute) {
  const finished = perMinute.reduce((sum, minute) => sum + minute.finished, 0);
  const failed = perMinute.reduce((sum, minute) => sum + minute.failed, 0);
  const busiest = Math.max(1, ...perMinute.map(minute => minute.finished + minute.failed));
  const summary = `Last hour: ${finished} finished, ${failed} failed; busiest minute ${busiest === 1 && finished + failed === 0 ? 0 : busiest} jobs.`;
  target.setAttribute('viewBox', `0 0 ${WIDTH} ${HEIGHT}`);
  target.setAttribute('role', 'img');
  target.setAttribute('aria-label', summary);
  const slot = WIDTH / perMinute.length;
  const plot = HEIGHT - AXIS;
  const bars = perMinute.flatMap((minute, i) => {
    const x = i * slot + 1;
    const done = (minute.finished / busiest) * plot;
    const broken = (minute.failed / busiest) * plot;
    const title = svg('title', {}, `${localTime(minute.at)}: ${minute.finished} finished, ${minute.failed} failed`);
    const group = svg('g', {}, undefined);
    group.append(title,
      svg('rect', { class: 'bar-finished', x, y: plot - done, width: slot - 2, height: done }),
      svg('rect', { class: 'bar-failed', x, y: plot - done - broken, width: slot - 2, height: broken }));
    return [group];
  });
  target.replaceChildren(
    svg('title', {}, summary),
    svg('line', { class: 'axis', x1: 0, y1: plot, x2: WIDTH, y2: plot }),
    svg('text', { class: 'axis-label', x: 0, y: HEIGHT - 2 }, '60 min ago'),
    svg('text', { class: 'axis-label', x: WIDTH, y: HEIGHT - 2, 'text-anchor': 'end' }, 'now'),
    svg('text', { class: 'axis-label', x: 0, y: 10 }, `${busiest}/min`),
    ...bars);
  return summary;
}
