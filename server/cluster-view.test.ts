/**
 * Proves how the server's cluster view takes reports: a report replayed from an
 * outbox after a cut (old for this agent, whatever its clock skew) is history and
 * does not pass for the present view; an out-of-order older report never undoes a
 * newer one; a new incarnation starts afresh. And how it keeps evidence: the kind
 * decides whether it may accuse (an agent naming a node with a bad signature or a
 * replay accuses nobody), and untrusted evidence has its own budget, so a flood of it
 * cannot evict a contradiction. Peers that are not members of the cluster never
 * become nodes nor take part in a verdict: they are kept, bounded, as evidence about
 * the agent that named them.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AgentReport } from '../core/protocol';
import { ClusterState, clusterNodesMax, clusterUntrustedEvidenceMax, unknownPeerNamesMax } from './cluster-view';

function report(sequence: number, sentAtMs: number, reachable: boolean, incarnation = 1): AgentReport {
  return {
    clusterId: 'c',
    agentId: 'a',
    incarnation,
    sequence,
    sentAtMs,
    heartbeatIntervalMs: 100,
    observations: [{ peerId: 'b', reachable, lastHeardAtMs: null, sinceMs: 0, suspicion: 0 }],
    evidence: [],
  };
}

const isMember = (nodeId: string) => nodeId === 'a' || nodeId === 'b';

const heardB = (cluster: ClusterState) => cluster.matrix.cells.get('a')?.get('b')?.reachable;

describe('ClusterState.applyReport', () => {
  const skewMs = -60_000; // the agent's clock runs a minute behind the server's
  const staleAfterMs = 3000;

  it('applies fresh reports from a skewed agent', () => {
    const cluster = new ClusterState('c', 'c', false, isMember);
    assert.equal(cluster.applyReport(report(1, 10_000 + skewMs, true), 10_010, staleAfterMs), true);
    assert.equal(cluster.applyReport(report(2, 11_000 + skewMs, false), 11_020, staleAfterMs), true);
    assert.equal(heardB(cluster), false);
  });

  it('keeps a replayed (old) report out of the present view', () => {
    const cluster = new ClusterState('c', 'c', false, isMember);
    cluster.applyReport(report(1, 10_000 + skewMs, true), 10_010, staleAfterMs);
    // The cut: reports 2..n waited in the outbox and arrive 30 s late, in order.
    assert.equal(cluster.applyReport(report(2, 11_000 + skewMs, false), 41_000, staleAfterMs), false);
    assert.equal(heardB(cluster), true, 'the replayed past did not overwrite the view');
    assert.equal(cluster.applyReport(report(40, 41_000 + skewMs, true), 41_010, staleAfterMs), true);
  });

  it('never lets an older report undo a newer one, until a new incarnation', () => {
    const cluster = new ClusterState('c', 'c', false, isMember);
    cluster.applyReport(report(2, 20_000, false), 20_005, staleAfterMs);
    assert.equal(cluster.applyReport(report(1, 19_000, true), 20_006, staleAfterMs), false);
    assert.equal(heardB(cluster), false);
    assert.equal(cluster.applyReport(report(1, 19_500, true, 2), 20_007, staleAfterMs), true, 'a restarted agent starts afresh');
    assert.equal(heardB(cluster), true);
  });
});

describe('ClusterState evidence', () => {
  const nodes = ['n1', 'n2', 'n3', 'n4'];
  /** A report of `agentId` hearing every other node, carrying `evidence`. */
  const reportOf = (agentId: string, sequence: number, evidence: AgentReport['evidence']): AgentReport => ({
    clusterId: 'c',
    agentId,
    incarnation: 1,
    sequence,
    sentAtMs: 1_000 + sequence,
    heartbeatIntervalMs: 100,
    observations: nodes.filter((peer) => peer !== agentId).map((peerId) => ({ peerId, reachable: true, lastHeardAtMs: 1_000, sinceMs: 0, suspicion: 0 })),
    evidence,
  });

  it('decides from the kind: agents naming a node with untrusted kinds accuse nobody', () => {
    const cluster = new ClusterState('c', 'c', false, (nodeId) => nodes.includes(nodeId));
    ['n1', 'n3', 'n4'].forEach((agentId, index) => {
      // What an older agent sends: the named node in peerId, no source.
      cluster.applyReport(reportOf(agentId, index + 1, [{ peerId: 'n2', kind: 'bad-signature', count: 6, lastAtMs: 1 }, { peerId: 'n2', kind: 'replay', count: 6, lastAtMs: 1 }]), 2_000);
    });
    const verdict = cluster.classify(2_100, 5_000);
    assert.equal(verdict.partitioned, false);
    assert.deepEqual(verdict.byzantine, { nodes: [], links: [] });
    assert.deepEqual(verdict.untrustedTraffic.map((group) => `${group.observerId}:${group.namedIds.join(',')}:${group.count}`), ['n1:n2:12', 'n3:n2:12', 'n4:n2:12']);
  });

  it('keeps contradictions apart from untrusted evidence, so a flood of the latter cannot evict them', () => {
    const cluster = new ClusterState('c', 'c', false, (nodeId) => nodes.includes(nodeId));
    cluster.applyReport(reportOf('n1', 1, [{ peerId: 'n2', kind: 'contradiction', count: 2, lastAtMs: 1 }]), 2_000);
    cluster.applyReport(reportOf('n3', 1, [{ peerId: 'n2', kind: 'contradiction', count: 2, lastAtMs: 1 }]), 2_000);
    const flood = Array.from({ length: 200 }, (_, index) => ({ kind: 'malformed' as const, source: `198.51.100.9:${index}`, count: 1, lastAtMs: 1 }));
    for (let sequence = 2; sequence < 2 + Math.ceil(clusterUntrustedEvidenceMax / flood.length) + 2; sequence += 1) {
      for (const agentId of ['n1', 'n3', 'n4']) cluster.applyReport(reportOf(agentId, sequence, flood), 2_000 + sequence);
    }
    assert.equal(cluster.untrustedEvidence.length, clusterUntrustedEvidenceMax);
    const verdict = cluster.classify(2_100, 5_000);
    assert.equal(verdict.type, 'byzantine');
    assert.deepEqual(verdict.byzantine.nodes, ['n2'], 'the contradictions survived the flood');
  });
});

