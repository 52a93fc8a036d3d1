// The detail of a job made of tasks ("has_tasks"): its tasks (GET /api/jobs/{id}/tasks) with their workers and
// progress, a chunk's stretch of the input; its outputs (GET /api/jobs/{id}) with size, codec, height and scores,
// each downloadable when the job's input was uploaded (a task's result is GET /api/jobs/{task_id}/output); and, once
// its thumbnails are done, the storyboard to scrub through. While the detail is open, the event stream's changes of
// the job's tasks keep it current: a heartbeat moves its task's bar in place, any other change fetches both again.
import { api } from '/shared/api.js';
import { el } from '/shared/dom.js';
import { downloadWithKey } from '/shared/download.js';
import { formatBytes } from '/shared/format.js';
import { storyboardPreview } from './storyboard.js';

const REFETCH_MS = 500;

let open = null;   // { id, container, download, problem, timer, storyboard }

/**
 * Shows job's tasks, outputs and storyboard in container (emptied for a plain job) and follows them until
 * closeJobTasks(). problem(error, what) reports a failed request or download.
 */
export function showJobTasks(container, job, problem) {
  closeJobTasks();
  container.replaceChildren();
  if (!job.has_tasks) return;
  open = { id: job.id, container, problem, timer: null, storyboard: null, uploaded: false };
  refresh();
}

export function closeJobTasks() {
  if (open) clearTimeout(open.timer);
  open = null;
}

/** A change from the event stream to a task (its job JSON has "task"): only the open job's detail cares. */
export function taskChanged(type, task) {
  if (!open || task.task.job_id !== open.id) return;
  const bar = open.container.querySelector(`.tasks-table tr[data-task-id="${task.id}"] progress`);
  if (type === 'progress' && bar) {
    bar.value = task.progress ?? 0;
    bar.nextSibling.textContent = percent(task.progress);
    return;
  }
  open.timer ??= setTimeout(() => {
    if (open) open.timer = null;
    refresh();
  }, REFETCH_MS);
}

async function refresh() {
  const current = open;
  let job;
  let tasks;
  try {
    [job, tasks] = await Promise.all([api('GET', `/api/jobs/${current.id}`), api('GET', `/api/jobs/${current.id}/tasks`)]);
  } catch (error) {
    current.problem(error, `read the tasks of job ${current.id}`);
    return;
  }
  // GET /tasks reads the store, where a heartbeat's progress lands only when the lease is renewed; a running
  // task's own GET has what its worker reported last (the host keeps that in memory).
  const live = await Promise.all(tasks.map(task => task.status === 'in_progress'
    ? api('GET', `/api/jobs/${task.id}`).catch(() => null) : null));
  tasks = tasks.map((task, at) => live[at]?.status === 'in_progress' ? { ...task, progress: live[at].progress } : task);
  if (open !== current) return;   // closed, or another job opened, meanwhile
  current.uploaded = Boolean(job.upload_id);
  const storyboard = current.storyboard ?? el('div', { class: 'storyboard-place' });
  current.storyboard = storyboard;
  current.container.replaceChildren(
    el('h3', {}, `Tasks (${tasks.length})`),
    el('div', { class: 'table-wrap' }, tasksTable(current.id, tasks)),
    el('h3', {}, `Outputs (${job.outputs?.length ?? 0})`),
    el('div', { class: 'table-wrap' }, outputsTable(current, job.outputs ?? [])),
    storyboard);
  const thumbnails = (job.outputs ?? []).find(output => output.kind === 'thumbnails' && output.status === 'finished');
  if (thumbnails && !storyboard.dataset.loaded) {
    storyboard.dataset.loaded = 'true';
    try {
      const preview = await storyboardPreview(current.id);
      storyboard.replaceChildren(el('h3', {}, 'Storyboard'), preview);
    } catch (error) {
      delete storyboard.dataset.loaded;   // tried again with the next change
      current.problem(error, `show the storyboard of job ${current.id}`);
    }
  }
}

