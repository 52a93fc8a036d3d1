// One file's row in the uploads list, through its whole life: uploading (progress, speed, pause, resume,
// cancel = tus termination), then its job (enqueued once, under an Idempotency-Key made from the upload's
// id, so a reload or a retry never adds it twice), then that job's status until it ends, and the result's
// download. A row restored after a reload waits for the same file to be chosen again.
import { api, ApiError, getApiKey } from '/shared/api.js';
import { downloadWithKey } from '/shared/download.js';
import { el } from '/shared/dom.js';
import { formatBytes } from '/shared/format.js';
import { describeTasks } from './task-settings.js';
import * as records from './upload-records.js';
import { CHUNK_BYTES, JOB_POLL_MS, RETRY_DELAYS } from './upload-settings.js';

// tus-js-client's browser bundle (vendor/), loaded by the classic script before this module runs.
const tus = window.tus;
const UPLOADS_PATH = '/api/uploads';
const TUS_VERSION = '1.0.0';
const ENDED = new Set(['finished', 'failed', 'cancelled']);

export class UploadRow {
  /** record: from upload-records.js; header: the key bar (it reports a rejected key); onGone: the row left the list. */
  constructor(record, header, onGone) {
    this.record = record;
    this.header = header;
    this.onGone = onGone;
    this.upload = null;
    this.uploading = false;
    this.retry = null;
    const name = record.name;
    this.bar = el('progress', { class: 'upload-progress', max: 100, value: 0, 'aria-label': `Upload of ${name}` });
    this.uploadText = el('span', { class: 'upload-text' });
    this.jobBar = el('progress', { class: 'job-progress', max: 100, value: 0, hidden: true, 'aria-label': `Encoding of ${name}` });
    this.jobText = el('span', { class: 'job-text' });
    this.error = el('p', { class: 'upload-error', role: 'alert' });
    this.pauseButton = el('button', { type: 'button', hidden: true, onclick: () => this.togglePause() });
    this.retryButton = el('button', { type: 'button', hidden: true, 'aria-label': `Try ${name} again`, onclick: () => this.retry?.() }, 'Try again');
    this.cancelButton = el('button', { type: 'button', class: 'danger', 'aria-label': `Cancel the upload of ${name}`, onclick: () => this.cancel() }, 'Cancel');
    this.downloadButton = el('button', { type: 'button', class: 'primary', hidden: true, 'aria-label': `Download the result of ${name}`,
      onclick: () => this.download() }, 'Download result');
    this.removeButton = el('button', { type: 'button', hidden: true, 'aria-label': `Remove ${name} from the list`, onclick: () => this.remove() },
      'Remove from list');
    this.node = el('li', { class: 'upload', 'data-name': name },
      el('div', { class: 'upload-head' },
        el('span', { class: 'upload-name' }, name),
        el('span', { class: 'upload-size' }, formatBytes(record.size)),
        el('span', { class: 'upload-settings' }, [record.profile && `profile ${record.profile}`, record.crf && `crf ${record.crf}`, record.preset,
          `priority ${record.priority}`, describeTasks(record.tasks ?? {})].filter(Boolean).join(' · '))),
      el('div', { class: 'upload-line' }, this.bar, this.uploadText),
      el('div', { class: 'upload-line' }, this.jobBar, this.jobText),
      this.error,
      el('div', { class: 'upload-actions' }, this.pauseButton, this.retryButton, this.cancelButton, this.downloadButton, this.removeButton));
    this.setPauseButton('Pause');
  }

  /** Picks up where the record left off after a reload. */
  restore() {
    if (this.record.jobId !== null) {
      this.showUploaded();
      this.track();
    } else if (this.record.complete) {
      this.showUploaded();
      this.enqueue();
    } else {
      this.showWaitingForFile();
    }
  }

