/**
 * Samples divergence of open partitions exactly (the keys that changed on some
 * replica since the partition began and are not the same everywhere, over the key
 * space), saves the samples and each partition's divergence ledger, and feeds the
 * ratio to the lifecycle. Also samples the number of active partitions per cluster.
 */
import { hlcFloor } from '../../core/hlc';
import { type DivergenceLedger, createDivergenceLedger, divergenceSinceRatio, recordDivergence, recordWrites } from '../../core/reconcile/divergence';
import type { Entry, Lanes, OrchestratorDeps } from './orchestrator-types';

export class DivergenceSampler {
  private sampling = false;

  constructor(
    private readonly deps: Pick<OrchestratorDeps, 'store' | 'driver' | 'connectedNodes' | 'clusterIds' | 'writesAccepted' | 'logger' | 'nowMs'>,
    private readonly lanes: Lanes,
  ) {}

  /** One round: active partitions per cluster, then each open partition's divergence. Overlapping rounds are skipped. */
  async sampleAll(): Promise<void> {
    if (this.sampling) return;
    this.sampling = true;
    try {
      const activeByCluster = new Map<string, number>();
      const partitionIds: string[] = [];
      for (const [partitionId, entry] of this.lanes.entries()) {
        partitionIds.push(partitionId);
        activeByCluster.set(entry.clusterId, (activeByCluster.get(entry.clusterId) ?? 0) + 1);
      }
      const atMs = this.deps.nowMs();
      for (const clusterId of this.deps.clusterIds()) {
        await this.deps.store
          .recordSamples([{ clusterId, name: 'active_partitions', value: activeByCluster.get(clusterId) ?? 0, atMs }])
          .catch((error: unknown) => this.deps.logger.warn({ err: error, clusterId }, 'active-partitions sample failed'));
      }
      for (const partitionId of partitionIds) {
        await this.sample(partitionId).catch((error: unknown) => this.deps.logger.warn({ err: error, partitionId }, 'divergence sample failed'));
      }
    } finally {
      this.sampling = false;
    }
  }

  /** Samples one open partition; null when it is not open or not every connected replica answered. */
  async sample(partitionId: string): Promise<number | null> {
    const entry = this.lanes.entry(partitionId);
    if (!entry) return null;
    const nodeIds = this.deps.connectedNodes(entry.clusterId);
    const since = hlcFloor(Math.max(0, (entry.state.detectedAtMs ?? this.deps.nowMs()) - entry.state.policy.collectLookbackMs));
    const [{ replicas, failed }, digests] = await Promise.all([
      this.deps.driver.collectAll(entry.clusterId, nodeIds, `sample:${partitionId}`, since),
      this.deps.driver.digests(entry.clusterId, nodeIds, `sample:${partitionId}`),
    ]);
    if (replicas.length < 2 || failed.length > 0) return null;
    const totalKeys = Math.max(0, ...[...digests.values()].map((digest) => digest.keyCount));
    const { ratio } = divergenceSinceRatio(replicas, totalKeys);
    const nowMs = this.deps.nowMs();
    const durationS = Math.max(0, (nowMs - (entry.state.detectedAtMs ?? nowMs)) / 1000);
    await this.deps.store.recordSamples([
      { clusterId: entry.clusterId, partitionId, name: 'divergence_ratio', value: ratio, atMs: nowMs },
      { clusterId: entry.clusterId, partitionId, name: 'partition_duration_s', value: durationS, atMs: nowMs },
    ]);
    await this.deps.store.raiseDivergenceMax(partitionId, ratio);
    await this.updateLedger(entry, (ledger) => recordDivergence(this.withWrites(entry, ledger), nowMs, ratio));
    await this.lanes.feed(partitionId, entry.clusterId, { type: 'divergence-measured', ratio });
    return ratio;
  }

  /** The ledger with writes per side recounted from the nodes' counters since detection. */
  withWrites(entry: Entry, ledger: DivergenceLedger): DivergenceLedger {
    let next: DivergenceLedger = { ...ledger, writesAcceptedBySide: ledger.sides.map(() => 0) };
    for (const [nodeId, count] of this.deps.writesAccepted(entry.clusterId)) {
      next = recordWrites(next, nodeId, count - (entry.writesAtStart.get(nodeId) ?? count));
    }
    return next;
  }

  /** Applies a change to the partition's ledger (created on first use) and saves it; saves are chained so a late one never overwrites a newer ledger. */
  updateLedger(entry: Entry, change: (ledger: DivergenceLedger) => DivergenceLedger): Promise<void> {
    const sides = entry.state.facts?.sides ?? [];
    entry.ledger = change(entry.ledger ?? createDivergenceLedger(entry.state.partitionId, sides));
    const snapshot = entry.ledger;
    entry.ledgerSaved = entry.ledgerSaved.then(() => this.deps.store.saveLedger(entry.state.partitionId, snapshot));
    return entry.ledgerSaved;
  }
}
