// The jobs table: one page at a time from the host (limit/offset), a status filter with counts,
// auto refresh, and delete and reset behind a confirmation. Filter, page and page size live in
// the address, so a reload or a shared link shows the same view.
import { api } from '/shared/api.js';
import { el, localTime, say } from '/shared/dom.js';
import { setUpHeader } from '/shared/key-bar.js';

const STATUSES = [['all', 'All'], ['pending', 'Pending'], ['in_progress', 'In progress'], ['finished', 'Finished'], ['failed', 'Failed'], ['cancelled', 'Cancelled']];
const REFRESH_MS = 5000;

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

pageSize.value = String(state.size);
pageSize.addEventListener('change', () => show({ size: parseInt(pageSize.value, 10), page: 1 }));
previous.addEventListener('click', () => show({ page: state.page - 1 }));
next.addEventListener('click', () => show({ page: state.page + 1 }));
document.getElementById('refresh').addEventListener('click', () => load());
setInterval(() => {
  if (autoRefresh.checked && !dialog.open && !document.hidden) load();
}, REFRESH_MS);

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
    const [stats, jobs] = await Promise.all([
      api('GET', '/api/stats'),
      api('GET', `/api/jobs?status=${state.status}&limit=${state.size}&offset=${offset}`),
    ]);
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
  rows.replaceChildren(...jobs.map(job => el('tr', { 'data-job-id': job.id },
    el('td', {}, job.id),
    el('td', { class: 'file' }, job.file_name),
    el('td', {}, job.crf),
    el('td', {}, job.preset),
    el('td', { class: 'hide-narrow' }, job.priority),
    el('td', {}, statusCell(job)),
    el('td', { class: 'hide-narrow' }, localTime(job.started)),
    el('td', { class: 'hide-narrow' }, localTime(job.finished)),
    el('td', { class: 'hide-narrow' }, localTime(job.created_at)),
    el('td', { class: 'error-text' }, job.status === 'failed' || job.status === 'pending' ? job.error ?? '' : '',
      job.log_tail ? el('details', {}, el('summary', {}, 'ffmpeg log'), el('pre', {}, job.log_tail)) : null),
    el('td', { class: 'actions' }, ...actionsFor(job)))));
}

function statusCell(job) {
  const details = [];
  if (job.status === 'in_progress' && job.progress !== null) details.push(`${Math.floor(job.progress)}%`);
  if (job.cancel_requested) details.push('cancelling…');
  if (job.worker && job.status === 'in_progress') details.push(`on ${job.worker}`);
  if (job.attempts > 1) details.push(`attempt ${job.attempts} of ${job.max_attempts}`);
  return [el('span', { class: `status-badge status-${job.status}` }, job.status.replace('_', ' ')),
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
  if ((job.status === 'pending' || job.status === 'in_progress') && !job.cancel_requested)
    buttons.push(button('cancel', 'Cancel', `Cancel ${name}?`));
  if (job.status === 'failed' || job.status === 'cancelled')
    buttons.push(button('retry', 'Retry', `Put ${name} back in the queue for a fresh start?`));
  if (job.status === 'finished' || job.status === 'in_progress')
    buttons.push(button('reset', 'Reset', `Put ${name} back in the queue?`));
  buttons.push(button('delete', 'Delete', `Delete ${name}? This cannot be undone.`, 'danger'));
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

load();