  /** Uploads file, resuming the host's copy when tus remembers one for the same file. */
  async start(file) {
    this.uploading = true;
    this.showError('');
    this.uploadText.textContent = 'Starting…';
    this.cancelButton.hidden = false;
    this.setPauseButton('Pause');
    this.pauseButton.hidden = false;
    const metadata = { filename: file.name };
    if (file.type) metadata.filetype = file.type;
    const upload = new tus.Upload(file, {
      // Absolute, because tus resolves the Location it gets against the endpoint.
      endpoint: new URL(UPLOADS_PATH, location.href).href,
      headers: { 'X-API-Key': getApiKey() },
      metadata,
      chunkSize: CHUNK_BYTES,
      retryDelays: RETRY_DELAYS,
      storeFingerprintForResuming: true,
      removeFingerprintOnSuccess: true,
      fingerprint: chosen => Promise.resolve(records.fingerprintOf(chosen)),
      // tus already gives up on 4xx answers (but 409 and 423); a host out of room (507) will not have room in a second either.
      onShouldRetry: (error, attempt, options) => statusOf(error) !== 507 && tus.defaultOptions.onShouldRetry(error, attempt, options),
      onUploadUrlAvailable: () => {
        this.record.uploadUrl = upload.url;
        records.save(this.record);
      },
      onProgress: (sent, total) => this.showProgress(sent, total),
      onSuccess: () => this.uploaded(),
      onError: error => this.uploadFailed(error),
    });
    this.upload = upload;
    this.speed = { at: performance.now(), bytes: null, perSecond: null };
    const previous = await upload.findPreviousUploads();
    const same = previous.find(candidate => candidate.uploadUrl === this.record.uploadUrl) ?? previous[0];
    if (same) upload.resumeFromPreviousUpload(same);
    if (this.uploading) upload.start(); // unless Pause or Cancel was pressed meanwhile
  }

  togglePause() {
    if (!this.upload) return;
    if (this.uploading) {
      this.uploading = false;
      this.upload.abort();
      this.uploadText.textContent = `Paused at ${this.bar.value} %.`;
      this.setPauseButton('Resume');
    } else {
      this.uploading = true;
      this.showError('');
      this.uploadText.textContent = 'Resuming…';
      this.setPauseButton('Pause');
      this.speed = { at: performance.now(), bytes: null, perSecond: null };
      this.upload.start(); // tus asks the host (HEAD) where the upload stands and goes on from there
    }
  }

  /** Stops the upload and deletes what the host holds of it (tus termination); the row goes. */
  async cancel() {
    this.cancelButton.disabled = true;
    this.uploading = false;
    try {
      if (this.upload) await this.upload.abort(true);
      else if (this.record.uploadUrl) await this.terminateRemembered();
    } catch (error) {
      // Already gone from the host (terminated elsewhere, expired and swept) is what Cancel wanted.
      if (![404, 410].includes(statusOf(error))) {
        this.cancelButton.disabled = false;
        this.showError(this.uploadProblem(error, 'The upload could not be cancelled'));
        return;
      }
    }
    this.remove();
  }

  /** Without the file (after a reload) tus-js-client has no Upload to abort: terminate by URL, and drop its record of the URL. */
  async terminateRemembered() {
    const url = this.record.uploadUrl;
    await tus.Upload.terminate(url, { headers: { 'X-API-Key': getApiKey() }, retryDelays: RETRY_DELAYS });
    const stored = await tus.defaultOptions.urlStorage.findUploadsByFingerprint(this.record.fingerprint);
    for (const entry of stored.filter(entry => entry.uploadUrl === url)) await tus.defaultOptions.urlStorage.removeUpload(entry.urlStorageKey);
  }

  remove() {
    this.removed = true;
    records.forget(this.record);
    this.node.remove();
    this.onGone(this);
  }

