// Proves the classifier on hand-built directed matrices: each partition kind is named
// with its sides, cut links, one-way directions, bridges, rings; crashed-or-isolated is
// told from isolated and from a control-plane cut; byzantine nodes from links;
// discounted observers are not believed; and (property) the verdict's invariants hold
// on random matrices.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { type ClassifyOptions, classifyPartition } from './classify-partition';
import { type ReachabilityMatrix, createMatrix } from './reachability';

const nowMs = 10_000;
const options: ClassifyOptions = { nowMs, staleAfterMs: 1_000 };

/** Builds a matrix where `hears(from, to)` says whether `from` hears `to`; `silent` nodes send no reports. */
function matrixOf(nodes: string[], hears: (from: string, to: string) => boolean, silent: string[] = []): ReachabilityMatrix {
  const matrix = createMatrix(nodes);
  for (const from of nodes) {
    if (silent.includes(from)) continue;
    matrix.cells.set(from, new Map(nodes.filter((to) => to !== from).map((to) => [to, { reachable: hears(from, to), reportedAtMs: nowMs - 100, sinceMs: 0, suspicion: 0 }])));
  }
  return matrix;
}

const five = ['n1', 'n2', 'n3', 'n4', 'n5'];
const groupOf = (groups: string[][]) => (node: string) => groups.findIndex((group) => group.includes(node));

test('classification table', () => {
  const ringIndex = (node: string) => five.indexOf(node);
  const cases: Array<{ name: string; matrix: ReachabilityMatrix; check: (verdict: ReturnType<typeof classifyPartition>) => void }> = [
    {
      name: 'whole',
      matrix: matrixOf(five, () => true),
      check: (v) => assert.deepEqual([v.partitioned, v.type, v.components.length, v.cutLinks.length], [false, null, 1, 0]),
    },
    {
      name: 'isolate one (alive, still reporting)',
      matrix: matrixOf(five, (a, b) => a !== 'n1' && b !== 'n1'),
      check: (v) => {
        assert.equal(v.type, 'complete');
        assert.deepEqual(v.components, [['n2', 'n3', 'n4', 'n5'], ['n1']]);
        assert.equal(v.majorityIndex, 0);
        assert.deepEqual(v.isolatedNodes, ['n1']);
      },
    },
    {
      name: 'split halves without majority',
      matrix: matrixOf(['a', 'b', 'c', 'd'], (x, y) => groupOf([['a', 'b'], ['c', 'd']])(x) === groupOf([['a', 'b'], ['c', 'd']])(y)),
      check: (v) => assert.deepEqual([v.type, v.components.length, v.majorityIndex], ['complete', 2, null]),
    },
    {
      name: 'bridge',
      matrix: matrixOf(five, (a, b) => {
        const side = groupOf([['n1', 'n2'], ['n4', 'n5']]);
        return side(a) === -1 || side(b) === -1 || side(a) === side(b);
      }),
      check: (v) => {
        assert.equal(v.type, 'partial');
        assert.deepEqual(v.bridgeNodes, ['n3']);
        assert.equal(v.cutLinks.length, 4);
        assert.equal(v.overlappingMajorities, false);
      },
    },
    {
      name: 'majorities ring',
      matrix: matrixOf(five, (a, b) => {
        const distance = Math.abs(ringIndex(a) - ringIndex(b));
        return Math.min(distance, 5 - distance) <= 1;
      }),
      check: (v) => assert.deepEqual([v.type, v.overlappingMajorities, v.components.length], ['partial', true, 1]),
    },
    {
      name: 'one-way n1 → n2 lost',
      matrix: matrixOf(five, (a, b) => !(a === 'n2' && b === 'n1')),
      check: (v) => {
        assert.equal(v.type, 'asymmetric');
        assert.deepEqual(v.oneWayLinks, [{ from: 'n1', to: 'n2' }]);
      },
    },
    {
      name: 'crashed or isolated: silent and lost by all',
      matrix: matrixOf(five, (a, b) => b !== 'n1', ['n1']),
      check: (v) => {
        assert.equal(v.type, 'complete');
        assert.deepEqual(v.silentNodes, ['n1']);
        assert.deepEqual(v.staleNodes, ['n1']);
      },
    },
    {
      name: 'control-plane cut: silent to the server, heard by peers',
      matrix: matrixOf(five, () => true, ['n1']),
      check: (v) => {
        assert.equal(v.partitioned, false);
        assert.deepEqual(v.controlPlaneCutNodes, ['n1']);
      },
    },
    {
      name: 'never reported and nobody knows: unknown, not a partition',
      matrix: (() => {
        const m = matrixOf(five, () => true);
        m.nodes.push('n6');
        return m;
      })(),
      check: (v) => assert.deepEqual([v.partitioned, v.unknownNodes], [false, ['n6']]),
    },
  ];
  for (const { name, matrix, check } of cases) {
    try {
      check(classifyPartition(matrix, options));
    } catch (error) {
      (error as Error).message = `${name}: ${(error as Error).message}`;
      throw error;
    }
  }
});

