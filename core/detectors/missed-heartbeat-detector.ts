/**
 * The product brief's fixed rule: a peer is unreachable once `missedHeartbeatsMax`
 * heartbeat intervals have passed without a heartbeat from it.
 */
import type { FailureDetector } from './failure-detector';

/** Settings of the fixed rule. */
export interface MissedHeartbeatOptions {
  /** Expected time between heartbeats (ms); the brief's default is 5000. */
  heartbeatIntervalMs: number;
  /** Intervals of silence after which the peer is unreachable; the brief's default is 3. */
  missedHeartbeatsMax: number;
}

/** The brief's defaults: 5 s interval, 3 missed heartbeats. */
export const briefDefaults: MissedHeartbeatOptions = { heartbeatIntervalMs: 5000, missedHeartbeatsMax: 3 };

/** Creates a fixed-rule detector. Until the first heartbeat, silence is counted from `startedAtMs`. */
export function createMissedHeartbeatDetector(options: MissedHeartbeatOptions, startedAtMs: number): FailureDetector {
  if (options.heartbeatIntervalMs <= 0) throw new RangeError('heartbeatIntervalMs must be positive');
  if (options.missedHeartbeatsMax <= 0) throw new RangeError('missedHeartbeatsMax must be positive');
  let lastAtMs: number | null = null;
  const silenceStartMs = () => lastAtMs ?? startedAtMs;
  const suspicion = (nowMs: number) => Math.max(0, nowMs - silenceStartMs()) / options.heartbeatIntervalMs;
  return {
    heartbeat(nowMs) {
      if (lastAtMs === null || nowMs > lastAtMs) lastAtMs = nowMs;
    },
    suspicion,
    isAvailable: (nowMs) => suspicion(nowMs) < options.missedHeartbeatsMax,
    lastHeartbeatAtMs: () => lastAtMs,
  };
}