  showProgress(sent, total) {
    const percent = total === 0 ? 100 : Math.floor((sent / total) * 100);
    this.bar.value = percent;
    const now = performance.now();
    // Speed over the last second or more, so one chunk's burst does not make the figure jump.
    if (this.speed.bytes === null) this.speed = { at: now, bytes: sent, perSecond: null };
    else if (now - this.speed.at >= 1000) this.speed = { at: now, bytes: sent, perSecond: ((sent - this.speed.bytes) * 1000) / (now - this.speed.at) };
    const speed = this.speed.perSecond === null ? '' : ` · ${formatBytes(Math.max(0, Math.round(this.speed.perSecond)))}/s`;
    this.uploadText.textContent = `${percent} % · ${formatBytes(sent)} of ${formatBytes(total)}${speed}`;
  }

  uploaded() {
    this.uploading = false;
    this.record.complete = true;
    this.record.uploadId = uploadIdOf(this.upload.url);
    records.save(this.record);
    this.showUploaded();
    this.enqueue();
  }

  showUploaded() {
    this.bar.value = 100;
    this.uploadText.textContent = `Uploaded: 100 % of ${formatBytes(this.record.size)}.`;
    this.pauseButton.hidden = true;
    this.cancelButton.hidden = true; // the job holds the upload now; delete the job in view-jobs instead
  }

  uploadFailed(error) {
    this.uploading = false;
    this.setPauseButton('Resume');
    this.uploadText.textContent = `Stopped at ${this.bar.value} %.`;
    this.showError(this.uploadProblem(error, 'The upload stopped'));
  }

  /** After a reload: how much the host holds, and what to do to go on. */
  async showWaitingForFile() {
    const again = 'Choose or drop the same file again to resume.';
    this.uploadText.textContent = `Not finished. ${again}`;
    if (!this.record.uploadUrl) return;
    try {
      const response = await fetch(this.record.uploadUrl, { method: 'HEAD', headers: { 'Tus-Resumable': TUS_VERSION, 'X-API-Key': getApiKey() } });
      if (response.status === 404 || response.status === 410) {
        this.uploadText.textContent = `The host no longer has this upload; choosing the file again starts it anew.`;
        return;
      }
      const offset = Number(response.headers.get('Upload-Offset'));
      if (!response.ok || !Number.isFinite(offset)) return;
      const percent = this.record.size === 0 ? 100 : Math.floor((offset / this.record.size) * 100);
      this.bar.value = percent;
      this.uploadText.textContent = `Paused: ${formatBytes(offset)} of ${formatBytes(this.record.size)} (${percent} %) on the host. ${again}`;
    } catch {
      // the host is unreachable: the row already says what to do
    }
  }

  /** Enqueues the uploaded file with the settings chosen for it; safe to repeat (Idempotency-Key). */
  async enqueue() {
    const { uploadId, profile, crf, preset, priority, tasks } = this.record;
    // Only what was chosen: with a profile, an empty crf or preset means the profile's.
    const settings = { ...Object.fromEntries(Object.entries({ profile, crf, preset }).filter(([, value]) => value)), ...tasks };
    this.showError('');
    this.retryButton.hidden = true;
    this.jobText.textContent = 'Adding the job…';
    try {
      const [job] = await api('POST', '/api/jobs', { upload_id: uploadId, ...settings, priority },
        { 'Idempotency-Key': `add-jobs-upload-${uploadId}` });
      this.record.jobId = job.id;
      records.save(this.record);
      this.showJob(job);
      this.track();
    } catch (error) {
      this.jobText.textContent = '';
      this.showError(this.apiProblem(error, 'The upload is on the host, but its job was not added'));
      this.retry = () => this.enqueue();
      this.retryButton.hidden = false;
      this.removeButton.hidden = false;
    }
  }

  /** Follows the job until it ends; a failed request is tried again at the next turn. */
  async track() {
    const id = this.record.jobId;
    this.jobText.textContent ||= `Job ${id}`;
    while (!this.removed) {
      try {
        const job = await api('GET', `/api/jobs/${id}`);
        this.showError('');
        this.showJob(job);
        if (ENDED.has(job.status)) return;
      } catch (error) {
        if (error.status === 404) {
          this.jobText.textContent = `Job ${id} no longer exists.`;
          this.removeButton.hidden = false;
          return;
        }
        this.showError(this.apiProblem(error, `Cannot follow job ${id}; trying again`));
      }
      await new Promise(resolve => setTimeout(resolve, JOB_POLL_MS));
    }
  }

