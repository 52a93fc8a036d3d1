// Times as people read them in a busy list: "3 min ago", "took 1 h 5 min"; the exact local time
// goes in a tooltip (localTime in dom.js).

/** The browser's clock in unix seconds. */
export const nowSeconds = () => Math.floor(Date.now() / 1000);

/** A length of time, rounded to what matters: "45 s", "12 min", "3 h 5 min", "2 d 4 h". */
export function duration(seconds) {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  if (s < 86400) return `${Math.floor(s / 3600)} h${s % 3600 >= 60 ? ` ${Math.floor((s % 3600) / 60)} min` : ''}`;
  return `${Math.floor(s / 86400)} d${s % 86400 >= 3600 ? ` ${Math.floor((s % 86400) / 3600)} h` : ''}`;
}

/** How long ago a unix time was: "just now", "3 min ago"; an empty string for null. */
export function ago(seconds, now = nowSeconds()) {
  if (seconds === null || seconds === undefined) return '';
  return now - seconds < 10 ? 'just now' : `${duration(now - seconds)} ago`;
}
