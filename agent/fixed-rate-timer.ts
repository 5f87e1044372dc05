/**
 * A fixed-rate timer that tells each run when it was due. The detection loop needs
 * both times: a run much later than planned means this process was paused or starved,
 * which lowers its own health score (Lifeguard), and its silence must not be blamed on
 * peers. `setInterval` hides that lateness, so runs are planned from the start time
 * (start + k·interval) and a stall skips the missed slots instead of replaying them.
 */

/** A running timer. */
export interface FixedRateTimer {
  /** Stops future runs. */
  stop(): void;
}

/**
 * Calls `run(nowMs, scheduledAtMs)` every `intervalMs`, starting one interval after
 * `nowMs()`. After a stall, the one late run carries the earliest missed slot as its due
 * time, then the plan resumes at the next slot in the future.
 */
export function startFixedRateTimer(intervalMs: number, nowMs: () => number, run: (nowMs: number, scheduledAtMs: number) => void): FixedRateTimer {
  if (!(intervalMs >= 1)) throw new RangeError('intervalMs must be at least 1');
  let scheduledAtMs = nowMs() + intervalMs;
  let handle: NodeJS.Timeout | null = null;
  const arm = () => {
    handle = setTimeout(fire, Math.max(0, scheduledAtMs - nowMs()));
  };
  const fire = () => {
    const ranAtMs = nowMs();
    run(ranAtMs, scheduledAtMs);
    scheduledAtMs += intervalMs;
    // Slots slept through are skipped; the lateness was already reported once.
    if (scheduledAtMs <= ranAtMs) scheduledAtMs += Math.ceil((ranAtMs - scheduledAtMs + 1) / intervalMs) * intervalMs;
    if (handle !== null) arm();
  };
  arm();
  return {
    stop() {
      if (handle !== null) clearTimeout(handle);
      handle = null;
    },
  };
}
