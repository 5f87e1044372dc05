'use client';
/**
 * One experiment's report: status, pass/fail per validator with its summary and
 * evidence, charts (Recharts) of the client's availability and the replicas'
 * divergence over the run, its steps and timeline, the partitions it caused, and
 * exports as JSON and JUnit XML (for a CI pipeline).
 */
import { useQuery } from '@tanstack/react-query';
import Link from 'next/link';
import { useParams } from 'next/navigation';
import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { api, apiUrl } from './api-client';
import { RunStatus, VerdictBadge } from './experiment-badges';
import { TimeLabel } from './time-label';

export function ExperimentReportPage() {
  const { id } = useParams<{ id: string }>();
  const report = useQuery({ queryKey: ['experiments', 'report', id], queryFn: () => api('experiments.get', { params: { id } }), refetchInterval: (query) => (query.state.data?.status === 'running' ? 2000 : false) });
  if (report.isPending) return <p className="muted">Loading report…</p>;
  if (report.isError) return <p className="notice error">Could not load this report: {report.error.message}</p>;
  const run = report.data;
  const chart = run.samples.map((sample) => ({ atS: sample.atMs / 1000, availability: sample.availability === null ? null : Math.round(sample.availability * 1000) / 10, divergence: Math.round(sample.divergence * 1000) / 10 }));
  return (
    <>
      <section className="panel" aria-labelledby="report-heading">
        <h2 id="report-heading" data-testid="report-title">
          {run.scenario} <RunStatus status={run.status} />
        </h2>
        <dl className="facts">
          <dt>Cluster</dt>
          <dd>{run.clusterId}</dd>
          <dt>Started</dt>
          <dd>
            <TimeLabel ms={run.startedAtMs} /> by {run.startedBy}
          </dd>
          <dt>Ended</dt>
          <dd>{run.endedAtMs ? <TimeLabel ms={run.endedAtMs} /> : 'running'}</dd>
          <dt>Shapes</dt>
          <dd>{run.shapes.join(', ') || '—'}</dd>
          <dt>Affected nodes</dt>
          <dd>{run.affectedNodes.join(', ') || 'none'}</dd>
          <dt>Partitions caused</dt>
          <dd>
            {run.partitionIds.length === 0
              ? 'none'
              : run.partitionIds.map((partitionId) => (
                  <Link key={partitionId} href={`/history/${partitionId}`} style={{ marginRight: '0.5rem' }}>
                    {partitionId.slice(0, 8)}
                  </Link>
                ))}
          </dd>
          {run.notes.length > 0 ? (
            <>
              <dt>Notes</dt>
              <dd>{run.notes.join('; ')}</dd>
            </>
          ) : null}
        </dl>
        <div className="row">
          <a href={apiUrl('experiments.export', { params: { id: run.id }, query: { format: 'json' } })} download data-testid="export-report-json">
            Export JSON
          </a>
          <a href={apiUrl('experiments.export', { params: { id: run.id }, query: { format: 'junit' } })} download data-testid="export-report-junit">
            Export JUnit XML
          </a>
        </div>
      </section>
      <section className="panel" aria-labelledby="verdicts-heading">
        <h2 id="verdicts-heading">Verdicts</h2>
        {run.verdictDetails.length === 0 ? <p className="muted">{run.status === 'running' ? 'Judged once the cluster is back to Normal.' : 'No verdict: the run did not finish.'}</p> : null}
        <ul className="steps" data-testid="report-verdicts">
          {run.verdictDetails.map((verdict) => (
            <li key={verdict.validator} className={verdict.outcome === 'pass' ? 'done' : verdict.outcome === 'fail' ? 'failed' : ''}>
              <VerdictBadge validator={verdict.validator} outcome={verdict.outcome} /> {verdict.summary}
              <details>
                <summary>evidence</summary>
                <pre style={{ fontSize: '0.75rem', whiteSpace: 'pre-wrap' }}>{JSON.stringify(verdict.evidence, null, 2)}</pre>
              </details>
            </li>
          ))}
        </ul>
      </section>
      <section className="panel wide" aria-labelledby="run-charts-heading">
        <h2 id="run-charts-heading">Availability and divergence over the run</h2>
        {chart.length === 0 ? (
          <p className="muted">No samples.</p>
        ) : (
          <div style={{ width: '100%', height: 240 }} data-testid="report-chart">
            <ResponsiveContainer>
              <LineChart data={chart} margin={{ top: 5, right: 10, bottom: 5, left: 0 }}>
                <CartesianGrid strokeDasharray="3 3" stroke="var(--border)" />
                <XAxis dataKey="atS" type="number" domain={['dataMin', 'dataMax']} unit=" s" stroke="var(--muted)" fontSize={11} />
                <YAxis domain={[0, 100]} unit=" %" stroke="var(--muted)" fontSize={11} />
                <Tooltip contentStyle={{ background: 'var(--panel)', border: '1px solid var(--border)' }} />
                <Legend />
                <Line type="stepAfter" dataKey="availability" name="client operations served" stroke="var(--ok)" dot={false} isAnimationActive={false} connectNulls />
                <Line type="stepAfter" dataKey="divergence" name="divergence" stroke="var(--down)" dot={false} isAnimationActive={false} />
              </LineChart>
            </ResponsiveContainer>
          </div>
        )}
      </section>
      <section className="panel wide" aria-labelledby="run-timeline-heading">
        <h2 id="run-timeline-heading">Steps and timeline</h2>
        <ol className="steps">
          {run.steps.map((step) => (
            <li key={step.index} className={step.appliedAtMs === null ? '' : 'done'}>
              {Math.round(step.atMs / 1000)} s: {step.description}
            </li>
          ))}
        </ol>
        <table data-testid="report-timeline">
          <tbody>
            {run.events.map((event, index) => (
              <tr key={`${event.atMs}-${index}`}>
                <td>
                  <TimeLabel ms={event.atMs} />
                </td>
                <td>{event.kind}</td>
                <td>{event.message}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
    </>
  );
}
