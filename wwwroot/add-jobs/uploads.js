// The "Upload videos" card: files dropped on the zone or chosen with the file input each get a row
// (upload-row.js) that uploads them with tus and then adds and follows their job. The profile, crf,
// preset, priority and any ladder, thumbnails, splitting or outputs in the card's fields at that moment go with the file. Rows remembered from an earlier
// visit come back on load: finished ones with their job, unfinished ones waiting for the same file.
import { getApiKey, ApiError } from '/shared/api.js';
import { say } from '/shared/dom.js';
import { priorityOf } from './form-values.js';
import { profileChoicesReady, settingsOf } from './profile-choice.js';
import { taskSettingsOf } from './task-settings.js';
import * as records from './upload-records.js';
import { UploadRow } from './upload-row.js';

/** Wires the card up; header is the key bar (setUpHeader's answer). */
export function setUpUploads(header) {
  const form = document.getElementById('upload-form');
  const zone = document.getElementById('drop-zone');
  const input = document.getElementById('upload-files');
  const list = document.getElementById('uploads');
  const message = document.getElementById('upload-message');
  const rows = [];
  const gone = row => rows.splice(rows.indexOf(row), 1);

  for (const record of records.all()) {
    const row = new UploadRow(record, header, gone);
    rows.push(row);
    list.append(row.node);
    row.restore();
  }

  input.addEventListener('change', () => {
    add([...input.files]);
    input.value = ''; // so choosing the same file again (to resume it) fires change again
  });
  zone.addEventListener('dragover', event => {
    event.preventDefault();
    event.dataTransfer.dropEffect = 'copy';
    zone.classList.add('over');
  });
  zone.addEventListener('dragleave', () => zone.classList.remove('over'));
  zone.addEventListener('drop', event => {
    event.preventDefault();
    zone.classList.remove('over');
    add([...event.dataTransfer.files]);
  });
  // A file dropped beside the zone would make the browser open it and leave the page (and its uploads).
  for (const type of ['dragover', 'drop']) window.addEventListener(type, event => event.preventDefault());

  async function add(files) {
    say(message, '');
    if (files.length === 0) return;
    if (!getApiKey()) {
      header.reportProblem(new ApiError(-1, null, ''));
      say(message, 'Nothing was uploaded: enter the API key first (see the top of the page).');
      return;
    }
    await profileChoicesReady();
    const settings = settingsOrNull();
    if (!settings) return;
    for (const file of files) {
      const fingerprint = records.fingerprintOf(file);
      // The same file again resumes its unfinished upload, with the settings it was started with.
      let row = rows.find(candidate => !candidate.record.complete && candidate.record.fingerprint === fingerprint);
      if (row?.uploading) {
        say(message, `${file.name} is being uploaded already.`);
        continue;
      }
      if (!row) {
        row = new UploadRow(records.create(file, fingerprint, settings), header, gone);
        rows.unshift(row);
        list.prepend(row.node);
      }
      row.start(file);
    }
  }

  /** The job settings for new uploads, or null after marking the field the browser finds out of range (crf above the encoder's scale, priority not whole). */
  function settingsOrNull() {
    for (const field of ['crf', 'priority']) {
      const element = form.elements[field];
      const error = document.getElementById(`upload-${field}-error`);
      error.textContent = element.validationMessage;
      if (element.checkValidity()) element.removeAttribute('aria-invalid');
      else {
        element.setAttribute('aria-invalid', 'true');
        element.focus();
        say(message, 'Nothing was uploaded: fix the field marked above.');
        return null;
      }
    }
    return { profile: null, ...settingsOf('upload'), priority: priorityOf(form), tasks: taskSettingsOf('upload') };
  }
}
