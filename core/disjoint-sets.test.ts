// Proves the one union-find: unions merge sets transitively, a repeated union says it
// changed nothing, and components come out in the stable order verdicts rely on
// (each sorted, largest first, ties by first label).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DisjointSets } from './disjoint-sets';

test('unions merge transitively and report whether they joined anything', () => {
  const sets = new DisjointSets(5);
  assert.equal(sets.union(0, 1), true);
  assert.equal(sets.union(1, 2), true);
  assert.equal(sets.union(2, 0), false, 'already together');
  assert.equal(sets.find(0), sets.find(2));
  assert.notEqual(sets.find(0), sets.find(3));
});

test('components: each sorted, largest first, ties by first label', () => {
  const cases: Array<{ labels: string[]; unions: Array<[number, number]>; expected: string[][] }> = [
    { labels: [], unions: [], expected: [] },
    { labels: ['c', 'a', 'b'], unions: [], expected: [['a'], ['b'], ['c']] },
    { labels: ['e', 'd', 'c', 'b', 'a'], unions: [[0, 1], [2, 3], [3, 4]], expected: [['a', 'b', 'c'], ['d', 'e']] },
    { labels: ['x', 'y', 'z', 'w'], unions: [[0, 3], [1, 2]], expected: [['w', 'x'], ['y', 'z']] },
  ];
  for (const { labels, unions, expected } of cases) {
    const sets = new DisjointSets(labels.length);
    for (const [a, b] of unions) sets.union(a, b);
    assert.deepEqual(sets.components(labels), expected, labels.join(','));
  }
  assert.throws(() => new DisjointSets(2).components(['a']), RangeError);
});
