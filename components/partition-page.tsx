'use client';
/**
 * One partition: its facts, the lifecycle diagram with the path it took, charts
 * (Recharts) of divergence, reachability and recovery over time, the timeline
 * with causes and actors, reconciliation reports, alerts, recovery runs and the
 * evidence recorded at each classification.
 */
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useParams } from 'next/navigation';
import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { Fragment } from 'react';
import { canDecideRecovery } from '../core/permissions';
import { api } from './api-client';
import { ReproducePartition } from './reproduce-partition';
import { useSession } from './session';
import { StateDiagram } from './state-diagram';
import { formatDuration } from './time';
import { TimeLabel } from './time-label';

const clock = (ms: number) => new Date(ms).toLocaleTimeString();

function TimeChart({ title, data, lines, unit, testId }: { title: string; data: Record<string, number>[]; lines: { key: string; label: string; colour: string }[]; unit: string; testId: string }) {
  return (
    <figure style={{ margin: 0 }} data-testid={testId}>
      <figcaption style={{ fontWeight: 600, marginBottom: '0.25rem' }}>{title}</figcaption>
      {data.length === 0 ? (
        <p className="muted">No samples recorded for this partition.</p>
      ) : (
        <div style={{ width: '100%', height: 220 }}>
          <ResponsiveContainer>
            <LineChart data={data} margin={{ top: 5, right: 10, bottom: 5, left: 0 }}>
              <CartesianGrid strokeDasharray="3 3" stroke="var(--border)" />
              <XAxis dataKey="atMs" type="number" domain={['dataMin', 'dataMax']} tickFormatter={clock} stroke="var(--muted)" fontSize={11} />
              <YAxis stroke="var(--muted)" fontSize={11} unit={unit} />
              <Tooltip labelFormatter={(value) => new Date(Number(value)).toLocaleString()} contentStyle={{ background: 'var(--panel)', border: '1px solid var(--border)' }} />
              <Legend />
              {lines.map((line) => (
                <Line key={line.key} type="stepAfter" dataKey={line.key} name={line.label} stroke={line.colour} dot={false} isAnimationActive={false} connectNulls />
              ))}
            </LineChart>
          </ResponsiveContainer>
        </div>
      )}
    </figure>
  );
}

function StartButtons({ partitionId }: { partitionId: string }) {
  const queryClient = useQueryClient();
  const start = useMutation({
    mutationFn: (strategy: 'manual' | 'phased') => api('recovery.start', { body: { partitionId, strategy } }),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: ['history'] }),
  });
  return (
    <div className="row">
      <button type="button" onClick={() => start.mutate('manual')} disabled={start.isPending}>
        Start manual recovery
      </button>
      <button type="button" onClick={() => start.mutate('phased')} disabled={start.isPending}>
        Start phased recovery
      </button>
      {start.isSuccess ? <a href="/recovery">Go to recovery →</a> : null}
      {start.isError ? <span className="error">{start.error.message}</span> : null}
    </div>
  );
}

