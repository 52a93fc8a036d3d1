// The jobs table for a queue of any size: one page at a time from the host, filtered by status and
// by a piece of the file name (the search box asks GET /api/jobs?q= as one types), sorted by
// created, priority or status; filter, search, sort, page and page size live in the address, so a
// view can be bookmarked and shared. Rows are one line each (relative times, the exact one on
// hover) and can be selected — also "all that match" — for one bulk action behind one
// confirmation (POST /api/jobs/bulk). Changes arrive from the host's event stream and update
// rows in place; the page is fetched again (at most once a second) only when jobs come or go.
// While the stream is down the page polls every 5 seconds instead. Above the jobs: the queue's
// pause, and the workers panel with the last hour's throughput, fetched again after job changes
// (at most once a second) and every 5 seconds (the stream carries job changes only). A job made of tasks
// shows its tasks, outputs and storyboard in its detail (job-tasks.js).
import { api, ApiError } from '/shared/api.js';
import { el, localTime, say } from '/shared/dom.js';
import { setUpHeader } from '/shared/key-bar.js';
import { ago, duration, nowSeconds } from '/shared/time.js';
import { formatBytes } from '/shared/format.js';
import { downloadWithKey } from '/shared/download.js';
import { codecAndContainer } from '/shared/encode-settings.js';
import { jobSettingsDetail } from './job-settings.js';
import { closeJobTasks, showJobTasks, taskChanged } from './job-tasks.js';
import { followEvents, keySaved } from './event-stream.js';
import { renderThroughput, renderWorkers } from './workers-panel.js';
import { setWorkers, unrunnableNote } from './routing-note.js';
import { pathLine, splitPath } from './file-path.js';
import { scheduleNote } from './schedule-note.js';

const STATUSES = [['all', 'All'], ['pending', 'Pending'], ['in_progress', 'In progress'], ['finished', 'Finished'], ['failed', 'Failed'], ['cancelled', 'Cancelled']];
const SORTS = ['newest', 'oldest', 'priority', 'status'];
const SIZES = [25, 50, 100, 200];
const POLL_MS = 5000;
const SEARCH_DELAY_MS = 250;
const REFETCH_MS = 1000;
const DEFAULTS = { status: 'all', q: '', sort: 'newest', page: 1, size: 50 };

const params = new URLSearchParams(location.search);
const state = {
  status: STATUSES.some(([value]) => value === params.get('status')) ? params.get('status') : DEFAULTS.status,
  q: params.get('q') ?? DEFAULTS.q,
  sort: SORTS.includes(params.get('sort')) ? params.get('sort') : DEFAULTS.sort,
  page: Math.max(1, parseInt(params.get('page'), 10) || 1),
  size: SIZES.includes(parseInt(params.get('size'), 10)) ? parseInt(params.get('size'), 10) : DEFAULTS.size,
};

const header = setUpHeader(() => { clearSelection(); load(); keySaved(); });
const $ = id => document.getElementById(id);
const rows = $('rows');
const message = $('message');
const actionMessage = $('action-message');
const pageInfo = $('page-info');
const autoRefresh = $('auto-refresh');
const dialog = $('confirm');
const detail = $('detail');
const search = $('search');
const selectPage = $('select-page');
let live = false;
// The role of the key in use (GET /api/keys/current, asked by the key bar when a key is saved).
let role = null;
// The jobs shown, by id: each row's job and node, so a change replaces only its own row.
const shown = new Map();
// Selected job ids; allMatching: every job that matches the filter and search, on any page.
const selected = new Set();
let allMatching = false;
// How many jobs match the view, when the host can say cheaply (no search): for pages and "select all".
let matching = null;
let moreOnNextPage = false;

$('page-size').value = String(state.size);
$('sort').value = state.sort;
search.value = state.q;
$('page-size').addEventListener('change', event => show({ size: parseInt(event.target.value, 10), page: 1 }));
$('sort').addEventListener('change', event => show({ sort: event.target.value, page: 1 }));
$('previous').addEventListener('click', () => show({ page: state.page - 1 }));
$('next').addEventListener('click', () => show({ page: state.page + 1 }));
$('refresh').addEventListener('click', () => load());
let searchTimer = null;
search.addEventListener('input', () => {
  clearTimeout(searchTimer);
  searchTimer = setTimeout(() => show({ q: search.value.trim(), page: 1 }), SEARCH_DELAY_MS);
});
// Polling is the fallback: only while the event stream is down.
setInterval(() => {
  if (!autoRefresh.checked || dialog.open || document.hidden) return;
  if (live) refreshPanels();
  else load();
}, POLL_MS);
// Relative times age: "just now" becomes "1 min ago" without a fetch.
setInterval(() => { for (const { job, node } of shown.values()) node.querySelector('td.when')?.replaceWith(whenCell(job)); }, 15000);

