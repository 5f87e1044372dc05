/**
 * The phi-accrual failure detector (Hayashibara et al. 2004), with the logistic
 * approximation of the normal CDF used by Akka and Cassandra. Instead of a yes/no
 * timeout it reports phi = -log10(P(a heartbeat this late or later)), learned from a
 * sliding window of recent inter-arrival times, so it adapts to each link's rhythm.
 */
import type { FailureDetector } from './failure-detector';

/** Settings of one phi-accrual detector. */
export interface PhiAccrualOptions {
  /** Phi at or above which the peer is unavailable; 8 is Akka's default (about 1 false alarm in 10^8 checks under the model). */
  phiThreshold: number;
  /** Number of inter-arrival samples kept; older samples are forgotten. Bounds memory per peer. */
  sampleWindowSize: number;
  /** Floor for the standard deviation (ms), so a very regular link does not make phi explode on tiny jitter. */
  minStdDeviationMs: number;
  /** Silence (ms) added to the expected interval before phi starts to rise: tolerated GC pauses and the like. */
  acceptableHeartbeatPauseMs: number;
  /** Interval (ms) assumed before any sample exists; seeds the window with mean = this and deviation = this / 4. */
  firstHeartbeatEstimateMs: number;
  /** Inter-arrival times longer than this (ms) are not learned (a partition's gap must not teach the detector to be lax afterwards). */
  sampleIntervalMaxMs: number;
}

/** Largest phi reported; beyond it every answer means the same ("long gone"), and it keeps reports finite. */
export const phiMax = 1000;

/**
 * Phi for a silence of `elapsedMs` when intervals have the given mean and deviation.
 * Akka's formula: y = (t − μ)/σ, e = exp(−y·(1.5976 + 0.070566·y²)),
 * phi = −log10(e/(1+e)) when t > μ, else −log10(1 − 1/(1+e)). Computed in log space
 * so that huge silences do not underflow to infinity.
 */
export function phiFromStatistics(elapsedMs: number, meanMs: number, stdDeviationMs: number): number {
  const y = (elapsedMs - meanMs) / stdDeviationMs;
  const exponent = y * (1.5976 + 0.070566 * y * y);
  if (elapsedMs > meanMs) {
    // −log10(e/(1+e)) = exponent/ln10 + log10(1+e), with e = exp(−exponent) small here.
    const phi = exponent / Math.LN10 + Math.log10(1 + Math.exp(-exponent));
    return Math.min(phiMax, phi);
  }
  const e = Math.exp(-exponent);
  return Math.min(phiMax, Math.max(0, -Math.log10(1 - 1 / (1 + e))));
}

/** A phi-accrual detector that can also show its learned statistics. */
export interface PhiAccrualDetector extends FailureDetector {
  /** Mean (ms) and standard deviation (ms, before the floor) of the learned inter-arrival times. */
  statistics(): { meanMs: number; stdDeviationMs: number; samples: number };
}

function validate(options: PhiAccrualOptions): void {
  if (!(options.phiThreshold > 0)) throw new RangeError('phiThreshold must be positive');
  if (!Number.isInteger(options.sampleWindowSize) || options.sampleWindowSize < 2) {
    throw new RangeError('sampleWindowSize must be an integer of at least 2');
  }
  if (!(options.minStdDeviationMs > 0)) throw new RangeError('minStdDeviationMs must be positive');
  if (options.acceptableHeartbeatPauseMs < 0) throw new RangeError('acceptableHeartbeatPauseMs must not be negative');
  if (!(options.firstHeartbeatEstimateMs > 0)) throw new RangeError('firstHeartbeatEstimateMs must be positive');
  if (!(options.sampleIntervalMaxMs > 0)) throw new RangeError('sampleIntervalMaxMs must be positive');
}

/**
 * Creates a phi-accrual detector. Silence is counted from `startedAtMs` until the first
 * heartbeat, so a peer that is never heard is eventually suspected too.
 */
export function createPhiAccrualDetector(options: PhiAccrualOptions, startedAtMs: number): PhiAccrualDetector {
  validate(options);
  const samples = new Float64Array(options.sampleWindowSize);
  let count = 0;
  let next = 0;
  let sum = 0;
  let sumOfSquares = 0;
  const add = (intervalMs: number) => {
    if (count === samples.length) {
      const old = samples[next]!;
      sum -= old;
      sumOfSquares -= old * old;
    } else {
      count += 1;
    }
    samples[next] = intervalMs;
    sum += intervalMs;
    sumOfSquares += intervalMs * intervalMs;
    next = (next + 1) % samples.length;
  };
  // Akka seeds the window with two samples around the estimate so phi is defined at once.
  const estimateDeviationMs = options.firstHeartbeatEstimateMs / 4;
  add(options.firstHeartbeatEstimateMs - estimateDeviationMs);
  add(options.firstHeartbeatEstimateMs + estimateDeviationMs);
  let lastAtMs: number | null = null;

  const statistics = () => {
    const meanMs = sum / count;
    const variance = Math.max(0, sumOfSquares / count - meanMs * meanMs);
    return { meanMs, stdDeviationMs: Math.sqrt(variance), samples: count };
  };
  const suspicion = (nowMs: number) => {
    const { meanMs, stdDeviationMs } = statistics();
    const elapsedMs = Math.max(0, nowMs - (lastAtMs ?? startedAtMs));
    const deviationMs = Math.max(stdDeviationMs, options.minStdDeviationMs);
    return phiFromStatistics(elapsedMs, meanMs + options.acceptableHeartbeatPauseMs, deviationMs);
  };
  return {
    heartbeat(nowMs) {
      if (lastAtMs !== null && nowMs <= lastAtMs) return;
      const intervalMs = nowMs - (lastAtMs ?? startedAtMs);
      if (lastAtMs !== null && intervalMs <= options.sampleIntervalMaxMs) add(intervalMs);
      lastAtMs = nowMs;
    },
    suspicion,
    isAvailable: (nowMs) => suspicion(nowMs) < options.phiThreshold,
    lastHeartbeatAtMs: () => lastAtMs,
    statistics,
  };
}
