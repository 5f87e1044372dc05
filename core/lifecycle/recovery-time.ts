/**
 * Recovery time, split into its two parts: waiting (from the heal until the
 * recovery started, which for a manual recovery is the operator's approval) and
 * working (from that start until replicas were verified and the partition closed).
 * The total is what the brief's 600 s threshold and the `recovery_time_ms` sample
 * measure; the parts say whether the time went to a decision or to the work.
 */

/** The lifecycle instants the split needs (ms since epoch; null when not reached). */
export interface RecoveryInstants {
  healedAtMs: number | null;
  recoveryStartedAtMs: number | null;
  closedAtMs: number | null;
}

/** Recovery time and its parts (ms); null when the partition did not close after a heal. */
export interface RecoveryTimeSplit {
  totalMs: number;
  /** Heal → recovery started (approval, for a manual recovery); 0 when it started at the heal or before it. */
  waitingMs: number;
  /** Recovery started (or the heal, if later) → closed. */
  workingMs: number;
}

/** Splits the recovery time of a closed partition. */
export function recoveryTimeSplit(instants: RecoveryInstants): RecoveryTimeSplit | null {
  const { healedAtMs, recoveryStartedAtMs, closedAtMs } = instants;
  if (healedAtMs === null || closedAtMs === null) return null;
  const totalMs = Math.max(0, closedAtMs - healedAtMs);
  const workStartMs = recoveryStartedAtMs === null ? healedAtMs : Math.min(closedAtMs, Math.max(healedAtMs, recoveryStartedAtMs));
  const waitingMs = workStartMs - healedAtMs;
  return { totalMs, waitingMs, workingMs: totalMs - waitingMs };
}
