/**
 * Recovery runs of a partition's lifecycle: requests a run with the dry run built
 * from the replicas' real changes, reconciles every replica (or one phased stage)
 * through the reconciliation driver, saves the report and the ledger, and tells
 * the lifecycle how it went. Called from a partition's lane, so at most one step
 * of a partition runs at a time.
 */
import { estimateDivergenceRatio } from '../../core/digest';
import { hlcFloor } from '../../core/hlc';
import type { LifecycleEffect } from '../../core/lifecycle/partition-lifecycle';
import type { RecoveryStrategy } from '../../core/policy/cluster-policy';
import { buildDryRun } from '../../core/policy/dry-run';
import type { PhasedPlanEffect } from '../../core/policy/phased-plan';
import { recordReconciliation } from '../../core/reconcile/divergence';
import { resolvers } from '../../core/reconcile/resolver';
import type { RecoveryRunView } from '../../core/realtime-contract';
import type { DivergenceSampler } from './divergence-sampler';
import type { Entry, Lanes, OrchestratorDeps } from './orchestrator-types';

/** A phased plan's request to run one stage. */
export type StageEffect = Extract<PhasedPlanEffect, { kind: 'run-stage' }>;


const openStatuses = ['pending-approval', 'approved', 'running', 'paused'] as const;

export class RecoveryRuns {
  constructor(
    private readonly deps: Pick<OrchestratorDeps, 'recovery' | 'driver' | 'store' | 'sendDataPlane' | 'nowMs'>,
    private readonly lanes: Lanes,
    private readonly sampler: Pick<DivergenceSampler, 'updateLedger' | 'withWrites'>,
  ) {}

  /** Builds the dry run from the replicas' real changes and opens a recovery run (or returns the open one). */
  async request(entry: Entry, strategy: RecoveryStrategy): Promise<RecoveryRunView> {
    const { state } = entry;
    const open = await this.deps.recovery.list({ partitionId: state.partitionId, status: [...openStatuses], limit: 1 });
    if (open.length > 0) return open[0]!;
    let plan;
    if (state.facts && state.strategy) {
      const nodeIds = state.facts.sides.flat();
      const since = hlcFloor(Math.max(0, (state.detectedAtMs ?? this.deps.nowMs()) - state.policy.collectLookbackMs));
      const { replicas } = await this.deps.driver.collectAll(entry.clusterId, nodeIds, `dry-run:${state.partitionId}`, since);
      plan = buildDryRun({ partitionId: state.partitionId, facts: state.facts, policy: state.policy, strategy: state.strategy, replicas });
    }
    const decision = await this.deps.recovery.requestRun({ partitionId: state.partitionId, strategy, requestedBy: 'system', ...(plan ? { plan } : {}) });
    this.lanes.handle(decision.effects);
    return decision.run;
  }

  /**
   * Starts recovery: an already approved run (a manual one the operator approved) is
   * reconciled now; otherwise a run is requested and the effects of that decision
   * start it (`reconcile` for automatic, `run-stage` for phased).
   */
  async start(entry: Entry, effect: Extract<LifecycleEffect, { kind: 'start-recovery' }>): Promise<void> {
    entry.cancelled = false;
    const open = await this.deps.recovery.list({ partitionId: effect.partitionId, status: ['approved', 'running'], limit: 1 });
    const existing = open[0];
    if (existing) {
      if (existing.strategy !== 'phased') void this.lanes.enqueue(effect.partitionId, async () => void (await this.reconcile(effect.partitionId, existing.id)));
      return;
    }
    await this.request(entry, effect.strategy === 'manual' ? 'automatic' : effect.strategy);
  }

  /** Aborts every open run of a partition (it split again, or was cancelled). */
  async abortOpen(partitionId: string, reason: string): Promise<void> {
    const open = await this.deps.recovery.list({ partitionId, status: [...openStatuses], limit: 10 });
    for (const run of open) {
      const decision = await this.deps.recovery.abortRun(run.id, 'system', reason).catch(() => null);
      if (decision) this.lanes.handle(decision.effects);
    }
  }

