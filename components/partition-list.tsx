'use client';
/** Partitions from the database, newest first; refreshed when the server pushes a change. */
import { useQuery } from '@tanstack/react-query';
import Link from 'next/link';
import { api } from './api-client';
import { formatDuration } from './time';
import { TimeLabel } from './time-label';

export function PartitionList({ clusterId, nowMs }: { clusterId: string; nowMs: number }) {
  const query = useQuery({
    queryKey: ['partitions', clusterId],
    queryFn: () => api('partitions.list', { query: { clusterId, limit: 10 } }),
  });
  if (query.isPending) return <p className="muted">Loading partitions…</p>;
  if (query.isError) return <p className="error">Could not load partitions: {query.error.message}</p>;
  if (query.data.length === 0) return <p className="muted">No partition recorded yet. Cut a link to see one.</p>;
  return (
    <table data-testid="partition-list">
      <thead>
        <tr>
          <th>Started</th>
          <th>Type</th>
          <th>Nodes</th>
          <th>Duration</th>
          <th>State</th>
        </tr>
      </thead>
      <tbody>
        {query.data.map((partition) => (
          <tr key={partition.id} data-testid="partition-row" data-ended={partition.endedAtMs !== null}>
            <td>
              <Link href={`/history/${partition.id}`}>
                <TimeLabel ms={partition.startedAtMs} />
              </Link>
            </td>
            <td>{partition.type}</td>
            <td>{partition.nodeIds.join(', ')}</td>
            <td>{formatDuration((partition.endedAtMs ?? nowMs) - partition.startedAtMs)}</td>
            <td>{partition.endedAtMs === null ? <span className="badge partitioned">active</span> : partition.outcome}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
