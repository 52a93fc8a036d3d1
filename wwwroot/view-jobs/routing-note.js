// Why a pending job may wait for ever: no connected worker has the encoder it needs. Workers list
// their encoders with each claim (GET /api/workers shows the last claim's); a worker that listed none
// is an older client that runs only libx264. Lost and draining workers take nothing, so they do not count.
let connected = [];

/** Remembers the workers list the page just loaded. */
export function setWorkers(workers) {
  connected = workers.filter(worker => worker.last_seen_at !== null && !worker.lost && !worker.draining);
}

/** "no worker has hevc_nvenc" for a pending job no connected worker can run; '' otherwise. */
export function unrunnableNote(job) {
  if (job.status !== 'pending' || !job.settings) return '';
  const needed = job.settings.encoder ?? 'copy';
  const able = connected.some(worker => (worker.encoders ?? ['libx264']).includes(needed));
  return able ? '' : `no worker has ${needed}`;
}
