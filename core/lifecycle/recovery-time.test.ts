// Recovery time splits into waiting (heal → start, the approval) and working (start → closed); the parts add up to the total.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { recoveryTimeSplit } from './recovery-time';

test('a manual recovery approved 9 s after the heal, closed 3 s later', () => {
  assert.deepEqual(recoveryTimeSplit({ healedAtMs: 1000, recoveryStartedAtMs: 10_000, closedAtMs: 13_000 }), { totalMs: 12_000, waitingMs: 9000, workingMs: 3000 });
});

test('an automatic recovery started at the heal, or approved before it, waits 0', () => {
  assert.deepEqual(recoveryTimeSplit({ healedAtMs: 1000, recoveryStartedAtMs: 1000, closedAtMs: 4000 }), { totalMs: 3000, waitingMs: 0, workingMs: 3000 });
  assert.deepEqual(recoveryTimeSplit({ healedAtMs: 5000, recoveryStartedAtMs: 2000, closedAtMs: 8000 }), { totalMs: 3000, waitingMs: 0, workingMs: 3000 });
});

test('no split before the partition healed and closed', () => {
  assert.equal(recoveryTimeSplit({ healedAtMs: null, recoveryStartedAtMs: null, closedAtMs: 5 }), null);
  assert.equal(recoveryTimeSplit({ healedAtMs: 5, recoveryStartedAtMs: 6, closedAtMs: null }), null);
});
