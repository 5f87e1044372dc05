// Proves the phi-accrual detector follows Akka's formula: phi is ~0.3 at the mean,
// rises monotonically with silence, respects the deviation floor, the acceptable pause
// and the sample cap, and crosses its threshold when the model says it should; and that
// `phiQuietDeviations` is a safe bound (phi stays below the threshold up to it) and a tight one.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { createPhiAccrualDetector, phiFromStatistics, phiMax, phiQuietDeviations, type PhiAccrualOptions } from './phi-accrual-detector';

const options: PhiAccrualOptions = {
  phiThreshold: 8,
  sampleWindowSize: 100,
  minStdDeviationMs: 10,
  acceptableHeartbeatPauseMs: 0,
  firstHeartbeatEstimateMs: 100,
  sampleIntervalMaxMs: 400,
};

test('phiFromStatistics table', () => {
  const cases: Array<[elapsed: number, mean: number, deviation: number, low: number, high: number]> = [
    [100, 100, 10, 0.29, 0.31], // at the mean, P(later) = 1/2
    [0, 100, 10, 0, 0.001], // right after a heartbeat
    [120, 100, 10, 1.5, 1.8], // two deviations late
    [150, 100, 10, 7, 7.6], // five deviations late
    [1e9, 100, 10, phiMax, phiMax], // capped, never infinite
  ];
  for (const [elapsed, mean, deviation, low, high] of cases) {
    const phi = phiFromStatistics(elapsed, mean, deviation);
    assert.ok(phi >= low && phi <= high, `phi(${elapsed}, ${mean}, ${deviation}) = ${phi}`);
  }
});

test('phi never decreases as silence grows', () => {
  fc.assert(
    fc.property(fc.double({ min: 1, max: 1e4, noNaN: true }), fc.double({ min: 0.1, max: 1e3, noNaN: true }), fc.double({ min: 0, max: 1e5, noNaN: true }), fc.double({ min: 0, max: 1e4, noNaN: true }), (mean, deviation, elapsed, more) => {
      assert.ok(phiFromStatistics(elapsed + more, mean, deviation) >= phiFromStatistics(elapsed, mean, deviation) - 1e-9);
    }),
  );
});

test('regular heartbeats, then silence: unavailable at the predicted time', () => {
  const detector = createPhiAccrualDetector(options, 0);
  for (let t = 0; t <= 10_000; t += 100) detector.heartbeat(t);
  const stats = detector.statistics();
  assert.ok(Math.abs(stats.meanMs - 100) < 1, `mean ${stats.meanMs}`);
  // Deviation ~0 is floored at 10 ms: phi 8 needs about 5.2 deviations past the mean.
  assert.equal(detector.isAvailable(10_000 + 140), true);
  assert.equal(detector.isAvailable(10_000 + 160), false);
});

test('acceptable pause shifts the crossing by the pause', () => {
  const detector = createPhiAccrualDetector({ ...options, acceptableHeartbeatPauseMs: 300 }, 0);
  for (let t = 0; t <= 10_000; t += 100) detector.heartbeat(t);
  assert.equal(detector.isAvailable(10_000 + 440), true);
  assert.equal(detector.isAvailable(10_000 + 460), false);
});

test('gaps longer than sampleIntervalMaxMs are not learned', () => {
  const detector = createPhiAccrualDetector(options, 0);
  for (let t = 0; t <= 5_000; t += 100) detector.heartbeat(t);
  const before = detector.statistics();
  detector.heartbeat(20_000); // a healed partition
  assert.equal(detector.statistics().samples, before.samples);
  assert.equal(detector.isAvailable(20_100), true);
});

test('a peer never heard is suspected from the start time', () => {
  const detector = createPhiAccrualDetector(options, 1_000);
  assert.equal(detector.lastHeartbeatAtMs(), null);
  assert.equal(detector.isAvailable(1_050), true);
  assert.equal(detector.isAvailable(1_000 + 1_000), false);
});

test('invalid options are refused', () => {
  assert.throws(() => createPhiAccrualDetector({ ...options, sampleWindowSize: 1 }, 0), RangeError);
  assert.throws(() => createPhiAccrualDetector({ ...options, minStdDeviationMs: 0 }, 0), RangeError);
});

test('phiQuietDeviations: phi stays below the threshold up to the bound, and reaches it within one deviation more', () => {
  assert.equal(phiQuietDeviations(0.3), 0);
  fc.assert(
    fc.property(
      fc.double({ min: 0.31, max: 20, noNaN: true }),
      fc.double({ min: 1, max: 1e5, noNaN: true }),
      fc.double({ min: 0.1, max: 1e4, noNaN: true }),
      fc.double({ min: 0, max: 1, noNaN: true }),
      (threshold, meanMs, deviationMs, fraction) => {
        const quiet = phiQuietDeviations(threshold);
        assert.ok(phiFromStatistics(meanMs + fraction * quiet * deviationMs, meanMs, deviationMs) < threshold);
        assert.ok(phiFromStatistics(meanMs + (quiet + 1) * deviationMs, meanMs, deviationMs) >= threshold);
      },
    ),
  );
});
