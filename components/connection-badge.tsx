'use client';
/** Live / stale indicator of the dashboard's Socket.IO connection, with the age of the last update. */
import type { LiveCluster } from './use-live-cluster';

/** An update older than this while "live" is shown as possibly stale (ms). */
const quietWarningMs = 15_000;

export function ConnectionBadge({ live, nowMs }: { live: LiveCluster; nowMs: number }) {
  const age = live.lastUpdateAtMs ? Math.max(0, Math.round((nowMs - live.lastUpdateAtMs) / 1000)) : null;
  const fresh = live.status === 'live';
  return (
    <span className={`badge ${fresh ? 'live' : 'stale'}`} data-testid="connection" data-status={live.status} aria-live="polite">
      {fresh ? `● live${age !== null ? ` · updated ${age} s ago${age * 1000 > quietWarningMs ? ' (quiet)' : ''}` : ''}` : `○ ${live.status}${age !== null ? ` · data ${age} s old` : ''}`}
    </span>
  );
}
