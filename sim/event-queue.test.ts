/**
 * The event queue's order is the simulator's determinism: events by time, simultaneous
 * ones in insertion order, whatever the interleaving of pushes and pops.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EventQueue } from './event-queue';
import { createPrng } from './prng';

test('events come out by time, then by insertion order, across interleaved pushes and pops', () => {
  const random = createPrng(11, 0);
  const queue = new EventQueue<number>();
  // The model: every pending (time, insertion number), kept sorted the slow way.
  const pending: Array<{ atMs: number; order: number }> = [];
  let inserted = 0;
  let popped = 0;
  for (let step = 0; step < 20_000; step += 1) {
    if (random() < 0.55 || pending.length === 0) {
      // Few distinct times, so that ties are common.
      const atMs = Math.floor(random() * 50) + (random() < 0.5 ? 0 : 0.25);
      queue.push(atMs, inserted);
      pending.push({ atMs, order: inserted });
      inserted += 1;
    } else {
      pending.sort((x, y) => x.atMs - y.atMs || x.order - y.order);
      const expected = pending.shift()!;
      assert.equal(queue.peekAtMs(), expected.atMs);
      assert.equal(queue.pop(), expected.order);
      popped += 1;
    }
    assert.equal(queue.size, pending.length);
  }
  assert.ok(popped > 5000, `only ${popped} pops`);
  assert.equal(new EventQueue<number>().pop(), undefined);
  assert.equal(new EventQueue<number>().peekAtMs(), Number.POSITIVE_INFINITY);
});