function show(change) {
  const selectionGoes = ['status', 'q', 'sort'].some(name => name in change && change[name] !== state[name]);
  Object.assign(state, change);
  if (selectionGoes) clearSelection();
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(state)) if (value !== DEFAULTS[name]) query.set(name, value);
  history.replaceState(null, '', query.size ? `?${query}` : location.pathname);
  load();
}

let loading = null;
let queued = null;
/**
 * Never two loads at once; a load asked for while one runs starts when it ends (one for any number
 * of asks), so what an action just changed is always fetched after the change.
 */
function load() {
  if (!loading) {
    loading = fetchPage().finally(() => { loading = null; });
    return loading;
  }
  queued ??= loading.then(() => { queued = null; return load(); });
  return queued;
}

/** The list request for the current view; with a search it asks one job more, to know whether a next page exists. */
function listPath() {
  const searching = state.q !== '';
  const query = new URLSearchParams({ status: state.status, limit: state.size + (searching ? 1 : 0), offset: (state.page - 1) * state.size });
  if (searching) query.set('q', state.q);
  if (state.sort !== 'newest') query.set('sort', state.sort);
  return `/api/jobs?${query}`;
}

async function fetchPage() {
  try {
    const [stats, jobs, workers, queue, throughput] = await Promise.all([
      api('GET', '/api/stats'), api('GET', listPath()), api('GET', '/api/workers'), api('GET', '/api/queue'),
      api('GET', '/api/stats/throughput'), knowRole(),
    ]);
    renderDashboard(stats, workers);
    renderQueue(queue);
    setWorkers(workers);
    renderWorkers(workers, { isAdmin, control });
    renderThroughput(throughput, stats);
    renderFilters(stats);
    const offset = (state.page - 1) * state.size;
    moreOnNextPage = state.q !== '' && jobs.length > state.size;
    const page = jobs.slice(0, state.size);
    matching = state.q !== '' ? (moreOnNextPage ? null : offset + page.length)
      : state.status === 'all' ? stats.total : stats.counts[state.status] ?? 0;
    const pages = matching === null ? null : Math.max(1, Math.ceil(matching / state.size));
    if (pages !== null && state.page > pages) {   // the last page emptied (deletes): step back to the new last page
      setTimeout(() => show({ page: pages }));
      return;
    }
    renderRows(page);
    renderPager(pages, offset, page.length);
    renderBulk();
    say(message, '');
  } catch (error) {
    shown.clear();
    rows.replaceChildren();
    pageInfo.textContent = '';
    if (header.reportProblem(error)) say(message, 'No jobs shown: the API key is missing or was rejected (see the top of the page).');
    else say(message, `Could not load the jobs: ${error.message}`);
  }
}

async function knowRole() {
  role = (await header.currentKey())?.role ?? null;
}

// What the key's role allows (see README, Keys and roles); the host refuses anything else with 403 anyway.
const isAdmin = () => role === 'admin';
const maySubmit = () => role === 'admin' || role === 'submit';

async function refreshPanels() {
  try {
    const [queue, workers, stats, throughput] = await Promise.all([
      api('GET', '/api/queue'), api('GET', '/api/workers'), api('GET', '/api/stats'), api('GET', '/api/stats/throughput')]);
    renderQueue(queue);
    renderWorkers(workers, { isAdmin, control });
    renderThroughput(throughput, stats);
    renderDashboard(stats, workers);
  } catch {
    // The next full load reports the problem.
  }
}

function renderQueue(queue) {
  const queueState = $('queue-state');
  const toggle = $('queue-toggle');
  queueState.textContent = (queue.paused
    ? `Queue paused (since ${localTime(queue.paused_at)}, by ${queue.paused_by ?? 'unknown'}): workers get no new jobs; running jobs go on.`
    : 'Queue running: workers claim jobs.') + scheduleNote(queue);
  queueState.classList.toggle('paused', queue.paused);
  toggle.textContent = queue.paused ? 'Resume' : 'Pause';
  toggle.dataset.action = queue.paused ? 'resume' : 'pause';
  toggle.hidden = !isAdmin();
}

