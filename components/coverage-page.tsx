'use client';
/** Which partition shapes this cluster has been tested against by experiments, when last, and with what verdict. */
import { useQuery } from '@tanstack/react-query';
import Link from 'next/link';
import { api } from './api-client';
import { RunStatus } from './experiment-badges';
import { TimeLabel } from './time-label';
import { useCluster } from './use-cluster';

export function CoveragePage() {
  const { cluster } = useCluster();
  const coverage = useQuery({ queryKey: ['experiments', 'coverage', cluster?.id], queryFn: () => api('experiments.coverage', { query: { clusterId: cluster?.id } }), enabled: cluster !== undefined });
  return (
    <section className="panel wide" aria-labelledby="coverage-heading">
      <h2 id="coverage-heading">
        Coverage of partition shapes <Link href="/chaos/experiments">all runs</Link>
      </h2>
      {coverage.isError ? <p className="error">Not loaded: {coverage.error.message}</p> : null}
      <table data-testid="coverage">
        <thead>
          <tr>
            <th>Shape</th>
            <th>Runs</th>
            <th>Last tested</th>
            <th>Scenario</th>
            <th>Verdict</th>
          </tr>
        </thead>
        <tbody>
          {(coverage.data?.shapes ?? []).map((entry) => (
            <tr key={entry.shape} data-testid={`coverage-${entry.shape}`}>
              <td>{entry.label}</td>
              <td>{entry.runs}</td>
              <td>{entry.last ? <TimeLabel ms={entry.last.atMs} /> : <span className="muted">never</span>}</td>
              <td>{entry.last ? <Link href={`/chaos/experiments/${entry.last.runId}`}>{entry.last.scenario}</Link> : '—'}</td>
              <td>{entry.last ? <RunStatus status={entry.last.status as 'passed' | 'failed'} /> : '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
