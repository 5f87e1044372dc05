'use client';
/** An instant shown in the viewer's time zone, with its age; the exact ISO time on hover. */
import { formatAge, formatLocal } from './time';
import { useNow } from './use-now';

export function TimeLabel({ ms, relative = true }: { ms: number; relative?: boolean }) {
  // Every second, like the durations beside it: an age that jumps by 5 s looks frozen.
  const nowMs = useNow(1000);
  return (
    <time dateTime={new Date(ms).toISOString()} title={new Date(ms).toISOString()}>
      {formatLocal(ms)}
      {relative ? <span className="muted"> · {formatAge(ms, nowMs)}</span> : null}
    </time>
  );
}
