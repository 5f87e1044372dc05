/**
 * Named detector profiles, each derived from one heartbeat interval I by documented
 * formulas, and the choice of detector: the brief's fixed rule, phi accrual, or phi
 * accrual confirmed by indirect probes. Agents, the server and the simulator read the
 * same profile, so what is simulated is what runs.
 *
 * Formulas (I = heartbeatIntervalMs):
 * - fixed rule: unreachable after `missedHeartbeatsMax` (3) intervals of silence, as in the brief.
 * - phi: window 100 samples (Akka keeps 1000; 100 intervals already span the link's
 *   recent rhythm and adapt faster), first estimate I, minimum deviation I·σ,
 *   acceptable pause I·p, samples longer than 4I + pause ignored (partition gaps).
 *   Threshold 8 alone (Akka's default); with indirect probes a lower threshold is safe
 *   because the probes veto transient loss, so the probe starts earlier.
 * - indirect: k = 3 probers (memberlist's default), 2 direct pings, probe timeout I·t.
 * - observer health: a tick later than I/2 is a missed deadline; losing 75 % of peers
 *   within 2I is a mass loss (+4); one point decays per 2I.
 * - probe schedule: every peer up to 32 peers; beyond, 32 per interval round-robin.
 * - server side: reports every I; a row is stale after 3I + 100 ms; a partition opens
 *   after I/4 of continuous partition once its shape has held I/2 (or after 2I of a
 *   moving shape, as provisional), closes after 8I of health (16I once it flapped),
 *   reshapes after I/2; a reopening within 16I of the close is the same incident.
 *
 * | profile | I       | σ      | p     | t    | phi (alone / with probes) |
 * |---------|---------|--------|-------|------|---------------------------|
 * | lan     | 500 ms  | 0.1    | 0     | 0.8  | 8 / 3                     |
 * | wan     | 1000 ms | 0.25   | 0.5   | 1.0  | 10 / 4                    |
 * | local   | 250 ms  | 0.1    | 0     | 0.8  | 8 / 3                     |
 * `demo` is `local` under the name the demo cluster uses.
 */
import type { DebounceOptions } from '../partition-debounce';
import type { FailureDetectorFactory } from './failure-detector';
import type { IndirectProbeOptions } from './indirect-probe';
import { type MissedHeartbeatOptions, createMissedHeartbeatDetector } from './missed-heartbeat-detector';
import type { ObserverHealthOptions } from './observer-health';
import { type PhiAccrualOptions, createPhiAccrualDetector } from './phi-accrual-detector';
import type { ProbeScheduleOptions } from './probe-schedule';

/** Which detector decides reachability. */
export type DetectorMode = 'fixed' | 'phi' | 'phi+indirect';

/** Every detector mode, in the order benchmarks show them. */
export const detectorModes: readonly DetectorMode[] = ['fixed', 'phi', 'phi+indirect'];

/** Names of the built-in profiles. */
export type ProfileName = 'lan' | 'wan' | 'local' | 'demo';

/** Every built-in profile name. */
export const profileNames: readonly ProfileName[] = ['lan', 'wan', 'local', 'demo'];

/** Everything detection needs, for agents and the server alike. */
export interface DetectorProfile {
  /** Profile name, for logs and reports. */
  name: ProfileName;
  /** The detector in use. */
  mode: DetectorMode;
  /** Heartbeat interval I (ms); every other duration derives from it. */
  heartbeatIntervalMs: number;
  /** The brief's fixed rule (used when `mode` is `fixed`). */
  fixed: MissedHeartbeatOptions;
  /** Phi-accrual settings (used by `phi` and `phi+indirect`). */
  phi: PhiAccrualOptions;
  /** Indirect probing (used by `phi+indirect`). */
  indirect: IndirectProbeOptions;
  /** Observer self-health. */
  health: ObserverHealthOptions;
  /** Bounded heartbeats per interval. */
  schedule: ProbeScheduleOptions;
  /** How often agents report to the server (ms). */
  reportIntervalMs: number;
  /** Server side: a report row older than this (ms) is stale. */
  staleAfterMs: number;
  /** Server side: hysteresis and stability windows. */
  debounce: DebounceOptions;
}

