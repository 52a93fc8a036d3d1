// What GET /api/queue says of when work is handed out, beside the pause (docs/schedules.md): when a timed
// pause ends, and the queue's schedule — open until when, or closed until when. Workers' own schedules
// are not shown here (GET /api/workers/{name}/schedule).
import { localTime } from '/shared/dom.js';

/** " The pause ends at …." and/or " Schedule (Europe/Berlin): open until …." — '' when neither applies. */
export function scheduleNote(queue) {
  const notes = [];
  if (queue.paused && queue.resume_at) notes.push(`The pause ends at ${localTime(queue.resume_at)}.`);
  const schedule = queue.schedule;
  if (schedule) {
    const zone = `Schedule (${schedule.time_zone}, ${schedule.windows.length === 0 ? 'always' : windowsText(schedule.windows)})`;
    notes.push(schedule.open
      ? `${zone}: open${schedule.closes_at ? ` until ${localTime(schedule.closes_at)}` : ''}.`
      : `${zone}: closed${schedule.opens_at ? `, opens at ${localTime(schedule.opens_at)}` : ''}; workers get no new jobs.`);
  }
  return notes.length === 0 ? '' : ' ' + notes.join(' ');
}

/** "mon–fri 22:00–06:00; sat, sun 00:00–24:00": each window's days and hours, local to the schedule's zone. */
function windowsText(windows) {
  return windows.map(window => `${window.days.length === 7 ? 'daily' : window.days.join(', ')} ${window.from}–${window.to}`).join('; ');
}