  /** Reconciles every replica of the partition (or `nodeIdsOverride` only, for a phased sync) and, unless phased, tells the lifecycle. */
  async reconcile(partitionId: string, recoveryRunId: string | null, nodeIdsOverride?: string[]): Promise<boolean> {
    const entry = this.lanes.entry(partitionId);
    const facts = entry?.state.facts;
    if (!entry || !facts) return false;
    const { state } = entry;
    const nodeIds = nodeIdsOverride ?? facts.sides.flat().sort();
    const majorityNodes = facts.majorityIndex === null ? null : (facts.sides[facts.majorityIndex] ?? null);
    if (recoveryRunId) await this.deps.recovery.markRunning(recoveryRunId).catch(() => undefined);
    const startedAtMs = this.deps.nowMs();
    const run = await this.deps.driver.drive({
      clusterId: entry.clusterId,
      partitionId,
      runId: `${recoveryRunId ?? partitionId}:${startedAtMs}`,
      nodeIds,
      majorityNodes,
      since: hlcFloor(Math.max(0, (state.detectedAtMs ?? startedAtMs) - state.policy.collectLookbackMs)),
      resolver: resolvers[state.policy.resolver],
      attemptsMax: state.policy.reconcileAttemptsMax,
      cancelled: () => entry.cancelled,
      onProgress: (progress) => {
        void this.sampler.updateLedger(entry, (ledger) => recordReconciliation(this.sampler.withWrites(entry, ledger), progress)).catch(() => undefined);
      },
    });
    await this.sampler.updateLedger(entry, (ledger) => recordReconciliation(this.sampler.withWrites(entry, ledger), run));
    const verified = run.phase === 'completed';
    const report = run.report;
    await this.deps.store.recordReconciliation({
      partitionId,
      recoveryRunId,
      status: verified ? 'succeeded' : 'escalated',
      keysCompared: report?.keysCompared ?? 0,
      conflicts: report?.conflictCount ?? 0,
      bytesMoved: report?.bytesMoved ?? 0,
      durationMs: this.deps.nowMs() - startedAtMs,
      attempts: run.attempt,
      detail: { report, failure: run.failure, nodeIds },
    });
    if (nodeIdsOverride) return verified;
    if (recoveryRunId) await this.deps.recovery.finish(recoveryRunId, verified ? 'succeeded' : 'failed', run.failure ?? undefined).catch(() => undefined);
    await this.lanes.step(partitionId, verified
      ? { type: 'reconciliation-completed', verified: true, summary: `${report?.keysCompared ?? 0} keys compared, ${report?.conflictCount ?? 0} conflicts` }
      : { type: 'reconciliation-escalated', reason: run.failure ?? 'reconciliation failed' });
    return verified;
  }

  /** One stage of a phased plan: unfence the group, sync it with those already back, verify. */
  async runStage(run: RecoveryRunView, effect: StageEffect): Promise<void> {
    const entry = this.lanes.entry(run.partitionId);
    if (!entry?.state.facts) return;
    const group = effect.nodeIds;
    const joined = [...new Set([...effect.rejoinedNodeIds, ...group])].sort();
    let ok = true;
    let reason: string | undefined;
    try {
      if (effect.stage === 'unfence') {
        await this.deps.sendDataPlane(entry.clusterId, group, { type: 'unfence', partitionId: run.partitionId });
      } else if (effect.stage === 'sync') {
        ok = await this.reconcile(run.partitionId, run.id, joined);
        if (!ok) reason = 'sync did not converge';
      } else {
        const digests = [...(await this.deps.driver.quiescedDigests(entry.clusterId, joined, `verify:${run.id}:${effect.groupIndex}`)).values()];
        ok = digests.length === joined.length && estimateDivergenceRatio(digests) === 0;
        if (!ok) reason = `verification failed: ${digests.length}/${joined.length} digests, divergence ${estimateDivergenceRatio(digests)}`;
      }
    } catch (error) {
      ok = false;
      reason = (error as Error).message;
    }
    const { run: updated, effects } = await this.deps.recovery.recordStageRun(run.id, { groupIndex: effect.groupIndex, stage: effect.stage, ok, ...(reason ? { reason } : {}) });
    this.lanes.handle(effects);
    if (updated.status === 'succeeded') {
      await this.lanes.step(run.partitionId, { type: 'reconciliation-completed', verified: true, summary: 'phased recovery completed' });
    } else if (updated.status === 'failed') {
      await this.lanes.step(run.partitionId, { type: 'reconciliation-escalated', reason: reason ?? 'phased recovery failed' });
    }
  }
}