describe('ClusterState and peers that are not members', () => {
  const invented = Array.from({ length: 50 }, (_, index) => `ghost-${index}`);
  const lying = (sequence: number, peers: string[]): AgentReport => ({
    ...report(sequence, 10_000 + sequence * 100, false),
    observations: peers.map((peerId) => ({ peerId, reachable: false, lastHeardAtMs: null, sinceMs: 0, suspicion: 0 })),
  });

  it('keeps 50 invented peers out of the nodes, the matrix and the verdict, as bounded evidence about the reporter', () => {
    const cluster = new ClusterState('c', 'c', false, isMember);
    assert.equal(cluster.applyReport(lying(1, ['b', ...invented]), 10_110), true);
    assert.equal(cluster.applyReport(lying(2, invented), 10_210), true);
    assert.deepEqual([...cluster.nodes.keys()].sort(), ['a', 'b']);
    assert.deepEqual(cluster.matrix.nodes, ['a', 'b']);
    const verdict = cluster.classify(10_250, 3000);
    assert.ok(!verdict.staleNodes.some((node) => node.startsWith('ghost-')));
    const snapshot = cluster.snapshot(10_250, 3000);
    assert.deepEqual(snapshot.nodes.map((node) => node.id), ['a', 'b']);
    assert.equal(snapshot.unknownPeers.length, 1);
    const [evidence] = snapshot.unknownPeers;
    assert.equal(evidence!.observerId, 'a');
    assert.equal(evidence!.count, 100, 'every mention counted');
    assert.equal(evidence!.peerIds.length, unknownPeerNamesMax, 'names kept are bounded');
    assert.deepEqual([evidence!.firstAtMs, evidence!.lastAtMs], [10_110, 10_210]);
    assert.equal(cluster.takeNewUnknownPeers().length, unknownPeerNamesMax, 'each kept name is logged once');
    assert.equal(cluster.takeNewUnknownPeers().length, 0);
  });

  it('keeps unknown peers of a hello out of the nodes too', () => {
    const cluster = new ClusterState('c', 'c', false, isMember);
    cluster.applyHello({ clusterId: 'c', agentId: 'a', address: '127.0.0.1:1', incarnation: 1, peers: ['b', 'ghost-1'] }, 5000);
    assert.deepEqual([...cluster.nodes.keys()].sort(), ['a', 'b']);
    assert.deepEqual(cluster.unknownPeers.get('a')?.peerIds, ['ghost-1']);
  });

  it('cannot be pushed past its node limit by invented names', () => {
    const cluster = new ClusterState('c', 'c', false, isMember);
    const many = Array.from({ length: clusterNodesMax + 10 }, (_, index) => `ghost-${index}`);
    assert.doesNotThrow(() => cluster.applyReport(lying(1, many), 10_110));
    assert.equal(cluster.nodes.size, 1);
  });
});
