/**
 * What the simulator's fast path leaves out must be read by no verdict. It keeps no
 * link-quality figures, so its reports carry no `transitMs` nor `lossRatio` and the
 * fold's cells have none (sim/cluster-sim.ts): that is only sound while the classifier
 * never looks at them. This holds the classifier to it: the same matrix with those
 * figures, with other ones, and without them gives the same verdict. (That the fast
 * path publishes what the reference path does, corrupted and duplicated datagrams
 * included, is sim/timeline-digest.test.ts.)
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { classifyPartition } from '../core/classify-partition';
import { type ReachabilityCell, type ReachabilityMatrix, createMatrix } from '../core/reachability';

const nodes = ['n1', 'n2', 'n3', 'n4', 'n5'];
const nowMs = 10_000;

/** n5 isolated (everyone cut from it, it from everyone), n2's datagrams slow at n1; every cell carries `figures(from, to)`. */
function matrix(figures: (from: string, to: string) => Partial<ReachabilityCell>): ReachabilityMatrix {
  const built = createMatrix(nodes);
  for (const from of nodes) {
    const row = new Map<string, ReachabilityCell>();
    for (const to of nodes) {
      if (to === from) continue;
      const cut = from === 'n5' || to === 'n5';
      row.set(to, {
        reachable: !cut,
        reportedAtMs: nowMs - 100,
        sinceMs: cut ? 6000 : 0,
        suspicion: cut ? 12.5 : 0.2,
        heardAtMs: cut ? 5000 : nowMs - 200,
        ...(from === 'n1' && to === 'n2' && { delayMs: 400 }),
        ...figures(from, to),
      });
    }
    built.cells.set(from, row);
  }
  return built;
}

const classify = (built: ReachabilityMatrix) => classifyPartition(built, { nowMs, staleAfterMs: 850, overdueAfterMs: 425 });

test('the classifier reads neither transitMs nor lossRatio: the fast path may leave them out', () => {
  const without = classify(matrix(() => ({})));
  assert.equal(without.partitioned, true, 'the matrix must say something for equal verdicts to mean anything');
  assert.ok(without.slowLinks.length > 0, 'the slow link is seen');
  const measured = classify(matrix((from, to) => ({ transitMs: from === 'n5' || to === 'n5' ? null : 3.5, lossRatio: from === 'n5' || to === 'n5' ? 1 : 0.01 })));
  const opposite = classify(matrix(() => ({ transitMs: 90_000, lossRatio: 0 })));
  assert.deepEqual(measured, without);
  assert.deepEqual(opposite, without);
});
