// Upload videos to the host and encode them (uploads.js), or add jobs for files in the workers' shared
// folder: one job, or many with a shared profile or crf and preset (profile-choice.js). An upload or one
// job may also ask for a streaming ladder, thumbnails, splitting or several outputs (task-settings.js). The host's
// validation is the authority: its error is shown next to the field it names, and a bulk request is
// all or nothing.
import { api } from '/shared/api.js';
import { el, say } from '/shared/dom.js';
import { setUpHeader } from '/shared/key-bar.js';
import { priorityOf } from './form-values.js';
import { loadProfileChoices, profileChoicesReady, settingsOf } from './profile-choice.js';
import { setUpTaskSettings, taskSettingsOf } from './task-settings.js';
import { setUpUploads } from './uploads.js';

setUpTaskSettings('upload');
setUpTaskSettings('one');
const header = setUpHeader(() => loadProfileChoices());
loadProfileChoices();
setUpUploads(header);

const oneForm = document.getElementById('one-form');
const bulkForm = document.getElementById('bulk-form');

oneForm.addEventListener('submit', async event => {
  event.preventDefault();
  const message = document.getElementById('one-message');
  clearErrors('one', message);
  await profileChoicesReady();
  const job = {
    file_name: oneForm.elements.file_name.value,
    ...settingsOf('one'),
    ...taskSettingsOf('one'),
    priority: priorityOf(oneForm),
    overwrite: oneForm.elements.overwrite.checked,
  };
  const outputName = oneForm.elements.output_name.value.trim();
  if (outputName) job.output_name = outputName;
  await submit(oneForm, message, [job], error => showFieldError('one', error.body.field, error.message.replace(/^Job at index \d+: /, '')));
});

bulkForm.addEventListener('submit', async event => {
  event.preventDefault();
  const message = document.getElementById('bulk-message');
  clearErrors('bulk', message);
  // Keep each name's line number, so an error about item N can point at its line.
  const lines = bulkForm.elements.file_names.value.split(/\r?\n/)
    .map((text, index) => ({ name: text.trim(), line: index + 1 }))
    .filter(entry => entry.name.length > 0);
  if (lines.length === 0) {
    showFieldError('bulk', 'file_name', 'Enter at least one file name.');
    return;
  }
  await profileChoicesReady();
  const settings = settingsOf('bulk');
  const priority = priorityOf(bulkForm);
  const overwrite = bulkForm.elements.overwrite.checked;
  const jobs = lines.map(entry => ({ file_name: entry.name, ...settings, priority, overwrite }));
  await submit(bulkForm, message, jobs, error => {
    const { field, index } = error.body;
    const text = error.message.replace(/^Job at index \d+: /, '');
    if (field === 'file_name' && index !== undefined) showFieldError('bulk', 'file_name', `Line ${lines[index].line}: ${text}`);
    else showFieldError('bulk', field, text);
  });
});

async function submit(form, message, jobs, showValidationError) {
  const button = form.querySelector('button[type="submit"]');
  button.disabled = true;
  try {
    const created = await api('POST', '/api/jobs', jobs);
    const ids = created.map(job => job.id);
    const summary = ids.length === 1
      ? `Added job ${ids[0]}; its result goes to ${created[0].output_name}.`
      : `Added ${ids.length} jobs: ${describeIds(ids)}.`;
    say(message, [summary, ' ', el('a', { href: '/view-jobs/?status=pending' }, 'View them')], 'success');
    if (form === bulkForm) form.elements.file_names.value = '';
    else {
      form.elements.file_name.value = '';
      form.elements.output_name.value = '';
    }
  } catch (error) {
    if (header.reportProblem(error)) say(message, 'Nothing was added: the API key is missing or was rejected (see the top of the page).');
    else if (error.body?.field) {
      showValidationError(error);
      say(message, 'Nothing was added: fix the field marked above.');
    } else say(message, `Nothing was added: ${error.message}`);
  } finally {
    button.disabled = false;
  }
}

function describeIds(ids) {
  const consecutive = ids.every((id, i) => i === 0 || id === ids[i - 1] + 1);
  return consecutive && ids.length > 3 ? `${ids[0]}–${ids[ids.length - 1]}` : ids.join(', ');
}

/** Shows text at the control the host's field names ("crf", "outputs[1].crf"); a field without a control of its own at its part ("outputs"), or the file name's. */
function showFieldError(prefix, field, text) {
  const own = document.getElementById(`${prefix}-${field}-error`);
  const target = own ?? document.getElementById(`${prefix}-${field?.split(/[[.]/)[0]}-error`) ?? document.getElementById(`${prefix}-file_name-error`);
  // Beside an output's own control its place goes without saying: "crf is required …", not "outputs[1].crf is required …".
  target.textContent = own ? text.replace(/^outputs\[\d+\]\./, '') : text;
  const folded = target.closest('details');
  if (folded) folded.open = true;
  const input = document.getElementById(target.id.replace(/-error$/, ''));
  input?.setAttribute('aria-invalid', 'true');
  input?.focus();
}

function clearErrors(prefix, message) {
  say(message, '');
  for (const error of document.querySelectorAll(`[id^="${prefix}-"].field-error`)) error.textContent = '';
  for (const input of document.querySelectorAll(`[id^="${prefix}-"][aria-invalid]`)) input.removeAttribute('aria-invalid');
}
