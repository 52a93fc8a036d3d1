// The keys view, for admin keys: make a key (its secret shown once), list and revoke keys, and read
// the audit trail of who did what. Other roles are told they cannot manage keys.
import { api, getApiKey } from '/shared/api.js';
import { el, localTime, say } from '/shared/dom.js';
import { setUpHeader } from '/shared/key-bar.js';
import { confirmed } from '/shared/confirm.js';

const AUDIT_ROWS = 50;

const header = setUpHeader(() => load());
const message = document.getElementById('message');
const adminOnly = document.getElementById('admin-only');
const keysBody = document.getElementById('keys');
const auditBody = document.getElementById('audit');
const form = document.getElementById('new-key');
const secretBox = document.getElementById('secret-box');

form.addEventListener('submit', async event => {
  event.preventDefault();
  const name = form.elements.name.value.trim();
  try {
    const created = await api('POST', '/api/keys', { name, role: form.elements.role.value });
    document.getElementById('secret-name').textContent = `${created.name} (${created.role})`;
    document.getElementById('secret').textContent = created.key;
    secretBox.hidden = false;
    form.reset();
    say(message, '');
    await load();
  } catch (error) {
    report(error);
  }
});

document.getElementById('copy-secret').addEventListener('click', async () => {
  const secret = document.getElementById('secret').textContent;
  try {
    await navigator.clipboard.writeText(secret);
    say(message, 'Copied.', 'success');
  } catch {
    say(message, 'The browser would not copy; select the key and copy it by hand.');
  }
});

async function revoke(name) {
  if (!await confirmed(`Revoke the key “${name}”? Whatever uses it is refused from now on.`)) return;
  try {
    await api('DELETE', `/api/keys/${encodeURIComponent(name)}`);
    say(message, `Revoked “${name}”.`, 'success');
    await load();
  } catch (error) {
    report(error);
  }
}

async function load() {
  const key = await header.currentKey();
  adminOnly.hidden = key?.role !== 'admin';
  if (!key) {
    if (getApiKey()) say(message, 'Could not learn this key’s role: the host refused it or did not answer (see the top of the page).');
    return;
  }
  if (key.role !== 'admin') {
    say(message, `This page is for admin keys; “${key.name}” is a ${key.role} key.`);
    return;
  }
  try {
    const [keys, audit] = await Promise.all([api('GET', '/api/keys'), api('GET', `/api/audit?limit=${AUDIT_ROWS}`)]);
    keysBody.replaceChildren(...keys.map(item => el('tr', {},
      el('td', {}, item.name), el('td', {}, item.role), el('td', {}, localTime(item.created_at)),
      el('td', {}, item.created_by ?? ''), el('td', {}, item.last_used_at ? localTime(item.last_used_at) : 'never'),
      el('td', {}, quotaText(item.quota, item.usage)),
      el('td', { class: 'actions' }, el('button', { type: 'button', class: 'danger', 'aria-label': `Revoke ${item.name}`, onclick: () => revoke(item.name) }, 'Revoke')))));
    if (keys.length === 0) keysBody.replaceChildren(el('tr', {}, el('td', { colspan: 7 }, 'No keys made yet.')));
    auditBody.replaceChildren(...audit.map(entry => el('tr', {},
      el('td', {}, localTime(entry.at)), el('td', {}, entry.key_name), el('td', {}, entry.action),
      el('td', {}, entry.target ?? ''), el('td', {}, entry.detail ?? ''))));
  } catch (error) {
    report(error);
  }
}

/**
 * A key's quota beside what it used in the quota day (docs/quotas.md): "jobs 3 of 500 · encode 1,200 of 36,000 s ·
 * pending 2 of 50"; a limit the key does not have shows the use alone; "no quota" before it when it has none.
 */
function quotaText(quota, usage) {
  if (!usage) return '';
  const part = (label, used, limit, unit = '') =>
    `${label} ${Math.floor(used).toLocaleString()}${limit === null || limit === undefined ? '' : ` of ${limit.toLocaleString()}`}${unit}`;
  const parts = [part('jobs', usage.jobs, quota?.jobs_per_day), part('encode', usage.encode_seconds, quota?.encode_seconds_per_day, ' s'),
    part('pending', usage.pending, quota?.max_pending)];
  return (quota ? '' : 'no quota · ') + parts.join(' · ');
}

function report(error) {
  if (!header.reportProblem(error)) say(message, error.message);
}

load();
