/**
 * The interface every failure detector implements. A detector watches one peer:
 * it is told when a heartbeat arrives and asked, at a given time, how suspicious
 * the silence is. Time is always passed in (ms), never read.
 */
export interface FailureDetector {
  /** Records a heartbeat that arrived at `nowMs`. */
  heartbeat(nowMs: number): void;
  /** Suspicion at `nowMs`: phi for phi-accrual, missed intervals for the fixed rule. */
  suspicion(nowMs: number): number;
  /** Whether the peer should be considered unreachable at `nowMs`. */
  isAvailable(nowMs: number): boolean;
  /** Time of the last heartbeat, or null if none arrived yet. */
  lastHeartbeatAtMs(): number | null;
}

/** Builds a fresh detector for a newly watched peer, starting at `nowMs`. */
export type FailureDetectorFactory = (nowMs: number) => FailureDetector;