export function PartitionPage() {
  const session = useSession();
  const params = useParams<{ id: string }>();
  const id = params.id;
  const detail = useQuery({ queryKey: ['history', 'detail', id], queryFn: () => api('history.detail', { params: { id } }), refetchInterval: 5000 });
  if (detail.isPending) return <p className="muted">Loading partition…</p>;
  if (detail.isError) return <p className="notice error">Could not load this partition: {detail.error.message}</p>;
  const { partition, events, path } = detail.data;
  const divergence = detail.data.samples.filter((sample) => sample.name.includes('divergence')).map((sample) => ({ atMs: sample.atMs, divergence: sample.value * 100 }));
  const recovery = detail.data.samples.filter((sample) => sample.name === 'recovery_time_ms').map((sample) => ({ atMs: sample.atMs, recovery: sample.value / 1000 }));
  const latestSample = (name: string) => detail.data.samples.filter((sample) => sample.name === name).at(-1)?.value ?? null;
  const waitedMs = latestSample('recovery_wait_ms');
  const workedMs = latestSample('recovery_work_ms');
  const reachability = detail.data.reachability.map((point) => ({ atMs: point.atMs, reachable: Math.round(point.reachableRatio * 1000) / 10 }));
  return (
    <>
      <section className="panel" aria-labelledby="partition-heading">
        <h2 id="partition-heading" data-testid="partition-title">
          {partition.type} partition <span className={`badge ${partition.endedAtMs === null ? 'partitioned' : 'whole'}`}>{partition.endedAtMs === null ? 'active' : partition.outcome}</span>
        </h2>
        <dl className="facts">
          <dt>Started</dt>
          <dd>
            <TimeLabel ms={partition.startedAtMs} />
          </dd>
          <dt>Ended</dt>
          <dd>{partition.endedAtMs ? <TimeLabel ms={partition.endedAtMs} /> : 'still open'}</dd>
          <dt>Duration</dt>
          <dd>{formatDuration(detail.data.durationMs)}</dd>
          <dt>State</dt>
          <dd>{partition.state}</dd>
          <dt>Sides</dt>
          <dd>{partition.components.map((side) => `[${side.join(', ')}]`).join('  ')}</dd>
          <dt>Cut links</dt>
          <dd>{partition.cutLinks.length === 0 ? 'none' : partition.cutLinks.map((link) => `${link.a}–${link.b} (${link.state})`).join(', ')}</dd>
          <dt>Peak divergence</dt>
          <dd data-testid="peak-divergence">
            {(partition.divergenceMax * 100).toFixed(1)} % <span className="muted">of all keys differed between replicas at the worst sample (keys differing ÷ keys held)</span>
          </dd>
          <dt>Recovery time</dt>
          <dd data-testid="recovery-time">
            {partition.recoveryMs === null ? '—' : formatDuration(partition.recoveryMs)}
            {partition.recoveryMs !== null && waitedMs !== null && workedMs !== null ? (
              <span className="muted">
                {' '}
                (heal → closed): <span data-testid="recovery-waiting">waiting for approval {formatDuration(waitedMs)}</span>, <span data-testid="recovery-working">working {formatDuration(workedMs)}</span>
              </span>
            ) : null}
          </dd>
        </dl>
        {partition.endedAtMs === null && canDecideRecovery(session.user.role) ? <StartButtons partitionId={partition.id} /> : null}
        <ReproducePartition partitionId={partition.id} clusterId={partition.clusterId} />
      </section>
      <section className="panel" aria-labelledby="path-heading">
        <h2 id="path-heading">Lifecycle path</h2>
        <StateDiagram current={partition.state} path={path} />
      </section>
      <section className="panel wide" aria-labelledby="charts-heading">
        <h2 id="charts-heading">Over time</h2>
        <div style={{ display: 'grid', gap: '1rem', gridTemplateColumns: 'repeat(auto-fit, minmax(300px, 1fr))' }}>
          <TimeChart title="Reachability (mean % of peers each agent hears)" data={reachability} lines={[{ key: 'reachable', label: 'reachable %', colour: 'var(--accent)' }]} unit="%" testId="chart-reachability" />
          <TimeChart title="Data divergence" data={divergence} lines={[{ key: 'divergence', label: 'divergence %', colour: 'var(--down)' }]} unit="%" testId="chart-divergence" />
          <TimeChart title="Recovery time" data={recovery} lines={[{ key: 'recovery', label: 'recovery s', colour: 'var(--ok)' }]} unit="s" testId="chart-recovery" />
        </div>
      </section>
      <section className="panel wide" aria-labelledby="timeline-heading">
        <h2 id="timeline-heading">Timeline and evidence</h2>
        <table data-testid="timeline">
          <thead>
            <tr>
              <th>When</th>
              <th>Event</th>
              <th>State</th>
              <th>Cause</th>
              <th>By</th>
            </tr>
          </thead>
          <tbody>
            {events.map((event) => (
              <tr key={event.id}>
                <td>
                  <TimeLabel ms={event.atMs} relative={false} />
                </td>
                <td>{event.kind}</td>
                <td>{event.state ?? ''}</td>
                <td>
                  {event.cause}
                  {event.data && typeof event.data === 'object' && Object.keys(event.data).length > 0 ? (
                    <details>
                      <summary className="muted">evidence</summary>
                      <pre style={{ fontSize: '0.75rem', whiteSpace: 'pre-wrap' }}>{JSON.stringify(event.data, null, 2).slice(0, 4000)}</pre>
                    </details>
                  ) : null}
                </td>
                <td>{event.actor}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <section className="panel" aria-labelledby="reconciliation-heading">
        <h2 id="reconciliation-heading">Reconciliation</h2>
        {detail.data.reports.length === 0 ? (
          <p className="muted">No reconciliation report yet.</p>
        ) : (
          detail.data.reports.map((report) => (
            <dl className="facts" key={report.id} style={{ marginBottom: '0.75rem' }}>
              <dt>Status</dt>
              <dd>
                <span className={`badge ${report.status}`}>{report.status}</span> <TimeLabel ms={report.createdAtMs} />
              </dd>
              <dt>Keys compared</dt>
              <dd>
                {report.keysCompared} <span className="muted">(written since the split; only those replicas disagreed on were sent)</span>
              </dd>
              <dt>Conflicts</dt>
              <dd>{report.conflicts}</dd>
              <dt>Bytes moved</dt>
              <dd>{report.bytesMoved}</dd>
              {report.recovered ? (
                <>
                  <dt>Recovered</dt>
                  <dd data-testid="recovered-tables">{report.recovered.byTable.map((group) => `${group.table} (${group.keys})`).join(', ') || 'nothing to change'}</dd>
                  {report.recovered.toReceive.filter((node) => node.keys.length > 0).map((node) => (
                    <Fragment key={node.nodeId}>
                      <dt>Sent to {node.nodeId}</dt>
                      <dd data-testid="recovered-keys">
                        <code>{node.keys.join(' · ')}</code>
                        {node.more > 0 ? <span className="muted"> and {node.more} more</span> : null}
                      </dd>
                    </Fragment>
                  ))}
                </>
              ) : null}
              <dt>Took</dt>
              <dd>
                {formatDuration(report.durationMs)} in {report.attempts} attempt{report.attempts === 1 ? '' : 's'}
              </dd>
            </dl>
          ))
        )}
      </section>
      <section className="panel" aria-labelledby="related-heading">
        <h2 id="related-heading">Alerts and recoveries</h2>
        {detail.data.alerts.length === 0 && detail.data.recoveries.length === 0 ? <p className="muted">None.</p> : null}
        <ul>
          {detail.data.alerts.map((alert) => (
            <li key={alert.id}>
              <span className={`badge ${alert.status}`}>{alert.status}</span> {alert.title}
              {alert.acknowledgedBy ? ` — acknowledged by ${alert.acknowledgedBy}: “${alert.note ?? ''}”` : ''}
            </li>
          ))}
          {detail.data.recoveries.map((run) => (
            <li key={run.id}>
              <span className={`badge ${run.status}`}>{run.status}</span> {run.strategy} recovery
              {run.decidedBy ? ` — decided by ${run.decidedBy}${run.reason ? `: “${run.reason}”` : ''}` : ''}
            </li>
          ))}
        </ul>
      </section>
    </>
  );
}
