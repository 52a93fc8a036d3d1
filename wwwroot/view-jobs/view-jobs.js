// The jobs table: one page at a time from the host (limit/offset), a status filter with counts,
// a summary strip, a detail view per job, and actions behind a confirmation. Changes arrive live
// from the host's event stream (GET /api/events, read with fetch so it can send the key); while
// the stream is down the page polls every 5 seconds instead. Filter, page and page size live in
// the address, so a reload or a shared link shows the same view. Above the jobs: whether the queue
// is paused, and the workers with their drain; admins get the buttons that change them (the event
// stream carries job changes only, so these two are polled every 5 seconds).
import { api, getApiKey } from '/shared/api.js';
import { el, localTime, say } from '/shared/dom.js';
import { setUpHeader } from '/shared/key-bar.js';

const STATUSES = [['all', 'All'], ['pending', 'Pending'], ['in_progress', 'In progress'], ['finished', 'Finished'], ['failed', 'Failed'], ['cancelled', 'Cancelled']];
const POLL_MS = 5000;

const params = new URLSearchParams(location.search);
const state = {
  status: STATUSES.some(([value]) => value === params.get('status')) ? params.get('status') : 'all',
  page: Math.max(1, parseInt(params.get('page'), 10) || 1),
  size: [25, 50, 100, 200].includes(parseInt(params.get('size'), 10)) ? parseInt(params.get('size'), 10) : 50,
};

const header = setUpHeader(() => load());
const rows = document.getElementById('rows');
const message = document.getElementById('message');
const actionMessage = document.getElementById('action-message');
const filters = document.getElementById('filters');
const pageInfo = document.getElementById('page-info');
const previous = document.getElementById('previous');
const next = document.getElementById('next');
const pageSize = document.getElementById('page-size');
const autoRefresh = document.getElementById('auto-refresh');
const dialog = document.getElementById('confirm');
const detail = document.getElementById('detail');
const liveIndicator = document.getElementById('live');
const queueState = document.getElementById('queue-state');
const queueToggle = document.getElementById('queue-toggle');
const workersBody = document.getElementById('workers');
const workersTitle = document.getElementById('workers-title');
let live = false;
// The role of the key in use (GET /api/keys/current, asked by the key bar when a key is saved).
let role = null;

pageSize.value = String(state.size);
pageSize.addEventListener('change', () => show({ size: parseInt(pageSize.value, 10), page: 1 }));
previous.addEventListener('click', () => show({ page: state.page - 1 }));
next.addEventListener('click', () => show({ page: state.page + 1 }));
document.getElementById('refresh').addEventListener('click', () => load());
// Polling is the fallback: only while the event stream is down.
setInterval(() => {
  if (!autoRefresh.checked || dialog.open || document.hidden) return;
  if (live) refreshQueue();
  else load();
}, POLL_MS);

function show(change) {
  Object.assign(state, change);
  const query = new URLSearchParams({ status: state.status, page: state.page, size: state.size });
  history.replaceState(null, '', `?${query}`);
  load();
}

let loading = null;
function load() {
  // Never two loads at once: a refresh during a load shares it, and the next tick catches up.
  loading ??= fetchPage().finally(() => { loading = null; });
  return loading;
}