$('queue-toggle').addEventListener('click', event => {
  const resume = event.target.dataset.action === 'resume';
  control('POST', resume ? '/api/queue/resume' : '/api/queue/pause',
    resume ? 'The queue is resumed.' : 'The queue is paused: running jobs go on, no new ones start.',
    resume ? 'resume the queue' : 'pause the queue');
});

/** A queue or worker control: the request, a line saying what it did, and the state shown afresh. */
async function control(method, path, done, what) {
  try {
    await api(method, path);
    say(actionMessage, done, 'success');
  } catch (error) {
    if (!header.reportProblem(error)) say(actionMessage, `Could not ${what}: ${error.message}`);
  }
  await load();
}

function renderFilters(stats) {
  $('filters').replaceChildren(...STATUSES.map(([value, label]) => {
    const count = value === 'all' ? stats.total : stats.counts[value] ?? 0;
    return el('button', {
      type: 'button',
      'aria-pressed': String(state.status === value),
      'data-status': value,
      onclick: () => show({ status: value, page: 1 }),
    }, `${label} (${count})`);
  }));
}

function renderDashboard(stats, workers) {
  const seconds = value => value === null || value === undefined ? '–' : duration(value);
  $('dash-pending').textContent = stats.counts.pending ?? 0;
  $('dash-running').textContent = stats.counts.in_progress ?? 0;
  $('dash-finished-hour').textContent = stats.finished_last_hour;
  $('dash-wait').textContent = seconds(stats.average_wait_seconds);
  $('dash-encode').textContent = seconds(stats.average_encode_seconds);
  const online = workers.filter(worker => !worker.lost).length;
  const lost = workers.length - online;
  $('dash-workers').textContent = lost > 0 ? `${online} (${lost} lost)` : online;
}

// ---- rows -----------------------------------------------------------------------------------

/** Shows the page's jobs, keeping the row of every job that did not change (focus, open menus and all). */
function renderRows(jobs) {
  if (jobs.length === 0) {
    shown.clear();
    rows.replaceChildren(el('tr', {}, el('td', { colspan: 8 }, state.q ? `No jobs match “${state.q}”.` : 'No jobs here.')));
    return;
  }
  const next = new Map();
  for (const job of jobs) {
    const old = shown.get(job.id);
    const json = JSON.stringify(job);
    next.set(job.id, old && old.json === json ? old : { job, json, node: renderRow(job) });
  }
  shown.clear();
  for (const [id, entry] of next) shown.set(id, entry);
  rows.replaceChildren(...[...next.values()].map(entry => entry.node));
}

/** Replaces one job's row where it stands (a change from the event stream). */
function updateRow(job) {
  const old = shown.get(job.id);
  if (!old) return;
  const entry = { job, json: JSON.stringify(job), node: renderRow(job) };
  old.node.replaceWith(entry.node);
  shown.set(job.id, entry);
}

function renderRow(job) {
  const detailsButton = () => el('button', { type: 'button', class: 'link job-ref', 'aria-label': `Details of job ${job.id}`, onclick: () => showDetail(job) }, job.id);
  return el('tr', { 'data-job-id': job.id, class: selected.has(job.id) || allMatching ? 'selected' : null,
      onclick: event => { if (!event.target.closest('button, summary, a, input')) showDetail(job); } },
    el('td', { class: 'select' }, el('input', { type: 'checkbox', 'aria-label': `Select job ${job.id}`, checked: selected.has(job.id) || allMatching,
      onchange: event => toggleSelected(job.id, event.target.checked) })),
    el('td', { class: 'id' }, detailsButton()),
    // On a phone the id and status columns give their room to the name and come under it, beside the folder.
    el('td', { class: 'file', title: job.output_name ? `${job.file_name} → ${job.output_name}` : job.file_name }, pathLine(job.file_name, {
      lead: downloadButton(job, 'link download'),
      meta: [el('span', { class: 'phone-only' }, detailsButton()), el('span', { class: 'phone-only' }, statusCell(job, { bar: false }))],
      tail: job.output_name ? el('span', { class: 'output-name' }, `→ ${outputShown(job)}`) : null,
    })),
    el('td', { class: 'status' }, statusCell(job)),
    whenCell(job),
    settingsCell(job),
    el('td', { class: 'error-text', title: job.error ?? '' }, job.status === 'failed' || job.status === 'pending' ? job.error ?? unrunnableNote(job) : ''),
    el('td', { class: 'actions' },
      el('span', { class: 'inline-actions' }, ...actionsFor(job)),
      el('button', { type: 'button', class: 'row-menu', 'aria-label': `Actions for job ${job.id}`, 'aria-haspopup': 'dialog', onclick: () => showDetail(job) }, '⋯')));
}

