// Proves the bounded heartbeat schedule: small clusters get every peer every interval;
// large ones get at most the bound per interval, every peer exactly once per round,
// at a steady rhythm while membership is stable; and passing the same peer array again
// (the shortcut that skips rebuilding membership) picks exactly what fresh copies pick.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { createPrng } from '../../sim/prng';
import { initialProbeSchedule, nextProbeTargets } from './probe-schedule';

const peersOf = (count: number) => Array.from({ length: count }, (_, index) => `p${index}`);

test('all peers every interval when under the bound', () => {
  const { targets } = nextProbeTargets(initialProbeSchedule(), peersOf(5), { peersPerIntervalMax: 8 }, createPrng(1));
  assert.deepEqual(targets, peersOf(5));
});

test('bounded per interval, each peer once per round, steady gaps', () => {
  fc.assert(
    fc.property(fc.integer({ min: 2, max: 120 }), fc.integer({ min: 1, max: 16 }), fc.integer({ min: 0, max: 1e6 }), (count, bound, seed) => {
      const peers = peersOf(count);
      const random = createPrng(seed);
      let state = initialProbeSchedule();
      const visits = new Map<string, number[]>();
      const rounds = Math.ceil(count / bound);
      for (let interval = 0; interval < rounds * 4; interval += 1) {
        const next = nextProbeTargets(state, peers, { peersPerIntervalMax: bound }, random);
        state = next.state;
        assert.ok(next.targets.length <= bound);
        assert.equal(new Set(next.targets).size, next.targets.length);
        for (const target of next.targets) visits.set(target, [...(visits.get(target) ?? []), interval]);
      }
      for (const peer of peers) {
        const at = visits.get(peer) ?? [];
        assert.ok(at.length >= 3, `${peer} visited ${at.length} times`);
        // The longest gap between visits stays within two rounds.
        for (let index = 1; index < at.length; index += 1) assert.ok(at[index]! - at[index - 1]! <= 2 * rounds);
      }
    }),
  );
});

test('the same peer array and fresh copies of it give the same targets, also across a membership change', () => {
  fc.assert(
    fc.property(fc.integer({ min: 2, max: 60 }), fc.integer({ min: 1, max: 16 }), fc.integer({ min: 0, max: 1e6 }), (count, bound, seed) => {
      const before = peersOf(count);
      const after = peersOf(count + 3).slice(2);
      const options = { peersPerIntervalMax: bound };
      const walk = (copy: boolean) => {
        const random = createPrng(seed);
        let state = initialProbeSchedule();
        const picked: string[][] = [];
        for (let interval = 0; interval < 40; interval += 1) {
          const members = interval < 20 ? before : after;
          const next = nextProbeTargets(state, copy ? [...members] : members, options, random);
          state = next.state;
          picked.push(next.targets);
        }
        return picked;
      };
      assert.deepEqual(walk(false), walk(true));
    }),
  );
});
