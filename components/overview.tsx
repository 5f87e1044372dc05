'use client';
/**
 * The overview: cluster state, live topology (with "view from node"), the
 * reachability matrix, the evidence behind a clicked node or link, the lifecycle
 * diagram of the active partition, open incidents and recent partitions.
 */
import { useQuery } from '@tanstack/react-query';
import Link from 'next/link';
import { useState } from 'react';
import { api } from './api-client';
import { ConnectionBadge } from './connection-badge';
import { EvidencePanel } from './evidence-panel';
import { GuidanceLine } from './guidance-line';
import { PartitionList } from './partition-list';
import { ReachabilityMatrix } from './reachability-matrix';
import { StateDiagram } from './state-diagram';
import { TimeLabel } from './time-label';
import { Topology, type TopologySelection } from './topology';
import { useCluster } from './use-cluster';
import { useNow } from './use-now';
import type { ClusterSnapshot } from '../core/realtime-contract';

function ActiveIncidents({ clusterId }: { clusterId: string }) {
  const alerts = useQuery({
    queryKey: ['alerts', 'open', clusterId],
    queryFn: () => api('alerts.list', { query: { clusterId, status: 'firing,acknowledged', limit: 10 } }),
  });
  if (alerts.isPending) return <p className="muted">Loading incidents…</p>;
  if (alerts.isError) return <p className="error">Could not load incidents: {alerts.error.message}</p>;
  if (alerts.data.length === 0) return <p className="muted">No open incident.</p>;
  return (
    <ul className="steps" data-testid="active-incidents">
      {alerts.data.map((alert) => (
        <li key={alert.id} className={alert.status === 'firing' ? 'failed' : 'current'}>
          <span className={`badge ${alert.status}`}>{alert.status}</span> <Link href={`/alerts?focus=${alert.id}`}>{alert.title}</Link>{' '}
          {alert.entries.length > 1 ? <span data-testid="incident-latest">— {alert.entries.at(-1)?.title} ({alert.entries.length - 1} more {alert.entries.length === 2 ? 'event' : 'events'} on it)</span> : null}{' '}
          <span className="muted">
            <TimeLabel ms={alert.firedAtMs} />
          </span>
        </li>
      ))}
    </ul>
  );
}

function ActiveDiagram({ partitionId, state }: { partitionId: string | null; state: string | null }) {
  const detail = useQuery({
    queryKey: ['history', 'detail', partitionId],
    queryFn: () => api('history.detail', { params: { id: partitionId! } }),
    enabled: partitionId !== null,
  });
  return <StateDiagram current={state ?? 'Normal'} path={partitionId ? (detail.data?.path ?? ['Normal', state ?? 'Normal']) : []} />;
}

/** The picked node or link while it is still in the shown cluster; null once it is gone or the cluster changed. */
export function selectionStillShown(picked: { clusterId: string | null; selection: TopologySelection }, snapshot: ClusterSnapshot | null): TopologySelection {
  const selection = picked.selection;
  if (!selection || !snapshot || picked.clusterId !== snapshot.clusterId) return null;
  const present = new Set(snapshot.nodes.map((node) => node.id));
  return (selection.kind === 'node' ? present.has(selection.id) : present.has(selection.a) && present.has(selection.b)) ? selection : null;
}

