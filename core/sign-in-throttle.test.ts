/**
 * Proves the sign-in throttle's arithmetic: free failures cost nothing, each
 * further one doubles the wait up to the ceiling, a quiet (name, source) starts
 * over, and a source's budget is spent at its maximum and refills a window after
 * its first failure.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type ThrottleCount, blockedUntilMs, countFailure, defaultSignInThrottlePolicy as policy } from './sign-in-throttle';

const after = (failures: number, kind: 'name' | 'source', gapMs = 1000): ThrottleCount => {
  let count: ThrottleCount | null = null;
  for (let index = 0; index < failures; index += 1) count = countFailure(kind, count, index * gapMs, policy);
  return count!;
};

describe('sign-in throttle arithmetic', () => {
  it('waits nothing for the free failures, then doubles up to the ceiling', () => {
    const table: [number, number][] = [
      [1, 0],
      [policy.freeFailures, 0],
      [policy.freeFailures + 1, policy.delayMsBase],
      [policy.freeFailures + 2, policy.delayMsBase * 2],
      [policy.freeFailures + 4, policy.delayMsBase * 8],
      [policy.freeFailures + 40, policy.delayMsMax],
    ];
    for (const [failures, waitMs] of table) {
      const count = after(failures, 'name', 1);
      assert.equal(blockedUntilMs('name', count, policy) - count.lastFailedAtMs, waitMs, `${failures} failures`);
    }
  });

  it('starts a (name, source) over once it was quiet for a window, but not while it keeps failing', () => {
    const busy = after(policy.freeFailures + 3, 'name', policy.windowMs - 1);
    assert.equal(busy.failures, policy.freeFailures + 3);
    const quiet = countFailure('name', busy, busy.lastFailedAtMs + policy.windowMs, policy);
    assert.equal(quiet.failures, 1);
  });

  it('spends a source budget at its maximum and refills it a window after the first failure', () => {
    const spent = after(policy.sourceFailuresMax, 'source', 10);
    assert.equal(blockedUntilMs('source', spent, policy), spent.windowStartedAtMs + policy.windowMs);
    const almost = after(policy.sourceFailuresMax - 1, 'source', 10);
    assert.equal(blockedUntilMs('source', almost, policy), almost.lastFailedAtMs);
    assert.equal(countFailure('source', spent, spent.windowStartedAtMs + policy.windowMs, policy).failures, 1);
  });
});
