'use client';
/**
 * Chaos panel for the demo or a test cluster: cut a link (both ways or one way),
 * isolate a node, split the cluster, heal, or start any scenario of the catalog
 * (served by the server from `scenarios/`, which plays it on the live agents), and
 * watch the topology change beside it. Operators and admins only; the server checks.
 */
import { useMutation, useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { canRunChaos } from '../core/permissions';
import type { HttpBody } from '../core/http-contract';
import type { ScenarioRunView } from '../core/http-views';
import { api } from './api-client';
import { ConnectionBadge } from './connection-badge';
import { useSession } from './session';
import { Topology, type TopologySelection } from './topology';
import { useCluster } from './use-cluster';
import { useNow } from './use-now';

type FaultRoute = 'faults.cut' | 'faults.degrade' | 'faults.isolate' | 'faults.split' | 'faults.heal';
type FaultCall = { route: FaultRoute; body: HttpBody<FaultRoute> };

/** One line of the panel's log for a scenario the server started. */
function describeRun(run: ScenarioRunView): string {
  const mapping = Object.entries(run.mapping).map(([from, to]) => (from === to ? from : `${from}=${to}`));
  const notes = run.notes.length > 0 ? `; ${run.notes.join('; ')}` : '';
  return `scenario ${run.scenario} for ${Math.round((run.endsAtMs - run.startedAtMs) / 1000)} s on ${mapping.join(', ')}${notes}`;
}

export function ChaosPanel() {
  const session = useSession();
  const { cluster, live } = useCluster();
  const nowMs = useNow(1000);
  const [selection, setSelection] = useState<TopologySelection>(null);
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [oneWay, setOneWay] = useState(false);
  const [ratio, setRatio] = useState(0.3);
  const [groups, setGroups] = useState('');
  const [log, setLog] = useState<string[]>([]);
  const snapshot = live.snapshot;
  const nodes = snapshot?.nodes.map((node) => node.id) ?? [];
  const mayAct = canRunChaos(session.user.role);
  const catalog = useQuery({ queryKey: ['scenarios'], queryFn: () => api('scenarios.list') });
  const startScenario = useMutation({
    mutationFn: (name: string) => api('scenarios.start', { params: { name }, body: { clusterId: cluster?.id } }),
    onSuccess: (started) => setLog((previous) => [`${new Date().toLocaleTimeString()} ${describeRun(started)}`, ...previous].slice(0, 50)),
  });
  const run = useMutation({
    mutationFn: async (calls: FaultCall[]) => {
      for (const call of calls) await api(call.route, { body: { clusterId: cluster?.id, ...call.body } });
      return calls;
    },
    onSuccess: (calls) => setLog((previous) => [...calls.map((call) => `${new Date().toLocaleTimeString()} ${call.route.replace('faults.', '')} ${JSON.stringify(call.body)}`), ...previous].slice(0, 50)),
  });
  const nodeSelect = (value: string, onChange: (value: string) => void, label: string, testId: string) => (
    <label className="field">
      {label}
      <select value={value} onChange={(event) => onChange(event.target.value)} data-testid={testId}>
        <option value="">choose…</option>
        {nodes.map((node) => (
          <option key={node}>{node}</option>
        ))}
      </select>
    </label>
  );
  return (
    <>
      <section className="panel" aria-labelledby="chaos-heading">
        <h2 id="chaos-heading">
          Chaos {cluster?.demo ? <span className="badge demo">demo cluster</span> : <span className="badge">{cluster?.name}</span>}
        </h2>
        {!mayAct ? <p className="notice">Your role ({session.user.role}) can watch but not inject faults.</p> : null}
        <fieldset disabled={!mayAct || run.isPending || startScenario.isPending} style={{ border: 'none', padding: 0, margin: 0 }} className="stack">
          <div className="filters">
            {nodeSelect(from, setFrom, 'From', 'chaos-from')}
            {nodeSelect(to, setTo, 'To', 'chaos-to')}
            <label className="row">
              <input type="checkbox" checked={oneWay} onChange={(event) => setOneWay(event.target.checked)} /> one way only
            </label>
            <button type="button" className="danger" disabled={!from || !to || from === to} onClick={() => run.mutate([{ route: 'faults.cut', body: { from, to, oneWay } }])} data-testid="chaos-cut">
              Cut link
            </button>
            <button type="button" disabled={!from || !to} onClick={() => run.mutate([{ route: 'faults.heal', body: { from, to } }])}>
              Heal link
            </button>
            <button type="button" className="danger" disabled={!from} onClick={() => run.mutate([{ route: 'faults.isolate', body: { node: from } }])} data-testid="chaos-isolate">
              Isolate “from”
            </button>
          </div>
          <div className="filters">
            <label className="field" style={{ flex: 1 }}>
              Split into groups (nodes comma-separated, groups separated by |)
              <input value={groups} onChange={(event) => setGroups(event.target.value)} placeholder="node-1,node-2 | node-3,node-4,node-5" />
            </label>
            <button
              type="button"
              className="danger"
              disabled={!groups.includes('|')}
              onClick={() => run.mutate([{ route: 'faults.split', body: { groups: groups.split('|').map((group) => group.split(',').map((node) => node.trim()).filter(Boolean)) } }])}
            >
              Split
            </button>
            <button type="button" className="primary" onClick={() => run.mutate([{ route: 'faults.heal', body: {} }])} data-testid="chaos-heal-all">
              Heal everything
            </button>
          </div>
          <div className="filters">
            <label className="field">
              Ratio of datagrams (0–1)
              <input type="number" min={0} max={1} step={0.05} value={ratio} onChange={(event) => setRatio(Number(event.target.value))} data-testid="chaos-ratio" />
            </label>
            <button
              type="button"
              className="danger"
              disabled={!from || !to || from === to || !(ratio >= 0 && ratio <= 1)}
              title="Loses this fraction of the datagrams between from and to, both ways: a flaky link"
              onClick={() => run.mutate([{ route: 'faults.degrade', body: { from, to, lossRatio: ratio } }])}
              data-testid="chaos-loss"
            >
              Packet loss
            </button>
            <button
              type="button"
              className="danger"
              disabled={!from || !to || from === to || !(ratio >= 0 && ratio <= 1)}
              title="Flips a byte in this fraction of the datagrams from sends to to: to sees the link from from failing integrity (untrusted traffic, which accuses no node)"
              onClick={() => run.mutate([{ route: 'faults.degrade', body: { from, to, corruptRatio: ratio } }])}
              data-testid="chaos-corrupt"
            >
              Corrupt
            </button>
          </div>
          <h3 style={{ fontSize: '0.95rem', margin: '0.5rem 0 0' }}>Catalog scenarios</h3>
          {catalog.isError ? <p className="error">Catalog not loaded: {catalog.error.message}</p> : null}
          <ul className="steps" aria-label="Catalog scenarios">
            {(catalog.data ?? []).map((scenario) => (
              <li key={scenario.name} className="row">
                <button type="button" disabled={nodes.length < 2} onClick={() => startScenario.mutate(scenario.name)} data-testid={`scenario-${scenario.name}`}>
                  Run {scenario.name}
                </button>
                <span className="muted">
                  {Math.round(scenario.durationMs / 1000)} s, {scenario.faultKinds.join(', ') || 'no faults'}: {scenario.description}
                </span>
              </li>
            ))}
          </ul>
        </fieldset>
        {run.isError || startScenario.isError ? (
          <p className="error" role="alert">
            {(run.error ?? startScenario.error)?.message}
          </p>
        ) : null}
        <h3 style={{ fontSize: '0.95rem' }}>What you did</h3>
        {log.length === 0 ? <p className="muted">Nothing yet.</p> : <pre style={{ fontSize: '0.8rem', whiteSpace: 'pre-wrap' }}>{log.join('\n')}</pre>}
      </section>
      <section className="panel" aria-labelledby="watch-heading">
        <h2 id="watch-heading">
          Watch <ConnectionBadge live={live} nowMs={nowMs} />
          {snapshot ? <span className={`badge ${snapshot.verdict.partitioned ? 'partitioned' : 'whole'}`}>{snapshot.verdict.partitioned ? `partitioned (${snapshot.verdict.type})` : 'whole'}</span> : null}
        </h2>
        {snapshot ? <Topology snapshot={snapshot} selection={selection} onSelect={setSelection} viewpoint={null} /> : <p className="muted">Loading…</p>}
        {snapshot ? <p className="muted">{snapshot.verdict.summary}</p> : null}
      </section>
    </>
  );
}
