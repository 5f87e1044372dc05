/**
 * Proves how the server's cluster view takes reports: a report replayed from an
 * outbox after a cut (old for this agent, whatever its clock skew) is history and
 * does not pass for the present view; an out-of-order older report never undoes a
 * newer one; a new incarnation starts afresh.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AgentReport } from '../core/protocol';
import { ClusterState } from './cluster-view';

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

const heardB = (cluster: ClusterState) => cluster.matrix.cells.get('a')?.get('b')?.reachable;

describe('ClusterState.applyReport', () => {
  const skewMs = -60_000; // the agent's clock runs a minute behind the server's
  const staleAfterMs = 3000;

  it('applies fresh reports from a skewed agent', () => {
    const cluster = new ClusterState('c', 'c', false);
    assert.equal(cluster.applyReport(report(1, 10_000 + skewMs, true), 10_010, staleAfterMs), true);
    assert.equal(cluster.applyReport(report(2, 11_000 + skewMs, false), 11_020, staleAfterMs), true);
    assert.equal(heardB(cluster), false);
  });

  it('keeps a replayed (old) report out of the present view', () => {
    const cluster = new ClusterState('c', 'c', false);
    cluster.applyReport(report(1, 10_000 + skewMs, true), 10_010, staleAfterMs);
    // The cut: reports 2..n waited in the outbox and arrive 30 s late, in order.
    assert.equal(cluster.applyReport(report(2, 11_000 + skewMs, false), 41_000, staleAfterMs), false);
    assert.equal(heardB(cluster), true, 'the replayed past did not overwrite the view');
    assert.equal(cluster.applyReport(report(40, 41_000 + skewMs, true), 41_010, staleAfterMs), true);
  });

  it('never lets an older report undo a newer one, until a new incarnation', () => {
    const cluster = new ClusterState('c', 'c', false);
    cluster.applyReport(report(2, 20_000, false), 20_005, staleAfterMs);
    assert.equal(cluster.applyReport(report(1, 19_000, true), 20_006, staleAfterMs), false);
    assert.equal(heardB(cluster), false);
    assert.equal(cluster.applyReport(report(1, 19_500, true, 2), 20_007, staleAfterMs), true, 'a restarted agent starts afresh');
    assert.equal(heardB(cluster), true);
  });
});
