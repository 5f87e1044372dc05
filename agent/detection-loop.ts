/**
 * The agent's one timer: it runs the detector's checks on a fixed-rate grid and the
 * periodic report, and sleeps through checks that have nothing to do.
 *
 * Fixed rate: checks are planned from the start time (start + k·interval), and each run
 * is told when it was due. A run much later than planned means this process was paused
 * or starved, which lowers its own health score (Lifeguard), and its silence must not
 * be blamed on peers; `setInterval` hides that lateness. After a stall the one late run
 * carries the earliest missed slot as its due time, then the plan resumes at the next
 * slot in the future (slots slept through are not replayed).
 *
 * Fewer wakeups: an agent at 250 ms heartbeats spends most of its CPU waking up, not
 * working (each wakeup runs with cold caches). Of the `checksPerInterval` checks per
 * heartbeat interval, a healthy cluster needs one (the heartbeat check): the others look
 * at no peer, since every peer was heard recently. So after each run the loop asks how
 * many coming checks are idle and sets its one timer for the first busy check or the
 * next report, whichever comes first; an arrival that makes an earlier check busy calls
 * `replan`. A check that does run is told how many idle ones were skipped.
 *
 * Aligned to the clock: the agent starts the grid on a multiple of the heartbeat interval
 * since the epoch (`firstCheckAtMs`), so agents whose clocks agree (NTP keeps them within
 * milliseconds) send their heartbeats at the same moment, and each receives its peers'
 * heartbeats in one burst while it is awake for its own check, instead of one wakeup per
 * datagram. Clocks that disagree lose only that saving.
 */

/** What the loop drives. */
export interface DetectionLoopOptions {
  /** Time between two planned checks (ms): the heartbeat interval over `checksPerInterval`. */
  checkIntervalMs: number;
  /** When the first check is due (ms since epoch); default one check interval from now. */
  firstCheckAtMs?: number;
  /** Time between two periodic reports (ms), planned at a fixed rate like the checks from the first check. */
  reportIntervalMs: number;
  /** The clock (ms since epoch). */
  nowMs: () => number;
  /** Runs the check due at `scheduledAtMs`, now `nowMs`, after `idleChecksSkipped` idle ones slept through. */
  check(nowMs: number, scheduledAtMs: number, idleChecksSkipped: number): void;
  /** How many checks, from the one due at `firstAtMs` on (one per `checkIntervalMs`), have nothing to do. */
  idleChecksAhead(firstAtMs: number, checkIntervalMs: number): number;
  /** Writes the periodic report. */
  report(): void;
}

/** A running loop. */
export interface DetectionLoop {
  /** Plans again after an arrival that may have made an earlier check busy (cheap when it did not). */
  replan(): void;
  /** Stops future runs. */
  stop(): void;
}

/** Plans the next slot after a run at `ranAtMs` of the slot due at `scheduledAtMs`, skipping slots slept through. */
function nextSlotAfter(scheduledAtMs: number, ranAtMs: number, intervalMs: number): number {
  const next = scheduledAtMs + intervalMs;
  return next > ranAtMs ? next : next + Math.ceil((ranAtMs - next + 1) / intervalMs) * intervalMs;
}

/**
 * Starts the loop: the first check is due at `firstCheckAtMs` (default one check interval
 * after `nowMs()`), the first report one report interval after that.
 */
export function startDetectionLoop(options: DetectionLoopOptions): DetectionLoop {
  const { checkIntervalMs, reportIntervalMs, nowMs } = options;
  if (!(checkIntervalMs >= 1) || !(reportIntervalMs >= 1)) throw new RangeError('checkIntervalMs and reportIntervalMs must be at least 1');
  /** The next slot on the grid that has not run or been skipped yet. */
  let nextSlotAtMs = options.firstCheckAtMs ?? nowMs() + checkIntervalMs;
  let nextReportAtMs = nextSlotAtMs + reportIntervalMs;
  /** Idle slots between `nextSlotAtMs` and the slot the timer is set for. */
  let idleSlots = 0;
  let armedAtMs = Number.POSITIVE_INFINITY;
  let handle: NodeJS.Timeout | null = null;
  let stopped = false;

  const plannedCheckAtMs = () => nextSlotAtMs + idleSlots * checkIntervalMs;
  const arm = (atMs: number) => {
    if (handle !== null) clearTimeout(handle);
    armedAtMs = atMs;
    handle = setTimeout(fire, Math.max(0, atMs - nowMs()));
  };
  const plan = () => {
    idleSlots = Math.max(0, Math.floor(options.idleChecksAhead(nextSlotAtMs, checkIntervalMs)));
    arm(Math.min(plannedCheckAtMs(), nextReportAtMs));
  };
  function fire() {
    handle = null;
    const ranAtMs = nowMs();
    // The timer was set for the earlier of the two; whatever was due by then runs now (a timer may fire a fraction of a millisecond early).
    const checkAtMs = plannedCheckAtMs();
    if (checkAtMs <= armedAtMs) {
      options.check(ranAtMs, checkAtMs, idleSlots);
      nextSlotAtMs = nextSlotAfter(checkAtMs, ranAtMs, checkIntervalMs);
    }
    if (nextReportAtMs <= armedAtMs) {
      options.report();
      nextReportAtMs = nextSlotAfter(nextReportAtMs, ranAtMs, reportIntervalMs);
    }
    if (!stopped) plan();
  }
  plan();
  return {
    replan() {
      if (stopped) return;
      // Planned-idle slots already past stay skipped; only the ones still ahead are looked at again.
      const passed = Math.max(0, Math.ceil((nowMs() - nextSlotAtMs) / checkIntervalMs));
      if (passed >= idleSlots) return;
      const idle = passed + Math.max(0, Math.floor(options.idleChecksAhead(nextSlotAtMs + passed * checkIntervalMs, checkIntervalMs)));
      if (idle >= idleSlots) return;
      idleSlots = idle;
      if (plannedCheckAtMs() < armedAtMs) arm(plannedCheckAtMs());
    },
    stop() {
      stopped = true;
      if (handle !== null) clearTimeout(handle);
      handle = null;
    },
  };
}