  showJob(job) {
    const running = job.status === 'in_progress';
    this.jobBar.hidden = !running;
    if (running) this.jobBar.value = job.progress ?? 0;
    const status = job.status.replace('_', ' ');
    let detail = '';
    if (running) detail = ` — ${job.phase ?? 'starting'}${job.progress === null ? '' : ` ${Math.floor(job.progress)} %`}`;
    // A job made of tasks has a result per output, package or thumbnails: view-jobs lists them, each with its download.
    else if (job.status === 'finished' && job.has_tasks) detail = ` — ${job.outputs?.length ?? 0} results, in the job's details on the View jobs page`;
    else if (job.status === 'finished' && job.output_bytes !== null) detail = ` — ${describeSizes(job.input_bytes, job.output_bytes)}`;
    else if (job.status === 'failed' && job.error) detail = ` — ${job.error}`;
    this.jobText.textContent = `Job ${job.id}: ${status}${detail}`;
    this.downloadButton.hidden = !(job.status === 'finished' && job.output_upload_id);
    this.removeButton.hidden = !ENDED.has(job.status);
  }

  async download() {
    this.downloadButton.disabled = true;
    try {
      await downloadWithKey(`/api/jobs/${this.record.jobId}/output`, `job-${this.record.jobId}.mp4`);
      this.showError('');
    } catch (error) {
      this.showError(this.apiProblem(error, 'The result could not be downloaded'));
    } finally {
      this.downloadButton.disabled = false;
    }
  }

  setPauseButton(text) {
    this.pauseButton.textContent = text;
    this.pauseButton.setAttribute('aria-label', `${text} the upload of ${this.record.name}`);
  }

  showError(text) {
    this.error.textContent = text;
    this.retryButton.hidden = true;
  }

  /** What went wrong with a tus request, in words: the host's own message, under a heading for its kind. */
  uploadProblem(error, what) {
    const status = statusOf(error);
    let message = error.message;
    try {
      message = JSON.parse(error.originalResponse.getBody()).error ?? message;
    } catch {
      // no answer, or not the host's JSON: keep tus-js-client's message
    }
    return this.apiProblem(new ApiError(status ?? 0, { error: message }, message), what);
  }

  /** What went wrong with an API request, in words; a missing or rejected key is also shown in the key bar. */
  apiProblem(error, what) {
    if (this.header.reportProblem(error)) return `${what}: the API key is missing or was rejected (see the top of the page).`;
    switch (error.status) {
      case 0: return `${what}: cannot reach the VideoEncode host. ${this.record.complete ? '' : 'Press Resume when it is back.'}`.trim();
      case 403: return `${what}: this key may not do that (${error.message}).`;
      case 413: return `${what}: the file is too large for this host (${error.message}).`;
      case 507: return `${what}: the host has no room for it (${error.message}).`;
      default: return `${what}: ${error.message}`;
    }
  }
}

/** The HTTP status of a tus-js-client error (DetailedError), or null when there was no answer. */
function statusOf(error) {
  return error?.originalResponse?.getStatus?.() ?? error?.status ?? null;
}

/** The upload's id: the last segment of its tus URL. */
function uploadIdOf(url) {
  return new URL(url).pathname.split('/').pop();
}

/** "12.4 MB → 3.1 MB, 4.0× smaller": the input and result sizes and how much the encode saved. */
function describeSizes(input, output) {
  const sizes = `${formatBytes(input)} → ${formatBytes(output)}`;
  if (!input || !output) return sizes;
  return output <= input ? `${sizes}, ${(input / output).toFixed(1)}× smaller` : `${sizes}, ${(output / input).toFixed(1)}× larger`;
}
