'use client';
/**
 * The reachability matrix: row = sender, column = receiver; a cell says whether
 * datagrams from → to arrive (✓, ✕, → for one-way, ? unknown), the heartbeat loss
 * and one-way delay the receiver measured, and how old the receiver's report behind
 * it is, marked stale past the server's staleness bound. Above `matrixNodesMax`
 * nodes only the nodes with a problem (and the chosen viewpoint) are shown, so it
 * stays readable.
 */
import type { ClusterSnapshot, LinkFigureView } from '../core/realtime-contract';
import type { Link } from '../core/reachability';
import { formatReportAge, isStale } from './report-age';
import { pairKey } from './topology-layout';

/** Most rows and columns drawn. */
export const matrixNodesMax = 40;

function cellOf(from: string, to: string, broken: Map<string, Link>): { className: string; symbol: string; words: string } {
  const link = broken.get(pairKey(from, to));
  if (!link || link.state === 'up') return { className: 'up', symbol: '✓', words: 'arrives' };
  if (link.state === 'down') return { className: 'down', symbol: '✕', words: 'lost (link down)' };
  if (link.state === 'unknown') return { className: 'unknown', symbol: '?', words: 'unknown' };
  const works = link.workingDirection?.from === from && link.workingDirection.to === to;
  return works ? { className: 'up', symbol: '→', words: 'arrives (only this way)' } : { className: 'one-way', symbol: '✕→', words: 'lost (one-way link)' };
}

/** Loss and delay in a cell's few characters: "0 % · 1.2 ms"; "—" when the receiver measured nothing. */
export function formatLinkFigures(figures: LinkFigureView | undefined): { short: string; words: string } {
  if (!figures || (figures.lossRatio === null && figures.delayMs === null)) return { short: '—', words: 'no loss or delay figures reported' };
  const loss = figures.lossRatio === null ? '? %' : `${Math.round(figures.lossRatio * 100)} %`;
  const delay = figures.delayMs === null ? 'no delay' : `${figures.delayMs < 10 ? figures.delayMs.toFixed(1) : Math.round(figures.delayMs)} ms`;
  const words = `${figures.lossRatio === null ? 'loss not known yet' : `${loss} of heartbeats lost`}, ${figures.delayMs === null ? 'none arrived lately' : `one-way delay ${delay} (median; includes clock offset between hosts)`}`;
  return { short: `${loss} · ${delay}`, words };
}

export function ReachabilityMatrix({ snapshot, viewpoint, nowMs, onSelect }: { snapshot: ClusterSnapshot; viewpoint: string | null; nowMs: number; onSelect: (a: string, b: string) => void }) {
  const broken = new Map(snapshot.links.map((link) => [pairKey(link.a, link.b), link]));
  const reportAt = new Map(snapshot.nodes.map((node) => [node.id, node]));
  const figures = new Map((snapshot.linkFigures ?? []).map((entry) => [`${entry.from}>${entry.to}`, entry]));
  let ids = snapshot.nodes.map((node) => node.id);
  const trimmed = ids.length > matrixNodesMax;
  if (trimmed) {
    const involved = new Set(snapshot.links.flatMap((link) => [link.a, link.b]));
    if (viewpoint) involved.add(viewpoint);
    ids = ids.filter((id) => involved.has(id)).slice(0, matrixNodesMax);
  }
  if (ids.length === 0) return <p className="muted">Every link is up between all {snapshot.nodes.length} nodes.</p>;
  return (
    <div style={{ overflowX: 'auto' }}>
      {trimmed ? <p className="muted">Showing the {ids.length} nodes with a link problem (of {snapshot.nodes.length}).</p> : null}
      <table className="matrix" data-testid="reachability-matrix">
        <caption className="sr-only">Rows send, columns receive</caption>
        <thead>
          <tr>
            <th scope="col">from ╲ to</th>
            {ids.map((id) => (
              <th key={id} scope="col" style={id === viewpoint ? { outline: '2px solid var(--accent)' } : undefined}>
                {id}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {ids.map((from) => (
            <tr key={from}>
              <th scope="row" style={from === viewpoint ? { outline: '2px solid var(--accent)' } : undefined}>
                {from}
              </th>
              {ids.map((to) => {
                if (from === to) return <td key={to} className="self" aria-label="self" />;
                const cell = cellOf(from, to, broken);
                const receiver = reportAt.get(to);
                const at = receiver?.lastReportAtMs ?? null;
                const stale = isStale(at, nowMs, snapshot.staleAfterMs, receiver?.stale ?? true);
                const age = at === null ? 'never' : formatReportAge(at, nowMs);
                const quality = formatLinkFigures(figures.get(`${from}>${to}`));
                const staleWords = stale ? `, stale: older than ${(snapshot.staleAfterMs ?? 3000) / 1000} s, so this cell may no longer be true` : '';
                return (
                  <td
                    key={to}
                    className={cell.className}
                    title={`${from} → ${to}: ${cell.words}; ${quality.words}; ${to}'s report is ${age} old${staleWords}`}
                    data-testid={`cell-${from}-${to}`}
                    data-state={cell.className}
                    data-stale={stale}
                    tabIndex={cell.className === 'up' ? undefined : 0}
                    onClick={() => onSelect(from, to)}
                    onKeyDown={(event) => (event.key === 'Enter' ? onSelect(from, to) : undefined)}
                  >
                    {cell.symbol}
                    <span className="cell-figures" data-testid="cell-figures">
                      {quality.short}
                    </span>
                    <span className="cell-figures">{stale ? `${age} · stale` : age}</span>
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
