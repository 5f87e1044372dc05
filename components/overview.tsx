'use client';
/** The overview page: which cluster, whether the view is live, the topology and the partition history. */
import { useQuery } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { api } from './api-client';
import { PartitionList } from './partition-list';
import { Topology } from './topology';
import { useLiveCluster } from './use-live-cluster';

interface ClusterListItem {
  id: string;
  name: string;
  demo: boolean;
  nodes: number;
}

function useNow(intervalMs: number): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), intervalMs);
    return () => clearInterval(timer);
  }, [intervalMs]);
  return now;
}

export function Overview() {
  const clusters = useQuery({ queryKey: ['clusters'], queryFn: () => api<ClusterListItem[]>('/api/clusters'), refetchInterval: 5000 });
  const cluster = clusters.data?.find((item) => item.demo) ?? clusters.data?.[0] ?? null;
  const live = useLiveCluster(cluster?.id ?? null);
  const nowMs = useNow(1000);
  const snapshot = live.snapshot;
  const partitioned = snapshot?.verdict.partitioned ?? false;

  return (
    <>
      <header className="top">
        <h1>Faultline</h1>
        {cluster ? <span>{cluster.name}</span> : null}
        {cluster?.demo ? (
          <span className="badge demo" data-testid="demo-banner" title="The server started these agents itself on loopback">
            Demo cluster: {snapshot?.nodes.length ?? cluster.nodes} local agents started by this server
          </span>
        ) : null}
        <span className={`badge ${live.status === 'live' ? 'live' : 'stale'}`} data-testid="connection" aria-live="polite">
          {live.status === 'live'
            ? `● live${live.lastUpdateAtMs ? ` · updated ${Math.max(0, Math.round((nowMs - live.lastUpdateAtMs) / 1000))} s ago` : ''}`
            : `○ ${live.status}`}
        </span>
      </header>
      <main>
        <section className="panel" aria-labelledby="topology-heading">
          <h2 id="topology-heading">
            Topology{' '}
            {snapshot ? (
              <span className={`badge ${partitioned ? 'partitioned' : 'whole'}`} data-testid="cluster-state">
                {partitioned ? `partitioned (${snapshot.verdict.type})` : 'whole'}
              </span>
            ) : null}
          </h2>
          {clusters.isError ? <p className="error">Could not reach the server: {clusters.error.message}</p> : null}
          {clusters.data && clusters.data.length === 0 ? <p className="muted">No cluster yet: start an agent to see one.</p> : null}
          {live.error ? <p className="error">{live.error}</p> : null}
          {snapshot ? <Topology snapshot={snapshot} /> : cluster ? <p className="muted">Loading topology…</p> : null}
          <div className="legend">
            <span>── up</span>
            <span style={{ color: 'var(--down)' }}>- - ✕ cut</span>
            <span style={{ color: 'var(--oneway)' }}>··▶ one-way</span>
            <span>○ hollow: no recent report</span>
          </div>
        </section>
        <section className="panel" aria-labelledby="partitions-heading">
          <h2 id="partitions-heading">Partitions</h2>
          {cluster ? <PartitionList clusterId={cluster.id} nowMs={nowMs} /> : <p className="muted">Waiting for a cluster…</p>}
        </section>
      </main>
    </>
  );
}