function tasksTable(jobId, tasks) {
  return el('table', { class: 'tasks-table', 'aria-label': `Tasks of job ${jobId}` },
    el('thead', {}, el('tr', {}, ...['#', 'Kind', 'Status', 'Progress', 'Worker', 'Attempts'].map(name => el('th', { scope: 'col' }, name)))),
    el('tbody', {}, ...tasks.map(task => el('tr', { 'data-task-id': task.id, 'data-kind': task.kind },
      el('td', {}, task.index),
      el('td', {}, task.kind, task.start_seconds !== undefined && task.start_seconds !== null
        ? el('span', { class: 'status-details' }, ` ${stretch(task.start_seconds)}–${stretch(task.end_seconds)} s`) : null,
        task.output_name ? el('span', { class: 'task-output' }, task.output_name) : null),
      el('td', {}, el('span', { class: `status-badge status-${task.status}` }, task.status.replace('_', ' ')),
        task.error ? el('span', { class: 'task-error' }, task.error) : null),
      el('td', { class: 'task-progress' },
        el('progress', { max: 100, value: task.status === 'finished' ? 100 : task.progress ?? 0, 'aria-label': `Task ${task.index} progress` }),
        el('span', {}, task.status === 'finished' ? '100%' : percent(task.progress))),
      el('td', {}, task.worker ?? '–'),
      el('td', {}, task.attempts)))));
}

function outputsTable(current, outputs) {
  return el('table', { class: 'outputs-table', 'aria-label': `Outputs of job ${current.id}` },
    el('thead', {}, el('tr', {}, ...['Name', 'Kind', 'Status', 'Size', 'Codec', 'Height', 'Scores', ''].map(name => el('th', { scope: 'col' }, name)))),
    el('tbody', {}, ...outputs.map(output => el('tr', { 'data-output-of': output.task_id },
      el('td', { class: 'output-file' }, output.name),
      el('td', {}, output.kind),
      el('td', {}, el('span', { class: `status-badge status-${output.status}` }, output.status.replace('_', ' '))),
      el('td', { class: 'output-size' }, output.bytes === null ? '–' : formatBytes(output.bytes)),
      el('td', {}, output.codec ?? '–'),
      el('td', {}, output.height ? `${output.height}p` : '–'),
      el('td', {}, scores(output)),
      el('td', {}, current.uploaded && output.status === 'finished' ? downloadButton(current, output) : '')))));
}

/**
 * A task's result from the media store, fetched with the key in a header. A package or thumbnails come as a tar,
 * which the host names by the task's output (a folder, a storyboard): saved as "film.tar", "film.thumbnails.tar".
 */
function downloadButton(current, output) {
  const name = output.name.split('/').pop();
  const saved = output.kind === 'encode' ? null
    : output.kind === 'thumbnails' ? `${name.replace(/\.?storyboard\.vtt$/, '') || 'thumbnails'}${name === 'storyboard.vtt' ? '' : '.thumbnails'}.tar`
    : `${name}.tar`;
  return el('button', { type: 'button', 'aria-label': `Download ${output.name}`, onclick: async event => {
    event.target.disabled = true;
    try {
      await downloadWithKey(`/api/jobs/${output.task_id}/output`, name, saved);
    } catch (error) {
      current.problem(error, `download ${output.name}`);
    } finally {
      event.target.disabled = false;
    }
  } }, 'Download');
}

function scores(output) {
  const parts = [output.ssim !== null && output.ssim !== undefined ? `SSIM ${output.ssim}` : null,
    output.psnr !== null && output.psnr !== undefined ? `PSNR ${output.psnr} dB` : null].filter(Boolean);
  return parts.length ? parts.join(' · ') : '–';
}

const percent = progress => progress === null || progress === undefined ? '' : `${Math.floor(progress)}%`;
const stretch = value => Number(value).toFixed(1);
