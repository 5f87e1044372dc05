// Proves every named profile builds with the documented formulas, that the mode
// selects the detector (fixed rule vs phi) and lowers phi only when probes confirm.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildProfile, detectorFactory, detectorModes, profileNames } from './detector-profiles';

test('profiles derive from the interval', () => {
  for (const name of profileNames) {
    for (const mode of detectorModes) {
      const profile = buildProfile(name, mode);
      const intervalMs = profile.heartbeatIntervalMs;
      assert.equal(profile.fixed.missedHeartbeatsMax, 3);
      assert.equal(profile.staleAfterMs, 3 * intervalMs + 100);
      assert.equal(profile.phi.firstHeartbeatEstimateMs, intervalMs);
      assert.ok(profile.debounce.closeStableMs > profile.debounce.openStableMs, 'hysteresis');
    }
  }
  assert.equal(buildProfile('demo', 'phi').heartbeatIntervalMs, buildProfile('local', 'phi').heartbeatIntervalMs);
  assert.ok(buildProfile('lan', 'phi+indirect').phi.phiThreshold < buildProfile('lan', 'phi').phi.phiThreshold);
  assert.equal(buildProfile('wan', 'phi', { heartbeatIntervalMs: 2000 }).indirect.probeTimeoutMs, 2000);
  assert.throws(() => buildProfile('lan', 'phi', { heartbeatIntervalMs: 1 }), RangeError);
});

test('mode selects the detector', () => {
  const fixed = detectorFactory(buildProfile('local', 'fixed'))(0);
  assert.equal(fixed.isAvailable(3 * 250 - 1), true);
  assert.equal(fixed.isAvailable(3 * 250), false);
  const phi = detectorFactory(buildProfile('local', 'phi'))(0);
  assert.ok('statistics' in phi);
});