/** The output's own name when it sits beside the input (the usual case: the same name in another container), else its whole path. */
function outputShown(job) {
  const output = splitPath(job.output_name);
  return output.folder === splitPath(job.file_name).folder ? output.name : job.output_name;
}

/** When, as a person asks it of each status: how long it has waited, run, or since it ended (and how long it took). */
function whenCell(job) {
  const now = nowSeconds();
  let text;
  let exact;
  if (job.status === 'pending') {
    text = `waiting ${duration(now - job.created_at)}`;
    exact = `Created ${localTime(job.created_at)}`;
  } else if (job.status === 'in_progress') {
    text = `running ${duration(now - (job.started ?? now))}${job.worker ? ` on ${job.worker}` : ''}`;
    exact = `Started ${localTime(job.started)}`;
  } else {
    const took = job.status === 'finished' && job.started !== null && job.finished !== null ? ` · took ${duration(job.finished - job.started)}` : '';
    text = `${ago(job.finished ?? job.created_at, now)}${took}`;
    exact = `${job.status === 'finished' ? 'Finished' : 'Ended'} ${localTime(job.finished ?? job.created_at)}; created ${localTime(job.created_at)}`;
  }
  return el('td', { class: 'when', title: exact }, text);
}

/** Codec and container when not h264 into MP4, crf, preset and priority; for a finished job its sizes first, as that is what a person then asks. */
function settingsCell(job) {
  const settings = job.settings;
  const quality = settings.video_codec === 'copy' ? null : [settings.crf !== null ? `crf ${settings.crf}` : settings.bitrate, settings.preset].filter(Boolean).join(' · ');
  const text = [job.result === 'kept_original' ? 'original kept' : sizes(job), codecAndContainer(settings), quality,
    job.priority ? `priority ${job.priority}` : null].filter(Boolean).join(' · ');
  return el('td', { class: 'settings', title: text }, text);
}

/** A finished job's sizes and how much smaller the result is: "70.2 MB → 21.0 MB (30%)"; null when unknown. */
function sizes(job) {
  if (job.status !== 'finished' || !job.input_bytes || job.output_bytes === null || job.output_bytes === undefined) return null;
  return `${formatBytes(job.input_bytes)} → ${formatBytes(job.output_bytes)} (${Math.round(100 * job.output_bytes / job.input_bytes)}%)`;
}

/** Saves a finished store job's result (the key travels in a header, so this is a button that fetches, not a plain link). */
function downloadButton(job, extraClass) {
  if (job.status !== 'finished' || !job.output_upload_id) return null;
  return el('button', { type: 'button', class: extraClass, 'aria-label': `Download the result of job ${job.id}`, title: 'Download the result',
    onclick: async event => {
      event.target.disabled = true;
      try {
        await downloadWithKey(`/api/jobs/${job.id}/output`, `job-${job.id}.mp4`);
      } catch (error) {
        if (!header.reportProblem(error)) say(actionMessage, `Could not download the result of job ${job.id}: ${error.message}`);
      } finally {
        event.target.disabled = false;
      }
    } }, extraClass.includes('link') ? '⤓' : 'Download result');
}

/** The status with its details and a progress bar; bar: false leaves the bar out (the phone's line under the name, where the percent says it). */
function statusCell(job, { bar = true } = {}) {
  const running = job.status === 'in_progress';
  const note = [];
  // A store job's worker also downloads and uploads; its progress is then that transfer's.
  if (running && job.phase && job.phase !== 'encoding') note.push(job.phase);
  if (running && job.progress !== null) note.push(`${Math.floor(job.progress)}%`);
  if (running && job.eta_seconds !== null && job.eta_seconds !== undefined) note.push(`${duration(job.eta_seconds)} left`);
  if (job.cancel_requested) note.push('cancelling…');
  if (job.attempts > 1) note.push(`attempt ${job.attempts}/${job.max_attempts}`);
  return [el('span', { class: `status-badge status-${job.status}` }, job.status.replace('_', ' ')),
    bar && running && job.progress !== null ? el('progress', { max: 100, value: job.progress, 'aria-label': `Job ${job.id} progress` }) : null,
    note.length ? el('span', { class: 'status-details' }, ` ${note.join(' · ')}`) : null];
}

