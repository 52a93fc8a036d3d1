// Why a pending job may wait for ever: no connected worker has the encoder it needs. Workers list
// their encoders with each claim (GET /api/workers shows the last claim's); a worker that listed none
// is an older client that runs only libx264. Lost and draining workers take nothing, so they do not count.
let connected = [];

/** Remembers the workers list the page just loaded. */
export function setWorkers(workers) {
  connected = workers.filter(worker => worker.last_seen_at !== null && !worker.lost && !worker.draining);
}

/**
 * "no worker has hevc_nvenc" for a pending job no connected worker can run; '' otherwise. The host's
 * own rule: a job needing no encoder (needs_encoder null: crf and preset alone) goes to an older
 * client or to a worker with libx264; any other job only to a worker that listed its encoder —
 * never to an older client, not even a libx264 job with one setting more (10-bit, say).
 */
export function unrunnableNote(job) {
  if (job.status !== 'pending') return '';
  const needed = job.needs_encoder ?? null;
  const able = connected.some(worker => worker.encoders === null || worker.encoders === undefined
    ? needed === null
    : worker.encoders.includes(needed ?? 'libx264'));
  if (able) return '';
  return needed === null ? 'no worker has libx264' : `no worker has ${needed}${olderOnly() ? ' (older workers run only plain crf + preset jobs)' : ''}`;
}

/** Whether every connected worker is an older client that lists no encoders. */
function olderOnly() {
  return connected.length > 0 && connected.every(worker => worker.encoders === null || worker.encoders === undefined);
}
