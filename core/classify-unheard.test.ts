/**
 * Proves rule 5 of the classifier, "unknown is not down (nor up)": where agents
 * heartbeat a bounded set of peers, a "reachable" cell whose observer has not heard
 * the peer lately is unknown. A node isolated in a 1,000-node cluster whose observers
 * each heard only 32 peers lately is named "complete 999 + 1, isolated", where the
 * old reading (the same matrix without last-heard times) gave a partial partition of
 * all 1,000 nodes; unheard claims never make a cut link nor split a cluster whose
 * recent hearings connect it; and `setRow` dates a last hearing on the server's clock
 * whatever the agent's clock skew.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classifyPartition } from './classify-partition';
import { createMatrix, setRow } from './reachability';

const nodeCount = 1000;
/** Peers each observer heard within the last interval (round-robin: 32 per interval). */
const heardLately = 32;
const nowMs = 100_000;
const staleAfterMs = 850;
const ids = Array.from({ length: nodeCount }, (_, index) => `n${index + 1}`);

/**
 * Every observer reports every peer. Observer i heard peers i+1..i+32 (mod N) lately and
 * the rest a round ago; `isolated` heard nobody since the cut: it has lost the 32 peers
 * that heard it last (they lost it too) and, its round not yet over, still calls every
 * other peer reachable.
 */
function boundedMatrix(isolated: string | null, withHeardTimes: boolean) {
  const matrix = createMatrix(ids);
  ids.forEach((observer, index) => {
    const entries = ids
      .filter((peer) => peer !== observer)
      .map((peer) => {
        const distance = (ids.indexOf(peer) - index + nodeCount) % nodeCount;
        const recent = distance >= 1 && distance <= heardLately && observer !== isolated && peer !== isolated;
        const lostIsolated = peer === isolated && distance >= 1 && distance <= heardLately;
        const lostByIsolated = observer === isolated && distance >= nodeCount - heardLately;
        const lastHeardAtMs = recent ? nowMs - 100 : nowMs - 6000;
        return { peerId: peer, reachable: !lostIsolated && !lostByIsolated, sinceMs: 0, suspicion: 0, ...(withHeardTimes && { lastHeardAtMs }) };
      });
    setRow(matrix, observer, entries, nowMs - 50, withHeardTimes ? nowMs - 50 : undefined);
  });
  return matrix;
}

describe('unknown is not down: bounded probing at 1,000 nodes', () => {
  it('names one isolated node as complete 999 + 1, isolated', () => {
    const verdict = classifyPartition(boundedMatrix('n17', true), { nowMs, staleAfterMs });
    assert.equal(verdict.type, 'complete');
    assert.deepEqual(verdict.components.map((side) => side.length), [999, 1]);
    assert.deepEqual(verdict.components[1], ['n17']);
    assert.deepEqual(verdict.isolatedNodes, ['n17']);
    assert.equal(verdict.majorityIndex, 0);
    assert.ok(verdict.cutLinks.every((link) => link.a === 'n17' || link.b === 'n17'), 'only the isolated node\'s links are cut');
    assert.match(verdict.summary, /^complete partition into 999\+1 nodes; isolated: n17/);
  });

  it('without last-heard times the same claims read as before: one partial component of 1000', () => {
    const verdict = classifyPartition(boundedMatrix('n17', false), { nowMs, staleAfterMs });
    assert.equal(verdict.type, 'partial');
    assert.deepEqual(verdict.components.map((side) => side.length), [1000]);
  });

  it('a whole cluster whose recent hearings connect it stays whole, with no cut link', () => {
    const verdict = classifyPartition(boundedMatrix(null, true), { nowMs, staleAfterMs });
    assert.equal(verdict.type, null);
    assert.equal(verdict.cutLinks.length, 0);
    assert.deepEqual(verdict.components.map((side) => side.length), [1000]);
  });

  it('an unheard claim is never a cut: a pair whose claims are old or never-heard is not down', () => {
    const matrix = createMatrix(['a', 'b', 'c']);
    // a and b heard c lately and c heard both; a last heard b long ago, b never heard a (read as before: reachable).
    setRow(matrix, 'a', [{ peerId: 'b', reachable: true, sinceMs: 0, suspicion: 0, lastHeardAtMs: nowMs - 9000 }, { peerId: 'c', reachable: true, sinceMs: 0, suspicion: 0, lastHeardAtMs: nowMs - 10 }], nowMs, nowMs);
    setRow(matrix, 'b', [{ peerId: 'a', reachable: true, sinceMs: 0, suspicion: 0, lastHeardAtMs: null }, { peerId: 'c', reachable: true, sinceMs: 0, suspicion: 0, lastHeardAtMs: nowMs - 10 }], nowMs, nowMs);
    setRow(matrix, 'c', [{ peerId: 'a', reachable: true, sinceMs: 0, suspicion: 0, lastHeardAtMs: nowMs - 10 }, { peerId: 'b', reachable: true, sinceMs: 0, suspicion: 0, lastHeardAtMs: nowMs - 10 }], nowMs, nowMs);
    const verdict = classifyPartition(matrix, { nowMs, staleAfterMs });
    assert.equal(verdict.type, null);
    assert.deepEqual(verdict.cutLinks, []);
    assert.deepEqual(verdict.conditions.map((entry) => entry.condition), ['healthy', 'healthy', 'healthy']);
  });
});

