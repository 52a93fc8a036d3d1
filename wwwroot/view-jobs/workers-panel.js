// The workers panel: every worker the host has seen, its state and when it was last heard from (lost
// ones marked) and its version (marked when it differs from the host's), under it the jobs it runs with their progress (each job's file name first, as in the
// jobs table: the worker's line gives them the table's width), its jobs finished and failed, and
// beside them the last hour's throughput and the queue's depth. Admins get each worker's drain button.
import { el, localTime } from '/shared/dom.js';
import { ago } from '/shared/time.js';
import { drawThroughput } from './throughput-chart.js';
import { pathLine } from './file-path.js';

const body = document.getElementById('workers');
const title = document.getElementById('workers-title');
const chart = document.getElementById('throughput');
const chartSummary = document.getElementById('throughput-summary');

/** control(method, path, done, what) runs a drain or undrain; isAdmin() says whether to offer them. */
export function renderWorkers(workers, { isAdmin, control }) {
  const lost = workers.filter(worker => worker.lost).length;
  const draining = workers.filter(worker => worker.draining).length;
  title.textContent = `Workers (${workers.length}${lost ? `, ${lost} lost` : ''}${draining ? `, ${draining} draining` : ''})`;
  if (workers.length === 0) {
    body.replaceChildren(el('tr', {}, el('td', { colspan: 3 }, 'No workers seen yet: start one with the worker console (see the README).')));
    return;
  }
  body.replaceChildren(...workers.map(worker => {
    const condition = worker.last_seen_at === null ? 'never seen' : worker.lost ? 'lost' : 'online';
    const path = `/api/workers/${encodeURIComponent(worker.name)}/drain`;
    const button = !isAdmin() ? null : worker.draining
      ? el('button', { type: 'button', 'aria-label': `Undrain ${worker.name}`,
          onclick: () => control('DELETE', path, `${worker.name} may claim jobs again.`, `undrain ${worker.name}`) }, 'Undrain')
      : el('button', { type: 'button', 'aria-label': `Drain ${worker.name}`,
          onclick: () => control('POST', path, `${worker.name} will finish its running jobs, claim no more and exit.`, `drain ${worker.name}`) }, 'Drain');
    return el('tr', { 'data-worker': worker.name, class: worker.lost ? 'lost' : null },
      el('td', { class: 'worker' },
        el('div', { class: 'worker-line' },
          el('span', { class: 'name', title: worker.name }, worker.name), ' ',
          el('span', { class: `worker-state worker-${condition.replace(' ', '-')}` }, worker.draining ? `${condition}, draining` : condition), ' ',
          worker.jobs.length === 0 ? el('span', { class: 'idle' }, 'idle') : null, ' ',
          versionTag(worker), ' ',
          worker.last_seen_at === null ? null : el('span', { class: 'seen hide-narrow', title: localTime(worker.last_seen_at) }, `seen ${ago(worker.last_seen_at)}`)),
        worker.jobs.map(job => el('div', { class: 'running-job', 'data-job-id': job.id, title: job.file_name }, pathLine(job.file_name, {
          meta: [el('span', { class: 'job-ref' }, `#${job.id}`),
            job.progress === null ? null : el('progress', { max: 100, value: job.progress, 'aria-label': `Job ${job.id} progress on ${worker.name}` }),
            job.progress === null ? null : `${Math.floor(job.progress)}%`],
        })))),
      el('td', { class: 'hide-narrow' }, `${worker.jobs_finished} / ${worker.jobs_failed}`),
      el('td', { class: 'actions' }, button));
  }));
}

/**
 * The version the worker gave with its last claim; one that differs from the host's is marked, since a
 * mismatch is the usual reason a worker misbehaves. Clients that send no version show none.
 */
function versionTag(worker) {
  if (!worker.version) return null;
  return worker.version_differs
    ? el('span', { class: 'worker-version version-differs', title: 'This worker\'s version differs from the host\'s: upgrade one of them.' },
        `v${worker.version} ≠ host`)
    : el('span', { class: 'worker-version hide-narrow' }, `v${worker.version}`);
}

/** The throughput chart and, beside it, how many jobs wait and run. */
export function renderThroughput(throughput, stats) {
  chartSummary.textContent = drawThroughput(chart, throughput.per_minute);
  document.getElementById('depth-pending').textContent = stats.counts.pending ?? 0;
  document.getElementById('depth-running').textContent = stats.counts.in_progress ?? 0;
  document.getElementById('depth-failed').textContent = stats.counts.failed ?? 0;
}