detail.addEventListener('close', () => closeJobTasks());

function showDetail(job) {
  const fields = [
    ['Status', job.status.replace('_', ' ') + (job.cancel_requested ? ' (cancelling)' : '')],
    ['File name', job.file_name], ['Output', job.output_name ?? '–'],
    ['If the output exists', job.overwrite ? 'replace it' : 'fail the job'],
    ['Priority', job.priority],
    ['Attempts', `${job.attempts} of ${job.max_attempts}`], ['Worker', job.worker ?? '–'],
    ['Progress', job.progress === null ? '–' : `${Math.floor(job.progress)}%`],
    ['Speed', job.speed === null ? '–' : `${job.speed}×`], ['Time left', job.eta_seconds === null ? '–' : duration(job.eta_seconds)],
    ['Input', job.upload_id ? `uploaded to the host${job.input_bytes ? `, ${formatBytes(job.input_bytes)}` : ''}`
      : `in the workers' shared folder${job.input_bytes ? `, ${formatBytes(job.input_bytes)}` : ''}`],
    ['Result', sizes(job) ?? (job.output_bytes ? formatBytes(job.output_bytes) : '–')],
    ...jobSettingsDetail(job),
    ['Phase', job.phase ?? '–'],
    ['Created', localTime(job.created_at)], ['Started', localTime(job.started) || '–'], ['Finished', localTime(job.finished) || '–'],
    ['Lease until', localTime(job.lease_expires_at) || '–'], ['Error', job.error ?? (unrunnableNote(job) || '–')],
  ];
  $('detail-title').textContent = `Job ${job.id}`;
  $('detail-fields').replaceChildren(...fields.flatMap(([name, value]) => [el('dt', {}, name), el('dd', {}, value)]));
  say($('detail-message'), '');
  // A job made of tasks: its tasks, outputs and storyboard, kept current while the detail is open.
  showJobTasks($('detail-tasks'), job, (error, what) => {
    if (!header.reportProblem(error)) say($('detail-message'), `Could not ${what}: ${error.message}`);
  });
  $('detail-log').replaceChildren(...(job.log_tail ? [el('h3', {}, 'ffmpeg log (last 4 KB)'), el('pre', {}, job.log_tail)] : []));
  $('detail-actions').replaceChildren(downloadButton(job, 'primary') ?? '', ...actionsFor(job));
  if (!detail.open) detail.showModal();
}

/** The actions that apply to a job in its state and the key's role; each asks before it acts. */
function actionsFor(job) {
  const button = (action, label, question, extraClass) => el('button', {
    type: 'button', class: extraClass, 'aria-label': `${label} job ${job.id}`,
    onclick: () => act(job, action, question, label),
  }, label);
  const name = `job ${job.id} (${job.file_name})`;
  const buttons = [];
  if (maySubmit() && (job.status === 'pending' || job.status === 'in_progress') && !job.cancel_requested)
    buttons.push(button('cancel', 'Cancel', `Cancel ${name}?`));
  if (maySubmit() && (job.status === 'failed' || job.status === 'cancelled'))
    buttons.push(button('retry', 'Retry', `Put ${name} back in the queue for a fresh start?`));
  if (isAdmin() && (job.status === 'finished' || job.status === 'in_progress'))
    buttons.push(button('reset', 'Reset', `Put ${name} back in the queue?`));
  if (isAdmin()) buttons.push(button('delete', 'Delete', `Delete ${name}? This cannot be undone.`, 'danger'));
  return buttons;
}

function renderPager(pages, offset, count) {
  const noun = state.q ? 'match' : 'job';
  if (pages === null) pageInfo.textContent = `Page ${state.page} · ${noun}es ${offset + 1}–${offset + count} of more`;
  else pageInfo.textContent = `Page ${state.page} of ${pages} · ${matching} ${noun}${matching === 1 ? '' : noun === 'match' ? 'es' : 's'}`;
  $('previous').disabled = state.page <= 1;
  $('next').disabled = pages === null ? !moreOnNextPage : state.page >= pages;
}

