/**
 * When each cluster is evaluated (classified, its partition driven, its snapshot
 * pushed) while reports stream in. Classifying is O(N²) in the cluster's nodes (about
 * 10 ms at 1,000 nodes), and running it on every report made ingest O(N³) per
 * heartbeat interval: 1,000 agents reporting 4 times a second asked for 40 s of
 * classifier time every second. A report now only marks its cluster; the evaluation
 * runs on the next turn of the event loop (reports that arrived meanwhile share it),
 * and when evaluations are costly they are spaced so that their measured cost stays
 * within `evaluationShareMax` of the server's time. A small cluster, whose evaluation
 * takes microseconds, is still evaluated right after each report.
 */

/** Share of the server's time one cluster's evaluations may take while reports stream in. */
export const evaluationShareMax = 0.25;
/** Longest a report waits for its cluster's evaluation (ms), however costly it is. */
export const evaluationDelayMaxMs = 200;

/** An evaluation cheaper than this (ms) may run at once on a hello or a connection change. */
export const cheapEvaluationMs = 1;

export class EvaluationScheduler {
  /** Per cluster: the evaluation scheduled and not yet run (how to cancel it). */
  private readonly scheduled = new Map<string, () => void>();
  /** Per cluster: when its last evaluation ended and what it cost (wall-clock ms, `performance.now()`). */
  private readonly costs = new Map<string, { endedAtMs: number; costMs: number }>();
  /** Evaluations run since start. */
  count = 0;
  /** Their total wall-clock time (ms). */
  totalMs = 0;

  /** `evaluate` runs one cluster's evaluation (through `measure`). */
  constructor(private readonly evaluate: (clusterId: string) => void) {}

  /** Evaluates the cluster soon; a no-op when it is already scheduled. */
  schedule(clusterId: string): void {
    if (this.scheduled.has(clusterId)) return;
    const last = this.costs.get(clusterId);
    const spacingMs = last ? Math.min(evaluationDelayMaxMs, last.costMs * (1 / evaluationShareMax - 1)) : 0;
    const waitMs = last ? last.endedAtMs + spacingMs - performance.now() : 0;
    const run = () => {
      this.scheduled.delete(clusterId);
      this.evaluate(clusterId);
    };
    if (waitMs > 0) {
      const timer = setTimeout(run, waitMs);
      this.scheduled.set(clusterId, () => clearTimeout(timer));
    } else {
      const immediate = setImmediate(run);
      this.scheduled.set(clusterId, () => clearImmediate(immediate));
    }
  }

  /** Whether the cluster's last evaluation cost under `cheapEvaluationMs` (or none ran yet): worth running at once. */
  cheap(clusterId: string): boolean {
    return (this.costs.get(clusterId)?.costMs ?? 0) < cheapEvaluationMs;
  }

  /** Runs `work` (one evaluation of the cluster) and records its cost. */
  measure(clusterId: string, work: () => void): void {
    const startedAtMs = performance.now();
    try {
      work();
    } finally {
      const endedAtMs = performance.now();
      this.costs.set(clusterId, { endedAtMs, costMs: endedAtMs - startedAtMs });
      this.count += 1;
      this.totalMs += endedAtMs - startedAtMs;
    }
  }

  /**
   * Runs every scheduled evaluation now, its spacing cut short. For callers that step
   * their own clock (tests): a spacing measured on a loaded machine must not leave a
   * verdict waiting past the moment they read it.
   */
  runScheduled(): void {
    const clusterIds = [...this.scheduled.keys()];
    for (const clusterId of clusterIds) {
      this.scheduled.get(clusterId)?.();
      this.scheduled.delete(clusterId);
      this.evaluate(clusterId);
    }
  }

  /** Cancels every scheduled evaluation (shutdown). */
  cancelAll(): void {
    for (const cancel of this.scheduled.values()) cancel();
    this.scheduled.clear();
  }
}