export function Overview() {
  const { clusters, cluster, live } = useCluster();
  const nowMs = useNow(1000);
  const [picked, setPicked] = useState<{ clusterId: string | null; selection: TopologySelection }>({ clusterId: null, selection: null });
  const [viewpoint, setViewpoint] = useState<string | null>(null);
  const snapshot = live.snapshot;
  // A selection belongs to the cluster it was made in and lasts while what it names is there.
  const selection = selectionStillShown(picked, snapshot);
  const setSelection = (next: TopologySelection) => setPicked({ clusterId: snapshot?.clusterId ?? null, selection: next });
  const partitioned = snapshot?.verdict.partitioned ?? false;
  const active = snapshot?.activePartition ?? null;

  return (
    <>
      <section className="panel wide" aria-labelledby="state-heading">
        <h2 id="state-heading">
          {cluster ? cluster.name : 'Cluster'}
          {cluster?.demo ? (
            <span className="badge demo" data-testid="demo-banner" title="The server started these agents itself on loopback">
              Demo: {snapshot?.nodes.length ?? cluster.nodes} local agents
            </span>
          ) : null}
          <ConnectionBadge live={live} nowMs={nowMs} />
          {snapshot ? (
            <span className={`badge ${partitioned ? 'partitioned' : 'whole'}`} data-testid="cluster-state">
              {partitioned ? `partitioned (${snapshot.verdict.type})` : 'whole'}
            </span>
          ) : null}
          {active ? (
            <Link href={`/history/${active.id}`} className="badge" data-testid="lifecycle-state">
              {active.state}
            </Link>
          ) : null}
        </h2>
        {clusters.isPending ? <p className="muted">Loading clusters…</p> : null}
        {clusters.isError ? <p className="notice error">Could not reach the server: {clusters.error.message}</p> : null}
        {clusters.data && clusters.data.length === 0 ? <p className="muted">No cluster yet: start an agent (npm run agent) to see one.</p> : null}
        {live.error ? <p className="notice error">{live.error}</p> : null}
        {cluster && snapshot ? <GuidanceLine clusterId={cluster.id} partitioned={partitioned} active={active} /> : null}
        {snapshot ? <p style={{ margin: 0 }} data-testid="verdict-summary">{snapshot.verdict.summary ?? ''}</p> : null}
      </section>

      <section className="panel" aria-labelledby="topology-heading">
        <h2 id="topology-heading">
          Topology
          <label className="row" style={{ fontWeight: 'normal', fontSize: '0.85rem' }}>
            View from
            <select value={viewpoint ?? ''} onChange={(event) => setViewpoint(event.target.value || null)} data-testid="viewpoint">
              <option value="">whole cluster</option>
              {snapshot?.nodes.map((node) => (
                <option key={node.id} value={node.id}>
                  {node.id}
                </option>
              ))}
            </select>
          </label>
        </h2>
        {snapshot ? (
          <Topology snapshot={snapshot} selection={selection} onSelect={setSelection} viewpoint={viewpoint} />
        ) : cluster ? (
          <p className="muted">Loading topology…</p>
        ) : null}
      </section>

      <section className="panel" aria-labelledby="evidence-heading">
        <h2 id="evidence-heading">Evidence</h2>
        {snapshot ? <EvidencePanel snapshot={snapshot} selection={selection} nowMs={nowMs} /> : <p className="muted">Waiting for the cluster…</p>}
      </section>

      <section className="panel" aria-labelledby="matrix-heading">
        <h2 id="matrix-heading">Reachability matrix</h2>
        {snapshot ? (
          <ReachabilityMatrix snapshot={snapshot} viewpoint={viewpoint} nowMs={nowMs} onSelect={(a, b) => setSelection({ kind: 'link', a, b })} />
        ) : (
          <p className="muted">Loading…</p>
        )}
      </section>

      <section className="panel" aria-labelledby="diagram-heading">
        <h2 id="diagram-heading">Lifecycle {active ? <span className="muted">of the active partition</span> : <span className="muted">(cluster is Normal)</span>}</h2>
        <ActiveDiagram partitionId={active?.id ?? null} state={active?.state ?? null} />
      </section>

      <section className="panel" aria-labelledby="incidents-heading">
        <h2 id="incidents-heading">Open incidents</h2>
        {cluster ? <ActiveIncidents clusterId={cluster.id} /> : <p className="muted">Waiting for a cluster…</p>}
      </section>

      <section className="panel" aria-labelledby="partitions-heading">
        <h2 id="partitions-heading">
          Recent partitions <Link href="/history">all history →</Link>
        </h2>
        {cluster ? <PartitionList clusterId={cluster.id} nowMs={nowMs} /> : <p className="muted">Waiting for a cluster…</p>}
      </section>
    </>
  );
}