interface ProfileFactors {
  heartbeatIntervalMs: number;
  minStdDeviationRatio: number;
  acceptablePauseRatio: number;
  probeTimeoutRatio: number;
  phiThresholdAlone: number;
  phiThresholdWithProbes: number;
}

const factors: Record<ProfileName, ProfileFactors> = {
  lan: { heartbeatIntervalMs: 500, minStdDeviationRatio: 0.1, acceptablePauseRatio: 0, probeTimeoutRatio: 0.8, phiThresholdAlone: 8, phiThresholdWithProbes: 3 },
  wan: { heartbeatIntervalMs: 1000, minStdDeviationRatio: 0.25, acceptablePauseRatio: 0.5, probeTimeoutRatio: 1, phiThresholdAlone: 10, phiThresholdWithProbes: 4 },
  local: { heartbeatIntervalMs: 250, minStdDeviationRatio: 0.1, acceptablePauseRatio: 0, probeTimeoutRatio: 0.8, phiThresholdAlone: 8, phiThresholdWithProbes: 3 },
  demo: { heartbeatIntervalMs: 250, minStdDeviationRatio: 0.1, acceptablePauseRatio: 0, probeTimeoutRatio: 0.8, phiThresholdAlone: 8, phiThresholdWithProbes: 3 },
};

/** Overrides a caller may apply on top of a named profile. */
export interface ProfileOverrides {
  /** Replaces I; every derived duration follows. */
  heartbeatIntervalMs?: number;
  /** Replaces the bound on heartbeats per interval. */
  peersPerIntervalMax?: number;
}

/** Builds the named profile for a detector mode, applying the formulas above. */
export function buildProfile(name: ProfileName, mode: DetectorMode, overrides: ProfileOverrides = {}): DetectorProfile {
  const f = factors[name];
  const intervalMs = overrides.heartbeatIntervalMs ?? f.heartbeatIntervalMs;
  if (!(intervalMs >= 10)) throw new RangeError('heartbeatIntervalMs must be at least 10');
  const pauseMs = intervalMs * f.acceptablePauseRatio;
  return {
    name,
    mode,
    heartbeatIntervalMs: intervalMs,
    fixed: { heartbeatIntervalMs: intervalMs, missedHeartbeatsMax: 3 },
    phi: {
      phiThreshold: mode === 'phi+indirect' ? f.phiThresholdWithProbes : f.phiThresholdAlone,
      sampleWindowSize: 100,
      minStdDeviationMs: intervalMs * f.minStdDeviationRatio,
      acceptableHeartbeatPauseMs: pauseMs,
      firstHeartbeatEstimateMs: intervalMs,
      sampleIntervalMaxMs: 4 * intervalMs + pauseMs,
    },
    indirect: { probersCount: 3, directPingsCount: 2, probeTimeoutMs: intervalMs * f.probeTimeoutRatio },
    health: {
      scoreMax: 8,
      deadlineLatenessToleranceMs: intervalMs / 2,
      massLossRatioMin: 0.75,
      massLossWindowMs: 2 * intervalMs,
      massLossPeersMin: 3,
      massLossPenalty: 4,
      scoreDecayMs: 2 * intervalMs,
    },
    schedule: { peersPerIntervalMax: overrides.peersPerIntervalMax ?? 32 },
    reportIntervalMs: intervalMs,
    staleAfterMs: 3 * intervalMs + 100,
    debounce: {
      openStableMs: intervalMs / 4,
      closeStableMs: 8 * intervalMs,
      changeStableMs: intervalMs / 2,
      openSettleMs: intervalMs / 2,
      openSettleMaxMs: 2 * intervalMs,
      flapWindowMs: 16 * intervalMs,
      flapCloseFactorMax: 2,
    },
  };
}

/** The detector factory a profile selects (phi for both phi modes; probing is the monitor's job). */
export function detectorFactory(profile: DetectorProfile): FailureDetectorFactory {
  if (profile.mode === 'fixed') return (nowMs) => createMissedHeartbeatDetector(profile.fixed, nowMs);
  return (nowMs) => createPhiAccrualDetector(profile.phi, nowMs);
}
