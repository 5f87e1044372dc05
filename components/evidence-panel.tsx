'use client';
/** What is known about the selected node or link, and the claims behind it (the verdict's evidence chain). */
import type { EvidenceEntry, UntrustedTraffic } from '../core/classify-partition';
import type { ClusterSnapshot } from '../core/realtime-contract';
import type { TopologySelection } from './topology';
import { pairKey } from './topology-layout';
import { phiMax } from '../core/detectors/phi-accrual-detector';
import { formatAge } from './time';
import { ReportAge } from './report-age';

/** Evidence lines shown at most for one selection. */
const evidenceShownMax = 40;
/** Untrusted-traffic lines shown at most. */
const untrustedShownMax = 10;

export function EvidencePanel({ snapshot, selection, nowMs }: { snapshot: ClusterSnapshot; selection: TopologySelection; nowMs: number }) {
  const verdict = snapshot.verdict;
  const traffic = (verdict.untrustedTraffic ?? []).filter((group) =>
    !selection
      ? true
      : selection.kind === 'node'
        ? group.observerId === selection.id || group.linkPeerId === selection.id
        : group.linkPeerId !== null && pairKey(group.observerId, group.linkPeerId) === pairKey(selection.a, selection.b),
  );
  if (!selection) {
    return (
      <>
        <p className="muted">Click a node or a link (or focus it and press Enter) to see its evidence.</p>
        <UntrustedTrafficList traffic={traffic} nowMs={nowMs} />
      </>
    );
  }
  const evidence = (verdict.evidence ?? []).filter((entry) =>
    selection.kind === 'node'
      ? entry.observerId === selection.id || entry.subjectId === selection.id
      : entry.subjectId !== null && pairKey(entry.observerId, entry.subjectId) === pairKey(selection.a, selection.b),
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
              <EntryText entry={entry} />, {formatAge(entry.atMs, nowMs)}
              {entry.sinceMs ? `, since ${formatAge(entry.sinceMs, nowMs)}` : ''}
              {entry.discounted ? <span className="badge">discounted: observer unhealthy</span> : null}
            </li>
          ))}
        </ul>
      )}
      <UntrustedTrafficList traffic={traffic} nowMs={nowMs} />
    </div>
  );
}

/** One claim of the chain in words; untrusted traffic is said to accuse nobody, because it cannot. */
function EntryText({ entry }: { entry: EvidenceEntry }) {
  if (entry.claim.startsWith('untrusted:')) {
    const origin = entry.subjectId ? `on the link from ${entry.subjectId}` : `from ${entry.source ?? 'an unknown address'}`;
    return (
      <>
        <strong>{entry.observerId}</strong> received {entry.suspicion} datagram(s) failing integrity ({entry.claim.slice('untrusted:'.length)}) {origin}; they accuse no node
      </>
    );
  }
  if (entry.claim.startsWith('byzantine')) {
    return (
      <>
        <strong>{entry.observerId}</strong> says <strong>{entry.subjectId}</strong> is {entry.claim} ({entry.suspicion} contradictory signed datagrams)
      </>
    );
  }
  return (
    <>
      <strong>{entry.observerId}</strong> says <strong>{entry.subjectId}</strong> is {entry.claim} (<PhiValue value={entry.suspicion} />)
    </>
  );
}

/** What φ means, said where it is shown. */
export const phiExplanation =
  'φ (phi) is the failure detector\'s suspicion: −log10 of the chance that a heartbeat this late would still arrive (φ 1 ≈ 10 %, φ 3 ≈ 0.1 %). ' +
  `The observer calls the peer unreachable above its threshold (8 alone, lower with indirect probes); values are capped at ${phiMax}, shown as ≥ ${phiMax}: long gone. ` +
  'With the fixed rule (no phi), the number is the count of missed heartbeat intervals.';

/** A suspicion value with its meaning on hover; the cap is shown as "≥ cap", not as an exact value. */
export function PhiValue({ value }: { value: number }) {
  const capped = value >= phiMax;
  return (
    <abbr title={phiExplanation} data-testid="phi-value" style={{ textDecoration: 'underline dotted', cursor: 'help' }}>
      suspicion φ {capped ? `≥ ${phiMax}` : value.toFixed(1)}
      {capped ? ' (no heartbeat for a long time)' : ''}
    </abbr>
  );
}

/** Links and addresses whose datagrams fail integrity: a network problem or an attacker, not a verdict about any node. */
function UntrustedTrafficList({ traffic, nowMs }: { traffic: readonly UntrustedTraffic[]; nowMs: number }) {
  if (traffic.length === 0) return null;
  return (
    <div data-testid="untrusted-traffic">
      <h3 style={{ fontSize: '0.9rem', margin: '0.75rem 0 0.25rem' }}>Untrusted traffic (not a partition, accuses no node)</h3>
      <ul>
        {traffic.slice(0, untrustedShownMax).map((group) => (
          <li key={`${group.observerId}|${group.source ?? ''}|${group.linkPeerId ?? ''}`}>
            <strong>{group.observerId}</strong>: {group.count} datagram(s) failing integrity ({group.kinds.join(', ')})
            {group.linkPeerId ? ` on the link from ${group.linkPeerId}` : ''}
            {group.source ? ` from ${group.source}` : ''}
            {group.namedIds.length > 0 ? `, naming ${group.namedIds.join(', ')}` : ''}, {formatAge(group.lastAtMs, nowMs)}
          </li>
        ))}
      </ul>
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
      <dd>
        <ReportAge atMs={node.lastReportAtMs} nowMs={nowMs} staleAfterMs={snapshot.staleAfterMs} stale={node.stale} />
      </dd>
      <dt>Injected faults</dt>
      <dd>{node.faults.length === 0 ? 'none' : node.faults.map((rule) => `${rule.peerId}${rule.dropInbound ? ' in' : ''}${rule.dropOutbound ? ' out' : ''}`).join(', ')}</dd>
      <StoreFacts dataPlane={node.dataPlane} />
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

/** The node's data store: which one, its role, its fence, its replication lag and key count, and its last error. */
function StoreFacts({ dataPlane }: { dataPlane: ClusterSnapshot['nodes'][number]['dataPlane'] }) {
  if (!dataPlane) return null;
  const store = dataPlane.store;
  return (
    <>
      <dt>Store</dt>
      <dd data-testid="node-store">{store ? `${store.kind} at ${store.endpoint}, ${store.role}` : 'reference'}</dd>
      <dt>Fence</dt>
      <dd data-testid="node-fence">{dataPlane.fence ? `${dataPlane.fence.mode} (writes refused: ${dataPlane.writesRefused})` : 'none'}</dd>
      <dt>Data</dt>
      <dd>
        {dataPlane.keyCount} keys, {dataPlane.writesAccepted} writes accepted
        {store?.lagBytes !== null && store?.lagBytes !== undefined ? `, replicas ${store.lagBytes} bytes behind` : ''}
      </dd>
      {store?.error ? (
        <>
          <dt>Store error</dt>
          <dd data-testid="node-store-error" className="down">{store.error}</dd>
        </>
      ) : null}
    </>
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