test('stale cells are not evidence', () => {
  const matrix = matrixOf(five, (a, b) => a !== 'n1' && b !== 'n1');
  assert.equal(classifyPartition(matrix, { nowMs: nowMs + 5_000, staleAfterMs: 1_000 }).partitioned, false);
});

test('byzantine: several accusers name a node; one accuser names a link', () => {
  const matrix = matrixOf(five, () => true);
  const evidence = [
    { observerId: 'n2', peerId: 'n1', kind: 'bad-signature' as const, count: 5, lastAtMs: nowMs - 10 },
    { observerId: 'n3', peerId: 'n1', kind: 'replay' as const, count: 2, lastAtMs: nowMs - 10 },
    { observerId: 'n4', peerId: 'n5', kind: 'forged-sender' as const, count: 9, lastAtMs: nowMs - 10 },
    { observerId: 'n4', peerId: 'n3', kind: 'malformed' as const, count: 1, lastAtMs: nowMs - 10 },
    { observerId: 'n5', peerId: 'n2', kind: 'bad-signature' as const, count: 50, lastAtMs: nowMs - 60_000 },
  ];
  const verdict = classifyPartition(matrix, { ...options, evidence });
  assert.equal(verdict.type, 'byzantine');
  assert.deepEqual(verdict.byzantine.nodes, ['n1']);
  assert.deepEqual(verdict.byzantine.links.map((link) => `${link.from}>${link.to}`), ['n1>n2', 'n1>n3', 'n5>n4']);
  assert.ok(verdict.evidence.some((entry) => entry.claim === 'byzantine:forged-sender' && entry.observerId === 'n4'));
});

test('a discounted observer is not believed when it says it hears nobody', () => {
  const matrix = matrixOf(five, (a) => a !== 'n1');
  const observerHealth = new Map([['n1', { score: 4, discounted: true, lastReason: 'mass-loss' as const, missedDeadlines: 0 }]]);
  const trusting = classifyPartition(matrix, options);
  assert.equal(trusting.type, 'asymmetric');
  const discounting = classifyPartition(matrix, { ...options, observerHealth });
  assert.equal(discounting.partitioned, false);
  assert.deepEqual(discounting.discountedObservers, ['n1']);
});

test('evidence chain names observers and is bounded', () => {
  const matrix = matrixOf(five, (a, b) => a !== 'n1' && b !== 'n1');
  const verdict = classifyPartition(matrix, { ...options, evidenceEntriesMax: 3 });
  assert.equal(verdict.evidence.length, 3);
  assert.equal(verdict.evidenceOmitted, 8 - 3);
  assert.deepEqual(verdict.evidence[0], {
    observerId: 'n1', subjectId: 'n2', claim: 'unreachable', atMs: nowMs - 100, sinceMs: 0, suspicion: 0, observerHealthScore: null, discounted: false,
  });
});

test('invariants hold on random matrices', () => {
  const nodes = ['a', 'b', 'c', 'd', 'e', 'f'];
  fc.assert(
    fc.property(fc.array(fc.boolean(), { minLength: 36, maxLength: 36 }), fc.subarray(nodes, { maxLength: 3 }), (bits, silent) => {
      const verdict = classifyPartition(matrixOf(nodes, (x, y) => bits[nodes.indexOf(x) * 6 + nodes.indexOf(y)]!, silent), options);
      assert.equal(verdict.partitioned, verdict.type !== null);
      const members = verdict.components.flat().sort();
      assert.deepEqual(members, nodes.filter((node) => !verdict.unknownNodes.includes(node)).sort());
      if (verdict.majorityIndex !== null) assert.ok(verdict.components[verdict.majorityIndex]!.length * 2 > nodes.length);
      if (verdict.components.length > 1) assert.equal(verdict.type, 'complete');
      for (const link of verdict.cutLinks) assert.ok(link.state === 'down' || link.state === 'one-way');
      assert.equal(verdict.conditions.length, nodes.length);
    }),
  );
});
