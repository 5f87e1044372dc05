'use client';
/**
 * How old a node's latest report is, marked stale past the server's staleness bound
 * (FAULTLINE_STALE_AFTER_MS, 3 s by default): an age above it means the node's row of
 * the matrix is no longer current, which the page must say, not only show as a number.
 */

/** The server's default staleness bound (ms), for snapshots of servers that do not send theirs. */
export const staleAfterMsDefault = 3000;

/** Whether a report received at `atMs` is stale at `nowMs` (or the server already said so). */
export function isStale(atMs: number | null, nowMs: number, staleAfterMs = staleAfterMsDefault, serverSaysStale = false): boolean {
  return serverSaysStale || atMs === null || nowMs - atMs > staleAfterMs;
}

/** Age in seconds with one decimal: "0.4 s". */
export function formatReportAge(atMs: number, nowMs: number): string {
  return `${Math.max(0, Math.round((nowMs - atMs) / 100) / 10)} s`;
}

export function ReportAge({ atMs, nowMs, staleAfterMs = staleAfterMsDefault, stale = false }: { atMs: number | null; nowMs: number; staleAfterMs?: number | undefined; stale?: boolean }) {
  if (atMs === null) return <span className="stale" data-stale="true">never reported</span>;
  const old = isStale(atMs, nowMs, staleAfterMs, stale);
  return (
    <span className={old ? 'stale' : undefined} data-testid="report-age" data-stale={old} title={old ? `older than the ${staleAfterMs / 1000} s staleness bound: this node's view is not current` : undefined}>
      {formatReportAge(atMs, nowMs)} ago{old ? ' · stale' : ''}
    </span>
  );
}
