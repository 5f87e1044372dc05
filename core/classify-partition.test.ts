// Proves the classifier on hand-built directed matrices: each partition kind is named
// with its sides, cut links, one-way directions, bridges, rings; crashed-or-isolated is
// told from isolated and from a control-plane cut; byzantine nodes from links, and
// only from signed contradictions: bad signatures, replays, malformed and re-sent
// datagrams are untrusted traffic that never changes a decision (table and property);
// discounted observers are not believed; and (property) the verdict's invariants hold
// on random matrices.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { type ClassifyOptions, type ObservedEvidence, type PartitionVerdict, classifyPartition, untrustedTrafficMax } from './classify-partition';
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

type Item = ObservedEvidence;
const at = (ageMs = 10) => nowMs - ageMs;
const bad = (observerId: string, kind: Item['kind'], extra: Partial<Item> = {}): Item => ({ observerId, kind, count: 6, lastAtMs: at(), ...extra });

test('only signed contradictions accuse: the rule, case by case', () => {
  const whole = matrixOf(five, () => true);
  const others = ['n1', 'n3', 'n4', 'n5'];
  const cases: Array<{ name: string; evidence: Item[]; type: PartitionVerdict['type']; nodes: string[]; links: string[]; untrusted: number }> = [
    {
      name: 'bad signatures naming n2 from an unrelated port, at every observer',
      evidence: others.map((observer) => bad(observer, 'bad-signature', { peerId: 'n2', source: '198.51.100.99:40000' })),
      type: null, nodes: [], links: [], untrusted: 4,
    },
    {
      name: 'replays of n4 at every other node',
      evidence: ['n1', 'n2', 'n3', 'n5'].map((observer) => bad(observer, 'replay', { peerId: 'n4', source: '198.51.100.99:40001' })),
      type: null, nodes: [], links: [], untrusted: 4,
    },
    {
      name: 'an older (or hostile) agent naming n1 in peerId with untrusted kinds, no source',
      evidence: [bad('n2', 'bad-signature', { peerId: 'n1' }), bad('n3', 'replay', { peerId: 'n1' }), bad('n4', 'forged-sender', { peerId: 'n1' }), bad('n5', 'malformed', { peerId: 'n1' })],
      type: null, nodes: [], links: [], untrusted: 4,
    },
    {
      name: 'a corrupting link n1 → observers (linkPeerId), as the chaos corrupt fault makes it',
      evidence: ['n2', 'n3', 'n4'].map((observer) => bad(observer, 'bad-signature', { linkPeerId: 'n1', source: '198.51.100.11:7946' })),
      type: null, nodes: [], links: [], untrusted: 3,
    },
    {
      name: 'contradictions of n1 at two observers: n1 is byzantine',
      evidence: [bad('n2', 'contradiction', { peerId: 'n1', count: 2 }), bad('n3', 'contradiction', { peerId: 'n1', count: 3 })],
      type: 'byzantine', nodes: ['n1'], links: ['n1>n2', 'n1>n3'], untrusted: 0,
    },
    {
      name: 'contradictions of n5 at one observer: a link, not a node',
      evidence: [bad('n4', 'contradiction', { peerId: 'n5', count: 9 })],
      type: 'byzantine', nodes: [], links: ['n5>n4'], untrusted: 0,
    },
    {
      name: 'one contradiction is below the count minimum',
      evidence: [bad('n4', 'contradiction', { peerId: 'n5', count: 1 })],
      type: null, nodes: [], links: [], untrusted: 0,
    },
    {
      name: 'contradictions older than the window',
      evidence: [bad('n2', 'contradiction', { peerId: 'n1', lastAtMs: at(60_000) }), bad('n3', 'contradiction', { peerId: 'n1', lastAtMs: at(60_000) })],
      type: null, nodes: [], links: [], untrusted: 0,
    },
    {
      name: 'a flood of untrusted datagrams naming n5 next to n1\'s contradictions accuses n1 only',
      evidence: [
        bad('n2', 'contradiction', { peerId: 'n1', count: 2 }),
        ...others.map((observer) => bad(observer, 'replay', { peerId: 'n5', count: 1000, source: '198.51.100.99:40002' })),
      ],
      type: 'byzantine', nodes: [], links: ['n1>n2'], untrusted: 4,
    },
  ];
  for (const item of cases) {
    const verdict = classifyPartition(whole, { ...options, evidence: item.evidence });
    assert.equal(verdict.type, item.type, item.name);
    assert.equal(verdict.partitioned, item.type !== null, item.name);
    assert.deepEqual(verdict.byzantine.nodes, item.nodes, item.name);
    assert.deepEqual(verdict.byzantine.links.map((link) => `${link.from}>${link.to}`), item.links, item.name);
    for (const link of verdict.byzantine.links) assert.deepEqual(link.kinds, ['contradiction'], item.name);
    assert.equal(verdict.untrustedTraffic.length, item.untrusted, item.name);
  }
});

