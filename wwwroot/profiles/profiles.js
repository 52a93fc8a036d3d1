// The profiles view: every profile (built-in ones marked and read-only) with its settings in a line;
// for submit and admin keys, a form to make, change (Edit) or copy one and a Delete that asks first.
// The host judges a profile on save; its 400 names the field, and the message is shown at it.
import { api, getApiKey } from '/shared/api.js';
import { el, localTime, say } from '/shared/dom.js';
import { describeSettings } from '/shared/encode-settings.js';
import { setUpHeader } from '/shared/key-bar.js';
import { SettingsForm } from './settings-form.js';
import { confirmed } from '/shared/confirm.js';

const header = setUpHeader(() => load());
const message = document.getElementById('message');
const saveMessage = document.getElementById('save-message');
const list = document.getElementById('profiles');
const editor = document.getElementById('editor');
const form = document.getElementById('profile-form');
const title = document.getElementById('editor-title');
let settingsForm = null;
let defaults = null;
let maySave = false;

form.addEventListener('submit', async event => {
  event.preventDefault();
  clearErrors();
  const name = form.elements.name.value.trim();
  if (!form.elements.name.checkValidity() || name === '') {
    showFieldError('name', 'Enter a name of 1 to 64 letters, digits, “.”, “_” or “-”.');
    return;
  }
  const button = form.querySelector('button[type="submit"]');
  button.disabled = true;
  try {
    const saved = await api('PUT', `/api/profiles/${encodeURIComponent(name)}`, settingsForm.read());
    say(saveMessage, `Saved “${saved.name}”: ${describeSettings(saved.settings)}.`, 'success');
    edit(saved);
    await loadList();
  } catch (error) {
    if (header.reportProblem(error)) say(saveMessage, 'Not saved: the API key is missing or was rejected (see the top of the page).');
    else if (error.body?.field) {
      showFieldError(error.body.field, error.message);
      say(saveMessage, 'Not saved: fix the field marked above.');
    } else say(saveMessage, `Not saved: ${error.message}`);
  } finally {
    button.disabled = false;
  }
});

document.getElementById('new-profile').addEventListener('click', () => {
  clearErrors();
  say(saveMessage, '');
  startNew();
});

/** An empty form with the host's defaults (today's libx264 + AAC into MP4). */
function startNew() {
  title.textContent = 'New profile';
  form.elements.name.value = '';
  settingsForm.show(defaults);
}

/** The form with a saved profile's settings; saving keeps its name unless the name is changed. */
function edit(profile) {
  title.textContent = `Edit “${profile.name}”`;
  form.elements.name.value = profile.name;
  settingsForm.show(profile.settings);
}

/** The form with a profile's settings under a new name (a built-in one cannot be changed). */
function copy(profile) {
  clearErrors();
  say(saveMessage, '');
  title.textContent = `New profile from “${profile.name}”`;
  form.elements.name.value = `${profile.name}-mine`;
  settingsForm.show(profile.settings);
  form.elements.name.focus();
}

async function remove(profile) {
  if (!await confirmed(`Delete the profile “${profile.name}”? Jobs already added with it keep their settings.`)) return;
  try {
    await api('DELETE', `/api/profiles/${encodeURIComponent(profile.name)}`);
    say(message, `Deleted “${profile.name}”.`, 'success');
    if (form.elements.name.value === profile.name) startNew();
    await loadList();
  } catch (error) {
    if (!header.reportProblem(error)) say(message, `Could not delete “${profile.name}”: ${error.message}`);
  }
}

async function load() {
  const key = await header.currentKey();
  if (!key) {
    if (getApiKey()) say(message, 'Could not learn this key’s role: the host refused it or did not answer (see the top of the page).');
    return;
  }
  // Saving and deleting need a submit or admin key (the host refuses others with 403 anyway).
  maySave = key.role === 'admin' || key.role === 'submit';
  try {
    const options = await api('GET', '/api/encode-options');
    defaults = options.defaults;
    settingsForm ??= new SettingsForm(form, options);
    if (maySave && editor.hidden) startNew();
    editor.hidden = !maySave;
    say(message, maySave ? '' : `“${key.name}” is a ${key.role} key: it can read profiles but not change them.`);
    await loadList();
  } catch (error) {
    report(error);
  }
}

async function loadList() {
  try {
    const profiles = await api('GET', '/api/profiles');
    list.replaceChildren(...profiles.map(profileRow));
  } catch (error) {
    report(error);
  }
}

function profileRow(profile) {
  const actions = [];
  if (maySave && !profile.builtin) {
    actions.push(el('button', { type: 'button', 'aria-label': `Edit ${profile.name}`, onclick: () => { clearErrors(); say(saveMessage, ''); edit(profile); form.elements.name.focus(); } }, 'Edit'));
    actions.push(el('button', { type: 'button', class: 'danger', 'aria-label': `Delete ${profile.name}`, onclick: () => remove(profile) }, 'Delete'));
  }
  if (maySave) actions.push(el('button', { type: 'button', 'aria-label': `Copy ${profile.name}`, onclick: () => copy(profile) }, 'Copy'));
  return el('tr', { 'data-profile': profile.name },
    el('td', { class: 'name' }, profile.name, profile.builtin ? el('span', { class: 'builtin' }, ' built-in') : null),
    el('td', { class: 'settings' }, describeSettings(profile.settings)),
    el('td', {}, profile.builtin ? '–' : `${localTime(profile.updated_at)}${profile.updated_by ? ` by ${profile.updated_by}` : ''}`),
    el('td', { class: 'actions' }, ...actions));
}

function showFieldError(field, text) {
  const target = document.getElementById(`profile-${field}-error`) ?? saveMessage;
  target.textContent = text;
  const input = document.getElementById(`profile-${field}`);
  input?.setAttribute('aria-invalid', 'true');
  input?.focus();
}

function clearErrors() {
  for (const error of form.querySelectorAll('.field-error')) error.textContent = '';
  for (const input of form.querySelectorAll('[aria-invalid]')) input.removeAttribute('aria-invalid');
}

function report(error) {
  if (!header.reportProblem(error)) say(message, error.message);
}

load();
