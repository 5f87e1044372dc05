'use client';
/** What is known about the selected node or link, and the claims behind it (the verdict's evidence chain). */
import type { ClusterSnapshot } from '../core/realtime-contract';
import type { TopologySelection } from './topology';
import { pairKey } from './topology-layout';
import { formatAge } from './time';

/** Evidence lines shown at most for one selection. */
const evidenceShownMax = 40;

export function EvidencePanel({ snapshot, selection, nowMs }: { snapshot: ClusterSnapshot; selection: TopologySelection; nowMs: number }) {
  if (!selection) return <p className="muted">Click a node or a link (or focus it and press Enter) to see its evidence.</p>;
  const verdict = snapshot.verdict;
  const evidence = (verdict.evidence ?? []).filter((entry) =>
    selection.kind === 'node'
      ? entry.observerId === selection.id || entry.subjectId === selection.id
      : pairKey(entry.observerId, entry.subjectId) === pairKey(selection.a, selection.b),
  );
  const header =
    selection.kind === 'node' ? (
      <NodeFacts snapshot={snapshot} id={selection.id} nowMs={nowMs} />
    ) : (
      <LinkFacts snapshot={snapshot} a={selection.a} b={selection.b} />
    );
  return (
    <div className="evidence" data-testid="evidence-panel">
      {header}
      <h3 style={{ fontSize: '0.9rem', margin: '0.75rem 0 0.25rem' }}>Evidence chain</h3>
      {evidence.length === 0 ? (
        <p className="muted">No claims against it: every observer hears it{verdict.evidenceOmitted ? ` (${verdict.evidenceOmitted} entries omitted)` : ''}.</p>
      ) : (
        <ul>
          {evidence.slice(0, evidenceShownMax).map((entry, index) => (
            <li key={index}>
              <strong>{entry.observerId}</strong> says <strong>{entry.subjectId}</strong> is {entry.claim}
              {entry.claim.startsWith('byzantine') ? ` (${entry.suspicion} bad packets)` : ` (suspicion φ ${entry.suspicion.toFixed(1)})`}, {formatAge(entry.atMs, nowMs)}
              {entry.sinceMs ? `, since ${formatAge(entry.sinceMs, nowMs)}` : ''}
              {entry.discounted ? <span className="badge">discounted: observer unhealthy</span> : null}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

function NodeFacts({ snapshot, id, nowMs }: { snapshot: ClusterSnapshot; id: string; nowMs: number }) {
  const node = snapshot.nodes.find((candidate) => candidate.id === id);
  const condition = snapshot.verdict.conditions?.find((entry) => entry.nodeId === id)?.condition ?? 'unknown';
  if (!node) return <p className="muted">{id} is no longer in the cluster.</p>;
  // Peers this agent named that are not members: evidence about this agent (a wrong peer list, or invented nodes).
  const unknown = snapshot.unknownPeers?.find((entry) => entry.observerId === id);
  const side = snapshot.verdict.components.findIndex((component) => component.includes(id));
  return (
    <dl className="facts">
      <dt>Node</dt>
      <dd>{id}</dd>
      <dt>Condition</dt>
      <dd>{condition}</dd>
      <dt>Side</dt>
      <dd>{side < 0 ? 'none (unknown)' : `${side + 1} of ${snapshot.verdict.components.length}${side === snapshot.verdict.majorityIndex ? ' (majority)' : ''}`}</dd>
      <dt>Address</dt>
      <dd>{node.address ?? 'never said hello'}</dd>
      <dt>Control link</dt>
      <dd>{node.connected ? 'connected' : 'disconnected'}</dd>
      <dt>Last report</dt>
      <dd>{node.lastReportAtMs ? formatAge(node.lastReportAtMs, nowMs) : 'never'}</dd>
      <dt>Injected faults</dt>
      <dd>{node.faults.length === 0 ? 'none' : node.faults.map((rule) => `${rule.peerId}${rule.dropInbound ? ' in' : ''}${rule.dropOutbound ? ' out' : ''}`).join(', ')}</dd>
      {unknown ? (
        <>
          <dt>Names unknown peers</dt>
          <dd data-testid="unknown-peers">
            {unknown.peerIds.join(', ')} ({unknown.count} mentions, latest {formatAge(unknown.lastAtMs, nowMs)}): not members of this cluster, so not nodes
          </dd>
        </>
      ) : null}
    </dl>
  );
}

function LinkFacts({ snapshot, a, b }: { snapshot: ClusterSnapshot; a: string; b: string }) {
  const link = snapshot.links.find((candidate) => pairKey(candidate.a, candidate.b) === pairKey(a, b));
  return (
    <dl className="facts">
      <dt>Link</dt>
      <dd>
        {a} ↔ {b}
      </dd>
      <dt>State</dt>
      <dd>{link?.state ?? 'up'}</dd>
      {link?.workingDirection ? (
        <>
          <dt>Works only</dt>
          <dd>
            {link.workingDirection.from} → {link.workingDirection.to}
          </dd>
        </>
      ) : null}
    </dl>
  );
}
