// Proves that last-writer-wins picks the same winner whatever the order of candidates
// (commutative, hence convergent), and that prefer-majority-side keeps a majority
// version over a later minority one, falling back to LWW when there is no majority.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { type Candidate, lastWriterWins, preferMajoritySide } from './resolver';

const candidateArbitrary = fc.record({
  wallMs: fc.integer({ min: 0, max: 100 }),
  logical: fc.integer({ min: 0, max: 3 }),
  nodeId: fc.constantFrom('a', 'b', 'c', 'd', 'e'),
});

function candidates(stamps: { wallMs: number; logical: number; nodeId: string }[]): Candidate[] {
  const unique = new Map(stamps.map((stamp) => [`${stamp.wallMs}/${stamp.logical}/${stamp.nodeId}`, stamp]));
  return [...unique.values()].map((hlc) => ({ entry: { key: 'k', value: `v-${hlc.nodeId}-${hlc.wallMs}`, hlc }, holders: [hlc.nodeId] }));
}

test('property: LWW is order-independent and keeps the latest', () => {
  fc.assert(
    fc.property(fc.array(candidateArbitrary, { minLength: 2, maxLength: 6 }), fc.nat(), (stamps, rotation) => {
      const list = candidates(stamps);
      if (list.length < 2) return;
      const rotated = [...list.slice(rotation % list.length), ...list.slice(0, rotation % list.length)].reverse();
      const a = lastWriterWins.resolve('k', list, { majorityNodes: null });
      const b = lastWriterWins.resolve('k', rotated, { majorityNodes: null });
      assert.deepEqual(a.winner.entry, b.winner.entry);
      assert.equal(a.losers.length, list.length - 1);
      for (const loser of a.losers) assert.ok(loser.entry.hlc.wallMs <= a.winner.entry.hlc.wallMs);
    }),
  );
});

test('property: pairwise LWW merges converge in any grouping (associative)', () => {
  fc.assert(
    fc.property(fc.array(candidateArbitrary, { minLength: 3, maxLength: 6 }), (stamps) => {
      const list = candidates(stamps);
      if (list.length < 3) return;
      const merge = (x: Candidate, y: Candidate) => lastWriterWins.resolve('k', [x, y], { majorityNodes: null }).winner;
      const left = list.reduce((acc, next) => merge(acc, next));
      const right = list.reduceRight((acc, next) => merge(next, acc));
      assert.deepEqual(left.entry, right.entry);
    }),
  );
});

test('prefer-majority-side: table of cases', () => {
  const minorityLate: Candidate = { entry: { key: 'k', value: 'minority', hlc: { wallMs: 9, logical: 0, nodeId: 'e' } }, holders: ['e'] };
  const majorityEarly: Candidate = { entry: { key: 'k', value: 'majority', hlc: { wallMs: 5, logical: 0, nodeId: 'a' } }, holders: ['a', 'b', 'c'] };
  const cases = [
    { name: 'majority version wins over a later minority one', majority: new Set(['a', 'b', 'c']), expected: 'majority', rule: 'majority-side' },
    { name: 'no majority side: latest wins', majority: null, expected: 'minority', rule: 'latest-hlc (no majority side)' },
    { name: 'majority wrote nothing: latest wins', majority: new Set(['x', 'y', 'z']), expected: 'minority', rule: 'latest-hlc (no majority version)' },
  ];
  for (const entry of cases) {
    const resolution = preferMajoritySide.resolve('k', [minorityLate, majorityEarly], { majorityNodes: entry.majority });
    assert.equal(resolution.winner.entry.value, entry.expected, entry.name);
    assert.equal(resolution.rule, entry.rule, entry.name);
  }
});
