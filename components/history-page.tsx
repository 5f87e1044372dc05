'use client';
/**
 * Partition history: filter by type, time range, node, duration and outcome;
 * sort by any column; page through; export what matches as CSV or JSON. The
 * filters live in the URL, so a view can be shared and survives a reload.
 */
import { useQuery } from '@tanstack/react-query';
import Link from 'next/link';
import { usePathname, useRouter, useSearchParams } from 'next/navigation';
import { type HistoryQueryInput, historyFilterKeys as filterKeys } from '../core/http-contract';
import { api, apiUrl } from './api-client';
import { formatDuration } from './time';
import { TimeLabel } from './time-label';
import { useCluster } from './use-cluster';

const sortable = [
  { key: 'startedAt', label: 'Started' },
  { key: 'type', label: 'Type' },
  { key: 'duration', label: 'Duration' },
  { key: 'divergence', label: 'Divergence' },
  { key: 'recovery', label: 'Recovery' },
] as const;

/** `datetime-local` value (local time) ↔ ms since epoch. */
function toLocalInput(ms: string | null): string {
  if (!ms) return '';
  const date = new Date(Number(ms));
  return new Date(date.getTime() - date.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
}

export function HistoryPage() {
  const { cluster } = useCluster();
  const router = useRouter();
  const pathname = usePathname();
  const params = useSearchParams();
  const get = (key: (typeof filterKeys)[number]) => params.get(key);
  const set = (changes: Partial<Record<(typeof filterKeys)[number], string | null>>) => {
    const next = new URLSearchParams(params.toString());
    for (const [key, value] of Object.entries(changes)) {
      if (value === null || value === '') next.delete(key);
      else next.set(key, value);
    }
    if (!('page' in changes)) next.delete('page');
    router.replace(`${pathname}?${next.toString()}`);
  };
  const query: HistoryQueryInput = {};
  for (const key of filterKeys) {
    const value = get(key);
    if (value) query[key] = value;
  }
  if (cluster) query.clusterId = cluster.id;
  const page = Number(get('page') ?? '1');
  const history = useQuery({
    queryKey: ['history', 'list', query],
    queryFn: () => api('history.list', { query }),
    enabled: cluster !== null,
    placeholderData: (previous) => previous,
  });
  const sort = get('sort') ?? 'startedAt';
  const order = get('order') ?? 'desc';
  const pages = history.data ? Math.max(1, Math.ceil(history.data.total / history.data.pageSize)) : 1;
  const exportQuery = { ...query, page: undefined, pageSize: undefined };

  return (
    <section className="panel" aria-labelledby="history-heading">
      <h2 id="history-heading">
        Partition history {history.data ? <span className="badge" data-testid="history-total">{history.data.total} partitions</span> : null}
        <span className="spacer" />
        <a href={apiUrl('history.export', { query: { format: 'csv', ...exportQuery } })} download data-testid="export-csv">
          Export CSV
        </a>
        <a href={apiUrl('history.export', { query: { format: 'json', ...exportQuery } })} download data-testid="export-json">
          Export JSON
        </a>
      </h2>
      <form className="filters" role="search" onSubmit={(event) => event.preventDefault()}>
        <label className="field">
          Type
          <select value={get('type') ?? ''} onChange={(event) => set({ type: event.target.value })} data-testid="filter-type">
            <option value="">any</option>
            <option value="complete">complete</option>
            <option value="partial">partial</option>
            <option value="asymmetric">asymmetric</option>
            <option value="byzantine">byzantine</option>
          </select>
        </label>
        <label className="field">
          Started after
          <input type="datetime-local" value={toLocalInput(get('from'))} onChange={(event) => set({ from: event.target.value ? String(new Date(event.target.value).getTime()) : null })} />
        </label>
        <label className="field">
          Started before
          <input type="datetime-local" value={toLocalInput(get('to'))} onChange={(event) => set({ to: event.target.value ? String(new Date(event.target.value).getTime()) : null })} />
        </label>
        <label className="field">
          Node
          <input defaultValue={get('node') ?? ''} onBlur={(event) => set({ node: event.target.value.trim() })} onKeyDown={(event) => (event.key === 'Enter' ? set({ node: event.currentTarget.value.trim() }) : undefined)} size={10} data-testid="filter-node" />
        </label>
        <label className="field">
          Min duration (s)
          <input type="number" min={0} defaultValue={get('durationMinS') ?? ''} onBlur={(event) => set({ durationMinS: event.target.value })} style={{ width: '7em' }} />
        </label>
        <label className="field">
          Max duration (s)
          <input type="number" min={0} defaultValue={get('durationMaxS') ?? ''} onBlur={(event) => set({ durationMaxS: event.target.value })} style={{ width: '7em' }} />
        </label>
        <label className="field">
          Outcome
          <select value={get('outcome') ?? ''} onChange={(event) => set({ outcome: event.target.value })} data-testid="filter-outcome">
            <option value="">any</option>
            <option value="active">active</option>
            <option value="healed">healed</option>
            <option value="recovered">recovered</option>
            <option value="failed">failed</option>
            <option value="abandoned">abandoned</option>
          </select>
        </label>
      </form>
      {history.isPending ? <p className="muted">Loading history…</p> : null}
      {history.isError ? <p className="notice error">Could not load history: {history.error.message}</p> : null}
      {history.data && history.data.items.length === 0 ? <p className="muted" data-testid="history-empty">No partition matches these filters.</p> : null}
      {history.data && history.data.items.length > 0 ? (
        <table data-testid="history-table" aria-busy={history.isFetching}>
          <thead>
            <tr>
              {sortable.map((column) => (
                <th key={column.key} aria-sort={sort === column.key ? (order === 'asc' ? 'ascending' : 'descending') : undefined}>
                  <button type="button" className="sort" onClick={() => set({ sort: column.key, order: sort === column.key && order === 'desc' ? 'asc' : 'desc' })} data-testid={`sort-${column.key}`}>
                    {column.label} {sort === column.key ? (order === 'asc' ? '▲' : '▼') : ''}
                  </button>
                </th>
              ))}
              <th>Nodes</th>
              <th>Outcome</th>
            </tr>
          </thead>
          <tbody>
            {history.data.items.map((row) => (
              <tr key={row.id} data-testid="history-row">
                <td>
                  <Link href={`/history/${row.id}`} data-testid="history-open">
                    <TimeLabel ms={row.startedAtMs} />
                  </Link>
                </td>
                <td>{row.type}</td>
                <td>{formatDuration(row.durationMs)}</td>
                <td>{(row.divergenceMax * 100).toFixed(1)} %</td>
                <td>{row.recoveryMs === null ? '—' : formatDuration(row.recoveryMs)}</td>
                <td>{row.nodeIds.join(', ')}</td>
                <td>{row.endedAtMs === null ? <span className="badge partitioned">active</span> : row.outcome}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      {history.data && history.data.total > 0 ? (
        <nav className="row" aria-label="Pages" style={{ marginTop: '0.75rem' }}>
          <button type="button" disabled={page <= 1} onClick={() => set({ page: String(page - 1) })} data-testid="page-previous">
            ← Previous
          </button>
          <span data-testid="page-label">
            Page {page} of {pages}
          </span>
          <button type="button" disabled={page >= pages} onClick={() => set({ page: String(page + 1) })} data-testid="page-next">
            Next →
          </button>
          <label className="row">
            per page
            <select value={get('pageSize') ?? '25'} onChange={(event) => set({ pageSize: event.target.value })}>
              {['10', '25', '50', '100'].map((size) => (
                <option key={size}>{size}</option>
              ))}
            </select>
          </label>
        </nav>
      ) : null}
    </section>
  );
}
