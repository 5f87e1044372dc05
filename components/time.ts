/** Times in the viewer's own time zone, and relative ages ("12 s ago"). */

const absolute = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });

/** Local date and time of an instant (ms since epoch). */
export function formatLocal(ms: number): string {
  return absolute.format(new Date(ms));
}

/** The viewer's time zone name, shown once per page so times are unambiguous. */
export function localTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone;
}

/** A duration in words: 45 s, 3 min 12 s, 2 h 5 min. */
export function formatDuration(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${seconds % 60} s`;
  const hours = Math.floor(minutes / 60);
  return hours < 48 ? `${hours} h ${minutes % 60} min` : `${Math.floor(hours / 24)} d ${hours % 24} h`;
}

/** How long ago `ms` was, relative to `nowMs`. */
export function formatAge(ms: number, nowMs: number): string {
  const delta = nowMs - ms;
  return delta < 1000 ? 'just now' : `${formatDuration(delta)} ago`;
}
