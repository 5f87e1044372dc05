/**
 * Turns a cluster's raw verdicts into partitions: the view must be complete
 * enough to judge, the debouncer (core/partition-debounce) decides what is
 * published, and each publication becomes a partition record and a lifecycle
 * event. One write per cluster at a time.
 */
import type { PartitionVerdict } from '../core/classify-partition';
import { type DebounceOptions, initialDebounceState, stepDebounce, verdictShapeKey } from '../core/partition-debounce';
import type { PartitionSummary } from '../core/realtime-contract';
import type { ClusterState } from './cluster-view';
import { type PartitionStore, mostSevere } from './db/partition-repository';
import type { Logger } from './logger';
import { type LifecycleRunner, factsOf } from './recovery/orchestrator';

/** When a verdict counts and how long it must hold. */
export interface PartitionTrackingOptions {
  /** A report older than this no longer counts (ms). */
  staleAfterMs: number;
  /** How long the cluster must look whole before an open partition is closed (ms); at least 4 heartbeat intervals. */
  healStableMs: number;
  /** Heartbeat intervals a partition (or a new shape of one) must hold before it is recorded. */
  openStableIntervals: number;
}

export class PartitionTracker {
  private readonly work = new Map<string, Promise<void>>();

  constructor(
    private readonly deps: {
      partitions: PartitionStore;
      lifecycle: LifecycleRunner | null;
      options: PartitionTrackingOptions;
      startedAtMs: number;
      logger: Logger;
      partitionChanged: (summary: PartitionSummary) => void;
      evaluate: (cluster: ClusterState) => void;
    },
  ) {}