async function fetchPage() {
  try {
    const offset = (state.page - 1) * state.size;
    const [stats, jobs, workers, queue] = await Promise.all([
      api('GET', '/api/stats'),
      api('GET', `/api/jobs?status=${state.status}&limit=${state.size}&offset=${offset}`),
      api('GET', '/api/workers'),
      api('GET', '/api/queue'),
      knowRole(),
    ]);
    renderDashboard(stats, workers);
    renderQueue(queue);
    renderWorkers(workers);
    const total = state.status === 'all' ? stats.total : stats.counts[state.status] ?? 0;
    const pages = Math.max(1, Math.ceil(total / state.size));
    renderFilters(stats);
    if (state.page > pages) {           // the last page emptied (deletes): step back to the new last page
      setTimeout(() => show({ page: pages }));
      return;
    }
    renderRows(jobs);
    renderPager(total, pages);
    say(message, '');
  } catch (error) {
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

async function refreshQueue() {
  try {
    const [queue, workers] = await Promise.all([api('GET', '/api/queue'), api('GET', '/api/workers')]);
    renderQueue(queue);
    renderWorkers(workers);
  } catch {
    // The next full load reports the problem.
  }
}

function renderQueue(queue) {
  queueState.textContent = queue.paused
    ? `Queue paused (since ${localTime(queue.paused_at)}, by ${queue.paused_by ?? 'unknown'}): workers get no new jobs; running jobs go on.`
    : 'Queue running: workers claim jobs.';
  queueState.classList.toggle('paused', queue.paused);
  queueToggle.textContent = queue.paused ? 'Resume' : 'Pause';
  queueToggle.dataset.action = queue.paused ? 'resume' : 'pause';
  queueToggle.hidden = !isAdmin();
}

queueToggle.addEventListener('click', () => {
  const resume = queueToggle.dataset.action === 'resume';
  control('POST', resume ? '/api/queue/resume' : '/api/queue/pause',
    resume ? 'The queue is resumed.' : 'The queue is paused: running jobs go on, no new ones start.',
    resume ? 'resume the queue' : 'pause the queue');
});

function renderWorkers(workers) {
  const draining = workers.filter(worker => worker.draining).length;
  workersTitle.textContent = `Workers (${workers.length}${draining ? `, ${draining} draining` : ''})`;
  if (workers.length === 0) {
    workersBody.replaceChildren(el('tr', {}, el('td', { colspan: 6 }, 'No workers seen yet.')));
    return;
  }
  workersBody.replaceChildren(...workers.map(worker => {
    const condition = worker.last_seen_at === null ? 'never seen' : worker.lost ? 'lost' : 'online';
    const path = `/api/workers/${encodeURIComponent(worker.name)}/drain`;
    const button = !isAdmin() ? null : worker.draining
      ? el('button', { type: 'button', 'aria-label': `Undrain ${worker.name}`,
          onclick: () => control('DELETE', path, `${worker.name} may claim jobs again.`, `undrain ${worker.name}`) }, 'Undrain')
      : el('button', { type: 'button', 'aria-label': `Drain ${worker.name}`,
          onclick: () => control('POST', path, `${worker.name} will finish its running jobs, claim no more and exit.`, `drain ${worker.name}`) }, 'Drain');
    return el('tr', { 'data-worker': worker.name },
      el('td', {}, worker.name),
      el('td', {}, worker.draining ? `${condition}, draining` : condition),
      el('td', { class: 'hide-narrow' }, localTime(worker.last_seen_at) || '–'),
      el('td', {}, worker.jobs.map(job => `#${job.id} ${job.file_name}${job.progress === null ? '' : ` (${Math.floor(job.progress)}%)`}`).join(', ') || '–'),
      el('td', { class: 'hide-narrow' }, `${worker.jobs_finished} / ${worker.jobs_failed}`),
      el('td', { class: 'actions' }, button));
  }));
}

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
  filters.replaceChildren(...STATUSES.map(([value, label]) => {
    const count = value === 'all' ? stats.total : stats.counts[value] ?? 0;
    return el('button', {
      type: 'button',
      'aria-pressed': String(state.status === value),
      'data-status': value,
      onclick: () => show({ status: value, page: 1 }),
    }, `${label} (${count})`);
  }));
}

function renderRows(jobs) {
  if (jobs.length === 0) {
    rows.replaceChildren(el('tr', {}, el('td', { colspan: 11 }, 'No jobs here.')));
    return;
  }
  rows.replaceChildren(...jobs.map(renderRow));
}

function renderRow(job) {
  return el('tr', { 'data-job-id': job.id, onclick: event => { if (!event.target.closest('button, summary, a')) showDetail(job); } },
    el('td', {}, el('button', { type: 'button', class: 'link', 'aria-label': `Details of job ${job.id}`, onclick: () => showDetail(job) }, job.id)),
    el('td', { class: 'file' }, el('span', { class: 'file-name' }, job.file_name), el('span', { class: 'output-name' }, `→ ${job.output_name ?? ''}`)),
    el('td', {}, job.crf),
    el('td', {}, job.preset),
    el('td', { class: 'hide-narrow' }, job.priority),
    el('td', {}, statusCell(job)),
    el('td', { class: 'hide-narrow' }, localTime(job.started)),
    el('td', { class: 'hide-narrow' }, localTime(job.finished)),
    el('td', { class: 'hide-narrow' }, localTime(job.created_at)),
    el('td', { class: 'error-text' }, job.status === 'failed' || job.status === 'pending' ? job.error ?? '' : '',
      job.log_tail ? el('details', {}, el('summary', {}, 'ffmpeg log'), el('pre', {}, job.log_tail)) : null),
    el('td', { class: 'actions' }, ...actionsFor(job)));
}

function renderDashboard(stats, workers) {
  const seconds = value => value === null || value === undefined ? '–' : value < 120 ? `${Math.round(value)} s` : `${Math.round(value / 60)} min`;
  document.getElementById('dash-pending').textContent = stats.counts.pending ?? 0;
  document.getElementById('dash-running').textContent = stats.counts.in_progress ?? 0;
  document.getElementById('dash-finished-hour').textContent = stats.finished_last_hour;
  document.getElementById('dash-wait').textContent = seconds(stats.average_wait_seconds);
  document.getElementById('dash-encode').textContent = seconds(stats.average_encode_seconds);
  const online = workers.filter(worker => !worker.lost).length;
  const lost = workers.length - online;
  document.getElementById('dash-workers').textContent = lost > 0 ? `${online} (${lost} lost)` : online;
}

function showDetail(job) {
  const fields = [
    ['Status', job.status.replace('_', ' ') + (job.cancel_requested ? ' (cancelling)' : '')],
    ['File name', job.file_name], ['Output', job.output_name ?? '–'],
    ['If the output exists', job.overwrite ? 'replace it' : 'fail the job'],
    ['CRF', job.crf], ['Preset', job.preset], ['Priority', job.priority],
    ['Attempts', `${job.attempts} of ${job.max_attempts}`], ['Worker', job.worker ?? '–'],
    ['Progress', job.progress === null ? '–' : `${Math.floor(job.progress)}%`],
    ['Speed', job.speed === null ? '–' : `${job.speed}×`], ['Time left', job.eta_seconds === null ? '–' : `${job.eta_seconds} s`],
    ['Created', localTime(job.created_at)], ['Started', localTime(job.started) || '–'], ['Finished', localTime(job.finished) || '–'],
    ['Lease until', localTime(job.lease_expires_at) || '–'], ['Error', job.error ?? '–'],
  ];
  document.getElementById('detail-title').textContent = `Job ${job.id}`;
  document.getElementById('detail-fields').replaceChildren(...fields.flatMap(([name, value]) => [el('dt', {}, name), el('dd', {}, value)]));
  document.getElementById('detail-log').replaceChildren(...(job.log_tail ? [el('h3', {}, 'ffmpeg log (last 4 KB)'), el('pre', {}, job.log_tail)] : []));
  document.getElementById('detail-actions').replaceChildren(...actionsFor(job));
  if (!detail.open) detail.showModal();
}

function statusCell(job) {
  const details = [];
  const bar = job.status === 'in_progress' && job.progress !== null
    ? el('progress', { max: 100, value: job.progress, 'aria-label': `Job ${job.id} progress` }) : null;
  if (job.status === 'in_progress' && job.progress !== null) details.push(`${Math.floor(job.progress)}%`);
  if (job.status === 'in_progress' && job.eta_seconds !== null && job.eta_seconds !== undefined) details.push(`${job.eta_seconds} s left`);
  if (job.cancel_requested) details.push('cancelling…');
  if (job.worker && job.status === 'in_progress') details.push(`on ${job.worker}`);
  if (job.attempts > 1) details.push(`attempt ${job.attempts} of ${job.max_attempts}`);
  return [el('span', { class: `status-badge status-${job.status}` }, job.status.replace('_', ' ')), bar,
    details.length ? el('div', { class: 'status-details' }, details.join(' · ')) : null];
}

/** The actions that apply to a job in its state; each asks before it acts. */
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

function renderPager(total, pages) {
  pageInfo.textContent = `Page ${state.page} of ${pages} · ${total} job${total === 1 ? '' : 's'}`;
  previous.disabled = state.page <= 1;
  next.disabled = state.page >= pages;
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
  document.getElementById('confirm-text').textContent = question;
  document.getElementById('confirm-ok').textContent = confirmLabel;
  dialog.returnValue = '';
  dialog.showModal();
  return new Promise(resolve => dialog.addEventListener('close', () => resolve(dialog.returnValue === 'confirm'), { once: true }));
}

// ---- live updates ---------------------------------------------------------------------------

let reloadTimer = null;
function scheduleLoad() {
  reloadTimer ??= setTimeout(() => { reloadTimer = null; load(); }, 300);
}

/** Applies one change from the stream: the row in place when it is on this page, else a reload. */
function onEvent(type, data) {
  if (!autoRefresh.checked) return;
  if (type === 'reset') { scheduleLoad(); return; }
  const job = JSON.parse(data);
  const row = rows.querySelector(`tr[data-job-id="${job.id}"]`);
  if (type !== 'deleted' && row && (state.status === 'all' || state.status === job.status)) {
    row.replaceWith(renderRow(job));
    if (type !== 'progress') scheduleLoad();   // the counts and the summary moved too
  } else if (type !== 'progress') {
    scheduleLoad();
  }
}

function setLive(on) {
  live = on;
  liveIndicator.textContent = on ? 'Live' : 'Reconnecting… (refreshing every 5 s meanwhile)';
  liveIndicator.classList.toggle('on', on);
  liveIndicator.classList.toggle('off', !on);
}

const sleep = ms => new Promise(resolve => setTimeout(resolve, ms));

/** Reads GET /api/events for as long as the page is open, reconnecting with Last-Event-ID. */
async function followEvents() {
  let lastId = null;
  let delay = 1000;
  for (;;) {
    try {
      const headers = { 'X-API-Key': getApiKey() };
      if (lastId) headers['Last-Event-ID'] = lastId;
      const response = await fetch('/api/events', { headers });
      if (!response.ok || !response.body) throw new Error(`events answered ${response.status}`);
      setLive(true);
      delay = 1000;
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let end;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const fields = Object.fromEntries(block.split('\n').filter(line => !line.startsWith(':'))
            .map(line => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 2)]));
          if (fields.id) lastId = fields.id;
          if (fields.event && fields.data) onEvent(fields.event, fields.data);
        }
      }
    } catch {
      // The host went away or refused the key: reconnect below.
    }
    setLive(false);
    await sleep(delay);
    delay = Math.min(delay * 2, 10000);
  }
}

load();
followEvents();
