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

/** Relative margin taken off `phiQuietDeviations`, far above floating-point rounding, so the bound stays safe. */
const quietDeviationsMargin = 1e-6;

/**
 * How many standard deviations past the expected arrival (mean plus acceptable pause) a
 * silence may last while phi stays strictly below `phiThreshold`: a safe lower bound,
 * which callers use to skip computing phi for peers that cannot be suspected yet. Past
 * the mean, phi = x/ln10 + log10(1 + e^−x) ≤ x/ln10 + log10 2 with x = y·(1.5976 +
 * 0.070566·y²) increasing in y, so solving x = (phiThreshold − log10 2)·ln10 (bisection,
 * a bounded loop) gives the bound. Returns 0 when the threshold is at or below log10 2.
 */
export function phiQuietDeviations(phiThreshold: number): number {
  const exponentMax = (phiThreshold - Math.LOG10E * Math.LN2) * Math.LN10;
  if (!(exponentMax > 0)) return 0;
  let low = 0;
  let high = exponentMax / 1.5976;
  for (let step = 0; step < 64; step += 1) {
    const middle = (low + high) / 2;
    if (middle * (1.5976 + 0.070566 * middle * middle) < exponentMax) low = middle;
    else high = middle;
  }
  return low * (1 - quietDeviationsMargin);
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
  return new PhiAccrual(options, startedAtMs);
}

/** Samples room a detector starts with: the two seeds and two heartbeats. */
const initialSamplesCapacity = 4;

/**
 * The detector's state as one object (a class rather than closures): a 200-node cluster
 * holds 40 000 of them and a 1,000-node one a million, and each is touched on every
 * arrival, so compactness is speed. The sample window grows as samples come (doubling
 * from `initialSamplesCapacity` until it holds `sampleWindowSize`, a ring after that):
 * a peer heard once per round of a bounded schedule fills it over minutes, and a window
 * allocated whole up front was most of a large simulation's memory. The samples and
 * the order of the sums are those of a window allocated whole, so phi is the same.
 */
class PhiAccrual implements PhiAccrualDetector {
  /** A plain array of doubles (smaller than a typed array at these sizes), grown by hand so its room is what is used. */
  private samples: number[];
  private count = 0;
  private readonly windowSize: number;
  private next = 0;
  private sum = 0;
  private sumOfSquares = 0;
  private lastAtMs: number | null = null;
  /** Mean plus the acceptable pause, and the floored deviation, as `suspicion` uses them: they change only when a sample is added. */
  private expectedMs = 0;
  private deviationMs = 0;

  constructor(
    private readonly options: PhiAccrualOptions,
    private readonly startedAtMs: number,
  ) {
    this.windowSize = options.sampleWindowSize;
    this.samples = new Array<number>(Math.min(initialSamplesCapacity, this.windowSize)).fill(0.5);
    // Akka seeds the window with two samples around the estimate so phi is defined at once.
    const estimateDeviationMs = options.firstHeartbeatEstimateMs / 4;
    this.add(options.firstHeartbeatEstimateMs - estimateDeviationMs);
    this.add(options.firstHeartbeatEstimateMs + estimateDeviationMs);
  }

  heartbeat(nowMs: number): void {
    const lastAtMs = this.lastAtMs;
    if (lastAtMs !== null && nowMs <= lastAtMs) return;
    const intervalMs = nowMs - (lastAtMs ?? this.startedAtMs);
    if (lastAtMs !== null && intervalMs <= this.options.sampleIntervalMaxMs) this.add(intervalMs);
    this.lastAtMs = nowMs;
  }

  suspicion(nowMs: number): number {
    const elapsedMs = Math.max(0, nowMs - (this.lastAtMs ?? this.startedAtMs));
    return phiFromStatistics(elapsedMs, this.expectedMs, this.deviationMs);
  }

  isAvailable(nowMs: number): boolean {
    return this.suspicion(nowMs) < this.options.phiThreshold;
  }

  lastHeartbeatAtMs(): number | null {
    return this.lastAtMs;
  }

  statistics(): { meanMs: number; stdDeviationMs: number; samples: number } {
    const meanMs = this.meanMs();
    return { meanMs, stdDeviationMs: this.stdDeviationMs(meanMs), samples: this.count };
  }

  private meanMs(): number {
    return this.sum / this.count;
  }

  private stdDeviationMs(meanMs: number): number {
    return Math.sqrt(Math.max(0, this.sumOfSquares / this.count - meanMs * meanMs));
  }

  private add(intervalMs: number): void {
    if (this.count === this.windowSize) {
      const old = this.samples[this.next]!;
      this.sum -= old;
      this.sumOfSquares -= old * old;
    } else {
      // Not yet full: the ring has not wrapped, so the samples sit at 0 .. count - 1 and `next` is `count`.
      if (this.count === this.samples.length) {
        const grown = new Array<number>(Math.min(this.windowSize, 2 * this.samples.length)).fill(0.5);
        for (let index = 0; index < this.count; index += 1) grown[index] = this.samples[index]!;
        this.samples = grown;
      }
      this.count += 1;
    }
    this.samples[this.next] = intervalMs;
    this.sum += intervalMs;
    this.sumOfSquares += intervalMs * intervalMs;
    this.next = (this.next + 1) % this.windowSize;
    const meanMs = this.meanMs();
    this.expectedMs = meanMs + this.options.acceptableHeartbeatPauseMs;
    this.deviationMs = Math.max(this.stdDeviationMs(meanMs), this.options.minStdDeviationMs);
  }
}
