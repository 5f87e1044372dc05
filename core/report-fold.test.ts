// Proves what the simulator reads from the report fold beyond the rules the server's
// tests cover (server/cluster-view.test.ts): `revision` moves exactly when something a
// verdict reads changed (a link flip, a new node, health discounted or not, evidence),
// not on a report that repeats the view; `peerLossCount` counts flips to unreachable.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AgentReport } from './protocol';
import { ReportFold, foldedNodeDefaults } from './report-fold';

const report = (sequence: number, reachable: boolean, extra: Partial<AgentReport> = {}): AgentReport => ({
  clusterId: 'c',
  agentId: 'a',
  incarnation: 1,
  sequence,
  sentAtMs: sequence * 100,
  heartbeatIntervalMs: 100,
  observations: [{ peerId: 'b', reachable, lastHeardAtMs: null, sinceMs: 0, suspicion: 0 }],
  evidence: [],
  ...extra,
});

test('revision moves with what a verdict reads, and only then', () => {
  const fold = new ReportFold(() => true, foldedNodeDefaults, 'c');
  const steps: Array<[string, AgentReport, boolean]> = [
    ['first word: nodes and a cell appear', report(1, true), true],
    ['the same view again', report(2, true), false],
    ['b lost', report(3, false), true],
    ['still lost', report(4, false), false],
    ['a discounts itself', report(5, false, { health: { score: 1, discounted: true, lastReason: 'mass-loss', missedDeadlines: 0 } }), true],
    ['still discounted (the score alone is no news)', report(6, false, { health: { score: 2, discounted: true, lastReason: 'mass-loss', missedDeadlines: 0 } }), false],
    ['evidence', report(7, false, { health: { score: 2, discounted: true, lastReason: 'mass-loss', missedDeadlines: 0 }, evidence: [{ kind: 'malformed', source: '198.51.100.7:1', count: 1, lastAtMs: 700 }] }), true],
    ['an older report, ignored', report(3, true), false],
  ];
  for (const [name, item, moves] of steps) {
    const before = fold.revision;
    fold.applyReport(item, item.sentAtMs + 5, 1000);
    assert.equal(fold.revision !== before, moves, name);
  }
  assert.equal(fold.peerLossCount, 1);
});