const ACTIONS = {
  cancel: { method: 'POST', path: id => `/api/jobs/${id}/cancel`, done: job => job.status === 'cancelled' ? `Job ${job.id} is cancelled.` : `Job ${job.id} will stop: its worker has been asked to cancel it.` },
  retry: { method: 'POST', path: id => `/api/jobs/${id}/retry`, done: job => `Job ${job.id} is back in the queue.` },
  reset: { method: 'POST', path: id => `/api/jobs/${id}/reset`, done: job => `Job ${job.id} is back in the queue.` },
  delete: { method: 'DELETE', path: id => `/api/jobs/${id}`, done: () => null },
};

async function act(job, action, question, confirmLabel) {
  if (!await confirmed(question, confirmLabel)) return;
  if (detail.open) detail.close();
  const { method, path, done } = ACTIONS[action];
  try {
    const answer = await api(method, path(job.id));
    say(actionMessage, done(answer) ?? `Deleted job ${job.id}.`, 'success');
  } catch (error) {
    if (!header.reportProblem(error)) say(actionMessage, `Could not ${action} job ${job.id}: ${error.message}`);
  }
  await load();
}

function confirmed(question, confirmLabel) {
  $('confirm-text').textContent = question;
  $('confirm-ok').textContent = confirmLabel;
  dialog.returnValue = '';
  dialog.showModal();
  return new Promise(resolve => dialog.addEventListener('close', () => resolve(dialog.returnValue === 'confirm'), { once: true }));
}

// ---- selection and bulk actions -------------------------------------------------------------

function toggleSelected(id, on) {
  if (allMatching) {             // leaving "all that match": keep this page's other rows selected
    allMatching = false;
    for (const jobId of shown.keys()) selected.add(jobId);
  }
  if (on) selected.add(id);
  else selected.delete(id);
  shown.get(id)?.node.classList.toggle('selected', on);
  renderBulk();
}

selectPage.addEventListener('change', () => {
  allMatching = false;
  for (const id of shown.keys()) {
    if (selectPage.checked) selected.add(id);
    else selected.delete(id);
  }
  refreshSelectionMarks();
});

$('select-matching').addEventListener('click', () => {
  allMatching = true;
  refreshSelectionMarks();
});

$('clear-selection').addEventListener('click', () => clearSelection());

function clearSelection() {
  selected.clear();
  allMatching = false;
  refreshSelectionMarks();
}

function refreshSelectionMarks() {
  for (const { node } of shown.values()) {
    const box = node.querySelector('td.select input');
    const on = allMatching || selected.has(Number(node.dataset.jobId));
    box.checked = on;
    node.classList.toggle('selected', on);
  }
  renderBulk();
}

/** What the selection is, in words: "3 jobs", "all 1,204 failed jobs", "every job matching “x”". */
function selectionWords() {
  if (!allMatching) return `${selected.size} job${selected.size === 1 ? '' : 's'}`;
  const kind = state.status === 'all' ? '' : `${state.status.replace('_', ' ')} `;
  const search = state.q ? ` matching “${state.q}”` : '';
  return matching === null ? `every ${kind}job${search}` : `all ${matching.toLocaleString()} ${kind}job${matching === 1 ? '' : 's'}${search}`;
}

const BULK = [
  ['cancel', 'Cancel', maySubmit], ['retry', 'Retry', maySubmit], ['reset', 'Reset', isAdmin], ['delete', 'Delete', isAdmin],
];

function renderBulk() {
  const count = allMatching ? (matching ?? Infinity) : selected.size;
  $('bulk').hidden = count === 0;
  const onPage = [...shown.keys()];
  selectPage.checked = onPage.length > 0 && (allMatching || onPage.every(id => selected.has(id)));
  selectPage.indeterminate = !selectPage.checked && onPage.some(id => selected.has(id));
  if (count === 0) return;
  $('bulk-count').textContent = `${allMatching ? 'Selected' : ''} ${selectionWords()}${allMatching ? '' : ' selected'}.`.trim();
  const offerAll = !allMatching && selectPage.checked && (matching === null || matching > onPage.length);
  const matchButton = $('select-matching');
  matchButton.hidden = !offerAll;
  matchButton.textContent = matching === null ? 'Select every job that matches' : `Select all ${matching.toLocaleString()} that match`;
  $('bulk-actions').replaceChildren(...BULK.filter(([, , allowed]) => allowed()).map(([action, label]) =>
    el('button', { type: 'button', class: action === 'delete' ? 'danger' : null, 'aria-label': `${label} selected jobs`,
      onclick: () => bulk(action, label) }, label)));
}

