// Proves the SWIM-style probe decisions: probers exclude the observer and the suspect,
// are bounded by k and reproducible from a seeded source, and answers combine into
// alive / link-cut / peer-down / inconclusive as documented.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { createPrng } from '../../sim/prng';
import { type ProberAnswer, concludeProbe, meansUnreachable, pickProbers } from './indirect-probe';

const options = { probersCount: 3, directPingsCount: 2, probeTimeoutMs: 200 };

test('concludeProbe table', () => {
  const cases: Array<[boolean, ProberAnswer['outcome'][], string]> = [
    [true, [], 'alive'],
    [true, ['nack', 'nack'], 'alive'],
    [false, ['ack', 'nack', 'timeout'], 'link-cut'],
    [false, ['nack', 'timeout', 'nack'], 'peer-down'],
    [false, ['timeout', 'timeout'], 'inconclusive'],
    [false, [], 'inconclusive'],
  ];
  for (const [direct, outcomes, expected] of cases) {
    const answers = outcomes.map((outcome, index) => ({ proberId: `p${index}`, outcome }));
    assert.equal(concludeProbe(direct, answers), expected, `${direct} ${outcomes.join(',')}`);
  }
  assert.equal(meansUnreachable('alive'), false);
  assert.equal(meansUnreachable('link-cut'), true);
});

test('pickProbers never picks the observer or the suspect, at most k, distinct', () => {
  fc.assert(
    fc.property(fc.integer({ min: 2, max: 40 }), fc.integer({ min: 0, max: 2 ** 31 }), (size, seed) => {
      const members = Array.from({ length: size }, (_, index) => `n${index}`);
      const picked = pickProbers(members, 'n0', 'n1', options, createPrng(seed));
      assert.ok(picked.length <= 3 && picked.length === Math.min(3, size - 2));
      assert.equal(new Set(picked).size, picked.length);
      assert.ok(!picked.includes('n0') && !picked.includes('n1'));
    }),
  );
});

test('pickProbers is reproducible from the seed', () => {
  const members = Array.from({ length: 20 }, (_, index) => `n${index}`);
  assert.deepEqual(pickProbers(members, 'n0', 'n1', options, createPrng(7)), pickProbers(members, 'n0', 'n1', options, createPrng(7)));
  assert.throws(() => pickProbers(members, 'n0', 'n1', { ...options, probersCount: 99 }, createPrng(1)), RangeError);
});