test('untrusted traffic is listed per observer and origin, in the chain after the claims, and bounded', () => {
  const cut = matrixOf(five, (a, b) => !((a === 'n1' && b === 'n2') || (a === 'n2' && b === 'n1')));
  const evidence = [
    bad('n3', 'bad-signature', { peerId: 'n2', source: '198.51.100.99:40000' }),
    bad('n3', 'replay', { peerId: 'n4', source: '198.51.100.99:40000', count: 2 }),
    bad('n4', 'bad-signature', { linkPeerId: 'n1', source: '198.51.100.11:7946', count: 3 }),
  ];
  const verdict = classifyPartition(cut, { ...options, evidence });
  assert.equal(verdict.type, 'partial', 'the cut link decides, untrusted traffic does not');
  assert.deepEqual(verdict.untrustedTraffic, [
    { observerId: 'n3', source: '198.51.100.99:40000', linkPeerId: null, namedIds: ['n2', 'n4'], kinds: ['bad-signature', 'replay'], count: 8, lastAtMs: at() },
    { observerId: 'n4', source: '198.51.100.11:7946', linkPeerId: 'n1', namedIds: [], kinds: ['bad-signature'], count: 3, lastAtMs: at() },
  ]);
  assert.deepEqual(verdict.evidence.slice(0, 2).map((entry) => entry.claim), ['unreachable', 'unreachable']);
  assert.deepEqual(verdict.evidence.slice(2).map((entry) => `${entry.observerId}:${entry.subjectId}:${entry.claim}:${entry.source}`), [
    'n3:null:untrusted:bad-signature:198.51.100.99:40000',
    'n3:null:untrusted:replay:198.51.100.99:40000',
    'n4:n1:untrusted:bad-signature:198.51.100.11:7946',
  ]);
  assert.match(verdict.summary, /untrusted traffic: 11 datagram\(s\) failing integrity at n3, n4 \(accuses no node\)/);
  const flood = Array.from({ length: untrustedTrafficMax + 10 }, (_, index) => bad('n3', 'bad-signature', { source: `198.51.100.99:${1000 + index}` }));
  const bounded = classifyPartition(cut, { ...options, evidence: flood, evidenceEntriesMax: 4 });
  assert.equal(bounded.untrustedTraffic.length, untrustedTrafficMax);
  assert.equal(bounded.untrustedTrafficOmitted, 10);
  assert.deepEqual(bounded.evidence.slice(0, 2).map((entry) => entry.claim), ['unreachable', 'unreachable'], 'the flood cannot push out the claims behind the verdict');
});

