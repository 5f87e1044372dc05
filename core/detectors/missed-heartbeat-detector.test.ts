/**
 * Proves the brief's fixed rule: a peer turns unreachable exactly when the
 * configured number of intervals passes in silence, and recovers on a heartbeat.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { briefDefaults, createMissedHeartbeatDetector } from './missed-heartbeat-detector';

describe('missed-heartbeat detector', () => {
  it('uses the brief defaults: 5 s interval, 3 missed', () => {
    assert.deepEqual(briefDefaults, { heartbeatIntervalMs: 5000, missedHeartbeatsMax: 3 });
  });

  const table: { silenceMs: number; available: boolean }[] = [
    { silenceMs: 0, available: true },
    { silenceMs: 5000, available: true },
    { silenceMs: 14_999, available: true },
    { silenceMs: 15_000, available: false },
    { silenceMs: 60_000, available: false },
  ];
  for (const row of table) {
    it(`after ${row.silenceMs} ms of silence the peer is ${row.available ? 'available' : 'unavailable'}`, () => {
      const detector = createMissedHeartbeatDetector(briefDefaults, 0);
      detector.heartbeat(1000);
      assert.equal(detector.isAvailable(1000 + row.silenceMs), row.available);
      assert.equal(detector.suspicion(1000 + row.silenceMs), row.silenceMs / 5000);
    });
  }

  it('counts silence from the start when no heartbeat ever arrived', () => {
    const detector = createMissedHeartbeatDetector({ heartbeatIntervalMs: 100, missedHeartbeatsMax: 3 }, 500);
    assert.equal(detector.lastHeartbeatAtMs(), null);
    assert.equal(detector.isAvailable(799), true);
    assert.equal(detector.isAvailable(800), false);
  });

  it('a heartbeat makes an unavailable peer available again, and older heartbeats do not move time back', () => {
    const detector = createMissedHeartbeatDetector({ heartbeatIntervalMs: 100, missedHeartbeatsMax: 3 }, 0);
    assert.equal(detector.isAvailable(1000), false);
    detector.heartbeat(1000);
    detector.heartbeat(900);
    assert.equal(detector.lastHeartbeatAtMs(), 1000);
    assert.equal(detector.isAvailable(1100), true);
  });

  it('rejects nonsensical settings', () => {
    assert.throws(() => createMissedHeartbeatDetector({ heartbeatIntervalMs: 0, missedHeartbeatsMax: 3 }, 0), RangeError);
    assert.throws(() => createMissedHeartbeatDetector({ heartbeatIntervalMs: 10, missedHeartbeatsMax: 0 }, 0), RangeError);
  });
});