describe('setRow dates last hearings on the server clock', () => {
  it('subtracts the age on the agent clock from the receive time, so skew cancels out', () => {
    const matrix = createMatrix(['a', 'b', 'c']);
    // The agent's clock runs 60 s ahead: it heard b 200 ms before sending, never heard c.
    const agentSentAtMs = nowMs + 60_000;
    setRow(matrix, 'a', [
      { peerId: 'b', reachable: true, sinceMs: 0, suspicion: 0, lastHeardAtMs: agentSentAtMs - 200 },
      { peerId: 'c', reachable: true, sinceMs: 0, suspicion: 0, lastHeardAtMs: null },
    ], nowMs, agentSentAtMs);
    assert.equal(matrix.cells.get('a')!.get('b')!.heardAtMs, nowMs - 200);
    assert.equal(matrix.cells.get('a')!.get('c')!.heardAtMs, null);
    // Written again without a send time (a hand-built row), the cell no longer claims a hearing time.
    setRow(matrix, 'a', [{ peerId: 'b', reachable: true, sinceMs: 0, suspicion: 0 }], nowMs + 10);
    assert.equal(matrix.cells.get('a')!.get('b')!.heardAtMs, undefined);
  });
});

describe('unknown says nothing of the observer either', () => {
  it('a whole cluster whose rows are about to go stale is not read as deaf nodes', () => {
    // Four nodes cut from the server together: their last reports (sent 40 ms after
    // they last heard each other) age towards stale. For the last 40 ms before a row goes
    // stale its claims are unheard, so unknown; that must not make its observer "hear
    // nobody" (which reads as a one-way partition towards it). Seen as a transient
    // partitioned verdict in test/faults/server-cut.test.ts under load.
    const four = ['a', 'b', 'c', 'd'];
    const matrix = createMatrix(four);
    const reportedAtMs = 10_000;
    for (const observer of four) {
      const entries = four.filter((peer) => peer !== observer).map((peerId) => ({ peerId, reachable: true, sinceMs: 0, suspicion: 0, lastHeardAtMs: reportedAtMs - 40 }));
      setRow(matrix, observer, entries, reportedAtMs, reportedAtMs);
    }
    const atEdge = reportedAtMs + staleAfterMs - 10;
    const verdict = classifyPartition(matrix, { nowMs: atEdge, staleAfterMs });
    assert.equal(verdict.partitioned, false, verdict.summary);
  });
});