test('property: untrusted evidence never changes anything but the untrusted findings, the chain and the summary', () => {
  const nodes = ['a', 'b', 'c', 'd', 'e'];
  const kinds = ['bad-signature', 'malformed', 'replay', 'forged-sender'] as const;
  const untrustedItem = fc.record({
    observerId: fc.constantFrom(...nodes),
    kind: fc.constantFrom(...kinds),
    peerId: fc.option(fc.constantFrom(...nodes), { nil: undefined }),
    linkPeerId: fc.option(fc.constantFrom(...nodes), { nil: undefined }),
    source: fc.option(fc.constantFrom('198.51.100.9:1', '198.51.100.9:2', '*'), { nil: undefined }),
    count: fc.integer({ min: 1, max: 1e6 }),
    lastAtMs: fc.integer({ min: nowMs - 40_000, max: nowMs }),
  });
  const contradiction = fc.record({
    observerId: fc.constantFrom(...nodes),
    kind: fc.constant('contradiction' as const),
    peerId: fc.constantFrom(...nodes),
    count: fc.integer({ min: 1, max: 5 }),
    lastAtMs: fc.integer({ min: nowMs - 40_000, max: nowMs }),
  });
  const decisionPart = (verdict: PartitionVerdict) => {
    const { untrustedTraffic: _traffic, untrustedTrafficOmitted: _omitted, evidence: _chain, evidenceOmitted: _chainOmitted, summary: _summary, ...rest } = verdict;
    return rest;
  };
  fc.assert(
    fc.property(fc.array(fc.boolean(), { minLength: 25, maxLength: 25 }), fc.array(contradiction, { maxLength: 6 }), fc.array(untrustedItem, { maxLength: 30 }), (bits, accusing, untrusted) => {
      const matrix = matrixOf(nodes, (x, y) => bits[nodes.indexOf(x) * 5 + nodes.indexOf(y)]!);
      const signedOnly = classifyPartition(matrix, { ...options, evidence: accusing });
      const withUntrusted = classifyPartition(matrix, { ...options, evidence: [...untrusted, ...accusing] });
      assert.deepEqual(decisionPart(withUntrusted), decisionPart(signedOnly));
      assert.deepEqual(signedOnly.untrustedTraffic, []);
    }),
  );
});

test('a stalled observer is not believed when it says it hears nobody', () => {
  const matrix = matrixOf(five, (a) => a !== 'n1');
  const observerHealth = new Map([['n1', { score: 4, discounted: true, lastReason: 'missed-deadline' as const, missedDeadlines: 3 }]]);
  const trusting = classifyPartition(matrix, options);
  assert.equal(trusting.type, 'asymmetric');
  const discounting = classifyPartition(matrix, { ...options, observerHealth });
  assert.equal(discounting.partitioned, false);
  assert.deepEqual(discounting.discountedObservers, ['n1']);
});

test('a deaf node (hears nobody, heard by all) is named despite its mass-loss penalty, with every failing direction', () => {
  const matrix = matrixOf(five, (a) => a !== 'n1');
  const observerHealth = new Map([['n1', { score: 4, discounted: true, lastReason: 'mass-loss' as const, missedDeadlines: 0 }]]);
  const verdict = classifyPartition(matrix, { ...options, observerHealth });
  assert.equal(verdict.type, 'asymmetric');
  assert.deepEqual(verdict.deafNodes, ['n1']);
  assert.deepEqual(verdict.oneWayLinks.map((link) => `${link.from}>${link.to}`).sort(), ['n2>n1', 'n3>n1', 'n4>n1', 'n5>n1']);
  assert.deepEqual(verdict.discountedObservers, []);
  assert.match(verdict.summary, /deaf .*n1/);
});

test('a mass failure is named even when the survivors are discounted for losing most peers at once', () => {
  // n1..n3 stopped reporting; n4 and n5 lost them and are discounted for it.
  const matrix = matrixOf(five, (a, b) => !['n1', 'n2', 'n3'].includes(b) || ['n1', 'n2', 'n3'].includes(a), ['n1', 'n2', 'n3']);
  const health = { score: 4, discounted: true, lastReason: 'mass-loss' as const, missedDeadlines: 0 };
  const verdict = classifyPartition(matrix, { ...options, observerHealth: new Map([['n4', health], ['n5', health]]) });
  assert.equal(verdict.type, 'complete');
  assert.deepEqual(verdict.silentNodes, ['n1', 'n2', 'n3']);
  assert.equal(verdict.majorityIndex, null);
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

test('a slow link is listed with its measured delay, in the summary and the evidence, and is no partition', () => {
  const matrix = matrixOf(five, () => true);
  matrix.cells.get('n2')!.get('n1')!.delayMs = 212;
  matrix.cells.get('n3')!.get('n1')!.delayMs = 3;
  const verdict = classifyPartition(matrix, options);
  assert.equal(verdict.partitioned, false);
  assert.deepEqual(verdict.slowLinks, [{ from: 'n1', to: 'n2', delayMs: 212 }]);
  assert.match(verdict.summary, /slow \(late, not lost\): n1->n2 \+212 ms/);
  assert.equal(verdict.evidence.find((entry) => entry.observerId === 'n2' && entry.subjectId === 'n1')?.delayMs, 212);
});
