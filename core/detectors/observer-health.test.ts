// Proves the Lifeguard-style self-health score: on-time ticks keep it at zero, missed
// deadlines and mass loss of peers raise it (so verdicts are discounted), scattered
// losses do not, unanswered probes do, and it decays back to healthy with time.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  type ObserverHealthOptions,
  healthSnapshot,
  initialObserverHealth,
  recordPeerLoss,
  recordProbeUnanswered,
  recordTick,
  suspicionMultiplier,
} from './observer-health';

const options: ObserverHealthOptions = {
  scoreMax: 8,
  deadlineLatenessToleranceMs: 50,
  massLossRatioMin: 0.75,
  massLossWindowMs: 200,
  massLossPeersMin: 3,
  massLossPenalty: 4,
  scoreDecayMs: 200,
};

test('tick table', () => {
  const cases: Array<[scheduled: number, ran: number, discounted: boolean]> = [
    [100, 100, false],
    [100, 150, false],
    [100, 151, true],
    [100, 3_100, true],
  ];
  for (const [scheduled, ran, discounted] of cases) {
    const state = recordTick(initialObserverHealth(0), scheduled, ran, options);
    assert.equal(healthSnapshot(state, ran, options).discounted, discounted, `${scheduled}→${ran}`);
  }
  const stalled = recordTick(initialObserverHealth(0), 100, 3_100, options);
  assert.equal(stalled.score, options.scoreMax, 'saturates');
  assert.equal(suspicionMultiplier(stalled), options.scoreMax + 1);
});

test('losing most peers at once raises the score; scattered losses do not', () => {
  let burst = initialObserverHealth(0);
  for (const [index, peer] of ['a', 'b', 'c'].entries()) burst = recordPeerLoss(burst, peer, 1_000 + index * 10, 4, options);
  assert.equal(burst.score, 4);
  assert.equal(burst.lastReason, 'mass-loss');
  let scattered = initialObserverHealth(0);
  for (const [index, peer] of ['a', 'b', 'c'].entries()) scattered = recordPeerLoss(scattered, peer, 1_000 + index * 1_000, 4, options);
  assert.equal(scattered.score, 0);
  let tiny = initialObserverHealth(0);
  for (const peer of ['a', 'b']) tiny = recordPeerLoss(tiny, peer, 1_000, 2, options);
  assert.equal(tiny.score, 0, 'too few peers to judge');
});

test('score decays one point per scoreDecayMs', () => {
  const raised = recordProbeUnanswered(recordProbeUnanswered(initialObserverHealth(0), 0, options), 0, options);
  assert.equal(healthSnapshot(raised, 0, options).score, 2);
  assert.equal(healthSnapshot(raised, 199, options).score, 2);
  assert.equal(healthSnapshot(raised, 200, options).score, 1);
  assert.equal(healthSnapshot(raised, 400, options).discounted, false);
});
