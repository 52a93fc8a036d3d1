// How the add-jobs page uploads. Each tus PATCH carries at most CHUNK_BYTES, so a pause or a cut
// connection costs at most one chunk sent again; a failed request is retried after these delays (ms)
// before the row shows the error. A finished upload's job is asked about every JOB_POLL_MS.
export const CHUNK_BYTES = 50 * 1024 * 1024;
export const RETRY_DELAYS = [0, 1000, 3000, 5000, 10000, 20000];
export const JOB_POLL_MS = 2000;
