// Proves that digests depend on content only (not insertion order), change in exactly
// the bucket of a changed key, follow incremental updates exactly, and that the
// digest-only divergence estimate never under-counts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { DigestAccumulator, bucketOfKey, diffDigests, digestOf, digestsAgree, estimateDivergenceRatio, hashString32 } from './digest';

const hlc = (wallMs: number, nodeId = 'a') => ({ wallMs, logical: 0, nodeId });

test('FNV-1a matches the published test vectors', () => {
  assert.equal(hashString32(''), 0x811c9dc5);
  assert.equal(hashString32('a'), 0xe40c292c);
  assert.equal(hashString32('foobar'), 0xbf9cf968);
});

test('property: insertion order does not matter', () => {
  fc.assert(
    fc.property(fc.uniqueArray(fc.string({ minLength: 1, maxLength: 8 }), { maxLength: 40 }), (keys) => {
      const entries = keys.map((key, index) => ({ key, value: `v${index}`, hlc: hlc(index) }));
      assert.equal(digestOf(entries, 16).root, digestOf([...entries].reverse(), 16).root);
    }),
  );
});

test('one changed key changes exactly its bucket', () => {
  const entries = Array.from({ length: 100 }, (_, index) => ({ key: `k${index}`, value: 'x', hlc: hlc(index) }));
  const changed = entries.map((entry) => (entry.key === 'k42' ? { ...entry, hlc: hlc(1000) } : entry));
  const a = digestOf(entries, 32);
  const b = digestOf(changed, 32);
  assert.deepEqual(diffDigests(a, b), [bucketOfKey('k42', 32)]);
  assert.equal(digestsAgree([a, a]), true);
  assert.equal(digestsAgree([a, b]), false);
});

test('incremental add and remove equal a digest built from scratch', () => {
  const accumulator = new DigestAccumulator(8);
  accumulator.add('k1', 'one', hlc(1));
  accumulator.add('k2', 'two', hlc(2));
  accumulator.remove('k1', 'one', hlc(1));
  accumulator.add('k1', null, hlc(3));
  assert.equal(accumulator.snapshot().root, digestOf([{ key: 'k2', value: 'two', hlc: hlc(2) }, { key: 'k1', value: null, hlc: hlc(3) }], 8).root);
});

test('a tombstone differs from an empty value', () => {
  assert.notEqual(digestOf([{ key: 'k', value: null, hlc: hlc(1) }]).root, digestOf([{ key: 'k', value: '', hlc: hlc(1) }]).root);
});

test('property: estimated divergence is an upper bound on the exact fraction', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 200 }), fc.integer({ min: 0, max: 200 }), (keyCount, changedCount) => {
      const changed = Math.min(changedCount, keyCount);
      const base = Array.from({ length: keyCount }, (_, index) => ({ key: `k${index}`, value: 'v', hlc: hlc(1) }));
      const other = base.map((entry, index) => (index < changed ? { ...entry, hlc: hlc(2) } : entry));
      const estimate = estimateDivergenceRatio([digestOf(base, 64), digestOf(other, 64)]);
      assert.ok(estimate >= changed / keyCount - 1e-12);
      assert.ok(estimate <= 1);
      if (changed === 0) assert.equal(estimate, 0);
    }),
  );
});
