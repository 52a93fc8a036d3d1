// What the page must remember of each upload to carry on after a reload: the file it is (a fingerprint
// of name, type, size and date; the page cannot keep the file itself), the profile, crf, preset and
// priority chosen for it, its tus URL once the host made it, and its job once enqueued. Kept in localStorage
// beside tus-js-client's own record of the URL (removed by tus when the upload completes).
const STORAGE = 'videoEncodeUploads';

/** Every remembered upload, newest first. */
export function all() {
  try {
    const records = JSON.parse(localStorage.getItem(STORAGE) ?? '[]');
    return Array.isArray(records) ? records.sort((a, b) => b.added - a.added) : [];
  } catch {
    return []; // a damaged entry must not stop the page
  }
}

/** A new record for a file about to be uploaded with these job settings (saved at once). */
export function create(file, fingerprint, settings) {
  const record = {
    id: randomId(), fingerprint, name: file.name, size: file.size, ...settings,
    added: Date.now(), uploadUrl: null, uploadId: null, complete: false, jobId: null,
  };
  save(record);
  return record;
}

export function save(record) {
  write([record, ...all().filter(other => other.id !== record.id)]);
}

export function forget(record) {
  write(all().filter(other => other.id !== record.id));
}

// Not crypto.randomUUID(): that needs a secure context, and a host on a LAN address is served over plain http.
function randomId() {
  return Array.from(crypto.getRandomValues(new Uint8Array(12)), byte => byte.toString(16).padStart(2, '0')).join('');
}

function write(records) {
  localStorage.setItem(STORAGE, JSON.stringify(records));
}

/** Names the same file on every visit (tus uses it to find the upload's URL again), so choosing it again resumes. */
export function fingerprintOf(file) {
  return ['videoencode', file.name, file.type, file.size, file.lastModified].join('-');
}
