'use client';
/** Every stored experiment run of the cluster, newest first, with its status and each validator's outcome. */
import { useQuery } from '@tanstack/react-query';
import Link from 'next/link';
import { api } from './api-client';
import { RunStatus, VerdictBadge } from './experiment-badges';
import { TimeLabel } from './time-label';
import { useCluster } from './use-cluster';

export function ExperimentList() {
  const { cluster } = useCluster();
  const runs = useQuery({ queryKey: ['experiments', 'list', cluster?.id, 200], queryFn: () => api('experiments.list', { query: { clusterId: cluster?.id, limit: 200 } }), refetchInterval: 5000, enabled: cluster !== undefined });
  return (
    <section className="panel wide" aria-labelledby="runs-heading">
      <h2 id="runs-heading">
        Experiment runs <Link href="/chaos/coverage">coverage</Link>
      </h2>
      {runs.isError ? <p className="error">Not loaded: {runs.error.message}</p> : null}
      {runs.data && runs.data.length === 0 ? <p className="muted">No experiment yet: start one on the chaos page.</p> : null}
      <table data-testid="experiment-runs">
        <thead>
          <tr>
            <th>Scenario</th>
            <th>Started</th>
            <th>By</th>
            <th>Status</th>
            <th>Verdicts</th>
          </tr>
        </thead>
        <tbody>
          {(runs.data ?? []).map((run) => (
            <tr key={run.id}>
              <td>
                <Link href={`/chaos/experiments/${run.id}`} data-testid="run-open">
                  {run.scenario}
                </Link>
              </td>
              <td>
                <TimeLabel ms={run.startedAtMs} />
              </td>
              <td>{run.startedBy}</td>
              <td>
                <RunStatus status={run.status} />
              </td>
              <td className="row">
                {run.verdicts.map((verdict) => (
                  <VerdictBadge key={verdict.validator} validator={verdict.validator} outcome={verdict.outcome} />
                ))}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