  /** Waits for the partition writes in flight. */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.work.values()]);
  }

  /**
   * Whether the view is complete enough to judge: right after a start nobody has
   * reported yet, and closing a partition on an empty view would be a lie.
   */
  private confident(verdict: PartitionVerdict, cluster: ClusterState, nowMs: number): boolean {
    if (nowMs - this.deps.startedAtMs < this.deps.options.staleAfterMs) return false;
    if (verdict.staleNodes.length * 2 >= cluster.nodes.size) return false;
    // A heal needs fresh word from the nodes that were cut: silence is not a heal.
    const active = cluster.activePartition;
    if (active && !verdict.partitioned && active.nodeIds.some((node) => verdict.staleNodes.includes(node))) return false;
    return true;
  }

  /** Stability windows scaled to the cluster's heartbeat interval. */
  private debounceOptions(cluster: ClusterState): DebounceOptions {
    const intervalMs = cluster.heartbeatIntervalMs;
    const stableMs = Math.round(intervalMs * this.deps.options.openStableIntervals);
    return {
      openStableMs: stableMs,
      changeStableMs: stableMs,
      closeStableMs: Math.max(this.deps.options.healStableMs, intervalMs * 4),
      // The first verdict should be the right one: a shape still moving after 2 intervals opens anyway.
      openSettleMs: stableMs,
      openSettleMaxMs: Math.max(stableMs, 2 * intervalMs),
    };
  }

  /**
   * After a refused open: the database allows one open partition per cluster, and
   * another instance that led a moment ago opened it. This one takes it over with
   * its saved lifecycle; any other failure is thrown on.
   */
  private async adopt(cluster: ClusterState, error: unknown): Promise<null> {
    const existing = await this.deps.partitions.findActive(cluster.clusterId);
    if (!existing) throw error;
    this.deps.logger.warn({ cluster: cluster.clusterId, partition: existing.id }, 'partition already open in the database (opened by another instance); adopted, not opened twice');
    cluster.activePartition = existing;
    this.deps.lifecycle?.restore(existing.id, cluster.clusterId, await this.deps.partitions.findLifecycle(existing.id));
    this.deps.partitionChanged(existing);
    return null;
  }

  /**
   * Feeds the raw verdict through the debouncer and turns what it publishes into
   * partition records and lifecycle events. One write per cluster at a time; the
   * debouncer only advances when no write is in flight, so nothing it publishes is
   * lost. A heal does not end the partition: its lifecycle does, once reconciled.
   */
  drive(cluster: ClusterState, verdict: PartitionVerdict, nowMs: number): void {
    const lifecycle = this.deps.lifecycle;
    if (this.work.has(cluster.clusterId)) return;
    if (!this.confident(verdict, cluster, nowMs)) return;
    const stepped = stepDebounce(cluster.debounce, verdict, nowMs, this.debounceOptions(cluster));
    const event = stepped.events.at(-1);
    if (event) this.deps.logger.info({ cluster: cluster.clusterId, event: event.type, summary: event.verdict.summary }, 'verdict published');
    const active = cluster.activePartition;
    let work: (() => Promise<PartitionSummary | null>) | null = null;
    if (event && event.verdict.partitioned && !active) {
      work = async () => {
        const opened = await this.deps.partitions.open(cluster.clusterId, event.verdict, event.atMs, 'Normal').catch((error: unknown) => this.adopt(cluster, error));
        if (opened === null) return null;
        cluster.activePartition = opened;
        if (!lifecycle) return opened;
        await lifecycle.feed(opened.id, cluster.clusterId, { type: 'partition-observed', facts: factsOf(event.verdict, null) });
        return null; // the lifecycle pushed the partition in its new state
      };
    } else if (event && event.verdict.partitioned && active) {
      work = async () => {
        const changed = changedShape(active, event.verdict) ? await this.deps.partitions.reclassify(active, event.verdict, event.atMs) : null;
        await lifecycle?.feed(active.id, cluster.clusterId, { type: 'partition-observed', facts: factsOf(event.verdict, null) });
        return changed;
      };
    } else if (event?.type === 'closed' && active) {
      work = async () => {
        await this.deps.partitions.recordEvent(active.id, event.atMs, 'healed', 'every link up again');
        if (lifecycle) await lifecycle.feed(active.id, cluster.clusterId, { type: 'partition-healed' });
        else return this.deps.partitions.close(active.id, event.atMs, 'healed', 'every link up again');
        return null;
      };
    }
    if (!work) {
      cluster.debounce = stepped.state;
      return;
    }
    const run = work()
      .then((summary) => {
        cluster.debounce = stepped.state;
        if (summary) this.deps.partitionChanged(summary);
      })
      .catch((error: unknown) => this.deps.logger.error({ err: error, cluster: cluster.clusterId }, 'partition write failed; will retry'))
      .finally(() => {
        this.work.delete(cluster.clusterId);
        this.deps.evaluate(cluster);
      });
    this.work.set(cluster.clusterId, run);
  }
}

/** True when the verdict's type, sides or cut links differ from what the partition records. */
function changedShape(active: PartitionSummary, verdict: PartitionVerdict): boolean {
  return (
    (active.type !== verdict.type && mostSevere(active.type, verdict.type ?? 'partial') !== active.type) ||
    JSON.stringify(active.components) !== JSON.stringify(verdict.components) ||
    JSON.stringify(active.cutLinks) !== JSON.stringify(verdict.cutLinks)
  );
}

/**
 * Seeds a cluster's debouncer from its open partition, for an instance that takes
 * over (or restarts) while one is open: the debouncer must hold a published
 * partition, or a cluster that healed meanwhile would never publish the heal and
 * the partition would stay open for ever. The seed is the current verdict, marked
 * partitioned when it is not, so a healthy view closes it after the usual window.
 * Returns the seed.
 */
export function seedDebounceFromActive(cluster: ClusterState, nowMs: number, staleAfterMs: number): PartitionVerdict | null {
  if (!cluster.activePartition) return null;
  const current = cluster.classify(nowMs, staleAfterMs);
  const seed: PartitionVerdict = current.partitioned ? current : { ...current, partitioned: true, type: cluster.activePartition.type };
  cluster.debounce = { ...initialDebounceState(), published: seed, publishedKey: verdictShapeKey(seed), episode: 1, partitionedSinceMs: nowMs };
  return seed;
}