/** One confirmation, then one request (or, for more matches than one request handles, one after another until done). */
async function bulk(action, label) {
  const words = selectionWords();
  const warning = action === 'delete' ? ' Running jobs are left alone; this cannot be undone.' : '';
  if (!await confirmed(`${label} ${words}?${warning}`, `${label} ${words}`)) return;
  const body = allMatching
    ? { action, status: state.status, ...(state.q ? { q: state.q } : {}) }
    : { action, ids: [...selected] };
  let changed = 0;
  let skipped = [];
  let skippedCount = 0;
  try {
    for (;;) {
      const answer = await api('POST', '/api/jobs/bulk', body);
      changed += answer.changed;
      skipped = skipped.concat(answer.skipped);
      skippedCount += answer.skipped_count;
      // A filter handles a bounded number of jobs per request: repeat while that made progress.
      if (!answer.more_matched || answer.changed === 0) break;
    }
    const reasons = [...new Set(skipped.map(skip => skip.reason))];
    say(actionMessage, `${label}: ${changed} job${changed === 1 ? '' : 's'} changed` +
      (skippedCount ? `; ${skippedCount} skipped (${reasons.slice(0, 3).join('; ')}${reasons.length > 3 ? '; …' : ''}).` : '.'), 'success');
    clearSelection();
  } catch (error) {
    if (!header.reportProblem(error)) say(actionMessage, `Could not ${action} ${words}: ${error.message}`);
  }
  await load();
}

// ---- live updates ---------------------------------------------------------------------------

let panelsTimer = null;
/** The workers panel and figures soon: a job's progress or end moves them too. */
function schedulePanels() {
  panelsTimer ??= setTimeout(() => { panelsTimer = null; refreshPanels(); }, REFETCH_MS);
}

let refetchTimer = null;
/** A fetch of the page soon, folding a burst of changes (a bulk action's thousands) into one. */
function scheduleLoad() {
  refetchTimer ??= setTimeout(() => { refetchTimer = null; load(); }, REFETCH_MS);
}

/** Applies one change from the stream: the row in place when it is on this page; a fetch when the page's set of jobs may change. */
function onEvent(type, data) {
  if (!autoRefresh.checked) return;
  if (type === 'reset') { scheduleLoad(); return; }
  const job = JSON.parse(data);
  schedulePanels();
  // A task is never a row of the list (its job is, changed by the host with it): only an open detail shows it.
  if (job.task) {
    taskChanged(type, job);
    return;
  }
  // Progress brings new figures and nothing else: the rest of the row stays as the last change left it (a
  // heartbeat answered from a host's memory may not know yet of a cancel asked on another host). One that
  // arrives after the job's end (another host's, read back late) is stale.
  if (type === 'progress') {
    const current = shown.get(job.id)?.job;
    if (current?.status === 'in_progress')
      updateRow({ ...current, progress: job.progress, speed: job.speed, eta_seconds: job.eta_seconds, phase: job.phase });
    return;
  }
  const stays = shown.has(job.id) && type !== 'deleted' && (state.status === 'all' || state.status === job.status);
  if (stays) updateRow(job);
  // Counts, and which jobs belong on this page, moved: fetched again, changed rows only are redrawn.
  scheduleLoad();
}

const LIVE_TEXT = {
  live: 'Live',
  retrying: 'Reconnecting… (refreshing every 5 s meanwhile)',
  refused: 'Live updates stopped: the host rejected the API key. Save the right key above.',
  'no-key': 'Live updates need an API key: save it above.',
};

function onStreamState(streamState) {
  live = streamState === 'live';
  const indicator = $('live');
  indicator.textContent = LIVE_TEXT[streamState];
  indicator.classList.toggle('on', live);
  indicator.classList.toggle('off', !live);
  if (streamState === 'refused') header.reportProblem(new ApiError(401, null, 'Unauthorized'));
}

load();
followEvents(onEvent, onStreamState);
