/**
 * Runs each open partition's lifecycle (core/lifecycle) on the server: feeds it
 * the debounced verdicts, heals, divergence samples, operator decisions and
 * clock ticks, and carries out its effects in order: persist first (timeline
 * events and the partition's state), then commands to agents, alerts, recovery
 * runs, and finally pushes. Effects of one partition run one step at a time.
 */
import type { PartitionVerdict } from '../core/classify-partition';
import { estimateDivergenceRatio } from '../core/digest';
import { type DivergenceLedger, createDivergenceLedger, divergenceSinceRatio, recordDivergence, recordReconciliation, recordWrites } from '../core/reconcile/divergence';
import { hlcFloor } from '../core/hlc';
import {
  type LifecycleEffect,
  type LifecycleEvent,
  type PartitionLifecycleState,
  createPartitionLifecycle,
  stepPartition,
} from '../core/lifecycle/partition-lifecycle';
import { type ClusterPolicy, type PartitionFacts, type RecoveryStrategy, defaultClusterPolicy } from '../core/policy/cluster-policy';
import { buildDryRun } from '../core/policy/dry-run';
import { resolvers } from '../core/reconcile/resolver';
import type { PartitionSummary, RecoveryRunView } from '../core/realtime-contract';
import type { Prisma, PrismaClient } from '../generated/prisma/client';
import type { AlertsService } from './alerts-service';
import { type PartitionRepository, toPartitionSummary } from './db/partition-repository';
import type { Logger } from './logger';
import type { ReconciliationDriver } from './reconciliation-driver';
import type { RecoveryExecutor, RecoveryService } from './recovery-service';

/** How often acknowledged alerts are checked for a timed-out acknowledgement (ms). */
export const acknowledgementCheckMs = 5000;
/** How often lifecycles are ticked to check the return-to-Normal gate and thresholds (ms). */
export const lifecycleTickMs = 1000;

/** What the runner needs from the rest of the server. */
export interface LifecycleRunnerDeps {
  prisma: PrismaClient;
  partitions: PartitionRepository;
  alerts: Pick<AlertsService, 'raise' | 'resolveForPartition' | 'reescalateStale'>;
  recovery: RecoveryService;
  driver: ReconciliationDriver;
  /** Nodes of a cluster whose agents are connected now. */
  connectedNodes: (clusterId: string) => string[];
  /** Every known cluster (for per-cluster samples). */
  clusterIds: () => string[];
  /** Writes each node's store accepted so far (cumulative counters from reports). */
  writesAccepted: (clusterId: string) => Map<string, number>;
  /** Sends a fence/unfence to agents; failures are logged, the next step re-sends. */
  sendDataPlane: (clusterId: string, nodeIds: string[], command: Extract<LifecycleEffect, { kind: 'send-command' }>['command']) => Promise<void>;
  /** An acknowledged alert still open this long after its acknowledgement fires again (ms). */
  acknowledgementTimeoutMs: number;
  /** The policy of a cluster. */
  policyFor: (clusterId: string) => ClusterPolicy;
  /** Called after the partition row changed (saved), to push it and update the cluster view. */
  partitionChanged: (summary: PartitionSummary) => void;
  logger: Logger;
  nowMs: () => number;
}

/** One running lifecycle and its serialisation chain. */
interface Entry {
  state: PartitionLifecycleState;
  clusterId: string;
  chain: Promise<void>;
  /** Set while a reconciliation runs, to cancel it. */
  cancelled: boolean;
  /** The divergence ledger, from the first observation on. */
  ledger: DivergenceLedger | null;
  /** Each node's write counter when the partition was detected. */
  writesAtStart: Map<string, number>;
  /** The latest ledger save, so saves happen in order. */
  ledgerSaved: Promise<void>;
}

/** The facts a lifecycle decides on, from a classifier verdict. */
export function factsOf(verdict: PartitionVerdict, divergenceRatio: number | null): PartitionFacts {
  return {
    type: verdict.type ?? 'partial',
    sides: verdict.components,
    majorityIndex: verdict.majorityIndex,
    byzantineEvidence: verdict.byzantine.nodes.length > 0 || verdict.byzantine.links.length > 0,
    divergenceRatio,
    flapCount: 0,
  };
}

const alertRuleOf = (reason: string): string => {
  if (reason.startsWith('threshold: ')) return reason.slice('threshold: '.length);
  if (reason.startsWith('emergency')) return 'emergency-mode';
  if (reason.startsWith('reconciliation escalated')) return 'reconciliation-escalated';
  if (reason.startsWith('recovery rejected')) return 'recovery-rejected';
  return 'partition-detected';
};

export class LifecycleRunner implements RecoveryExecutor {
  private readonly entries = new Map<string, Entry>();
  private tickTimer: NodeJS.Timeout | null = null;
  private sampleTimer: NodeJS.Timeout | null = null;
  private ackTimer: NodeJS.Timeout | null = null;
  private sampling = false;

  constructor(private readonly deps: LifecycleRunnerDeps) {}

  /** Starts the clock ticks (gates, thresholds) and divergence sampling. */
  start(divergenceSampleMs: number): void {
    this.tickTimer = setInterval(() => {
      for (const [partitionId, entry] of this.entries) void this.feed(partitionId, entry.clusterId, { type: 'tick' });
    }, lifecycleTickMs);
    this.ackTimer = setInterval(() => {
      this.deps.alerts
        .reescalateStale(this.deps.acknowledgementTimeoutMs)
        .then((fired) => fired.forEach((alert) => this.deps.logger.warn({ alert: alert.id, rule: alert.rule }, 'acknowledgement timed out; alert fires again')))
        .catch((error: unknown) => this.deps.logger.warn({ err: error }, 'acknowledgement check failed'));
    }, acknowledgementCheckMs);
    this.sampleTimer = setInterval(() => void this.sampleAll(), divergenceSampleMs);
  }

  stop(): void {
    if (this.tickTimer) clearInterval(this.tickTimer);
    if (this.sampleTimer) clearInterval(this.sampleTimer);
    if (this.ackTimer) clearInterval(this.ackTimer);
    for (const entry of this.entries.values()) entry.cancelled = true;
  }

  private async sampleAll(): Promise<void> {
    if (this.sampling) return;
    this.sampling = true;
    try {
      const activeByCluster = new Map<string, number>();
      for (const entry of this.entries.values()) activeByCluster.set(entry.clusterId, (activeByCluster.get(entry.clusterId) ?? 0) + 1);
      const at = new Date(this.deps.nowMs());
      for (const clusterId of this.deps.clusterIds()) {
        await this.deps.prisma.metricSample
          .create({ data: { clusterId, name: 'active_partitions', value: activeByCluster.get(clusterId) ?? 0, at } })
          .catch((error: unknown) => this.deps.logger.warn({ err: error, clusterId }, 'active-partitions sample failed'));
      }
      for (const partitionId of [...this.entries.keys()]) {
        await this.sampleDivergence(partitionId).catch((error: unknown) => this.deps.logger.warn({ err: error, partitionId }, 'divergence sample failed'));
      }
    } finally {
      this.sampling = false;
    }
  }

  /** The lifecycle of an open partition, or null. */
  find(partitionId: string): PartitionLifecycleState | null {
    return this.entries.get(partitionId)?.state ?? null;
  }

  /** Partitions with a running lifecycle. */
  activeIds(): string[] {
    return [...this.entries.keys()];
  }

  /** Restores a lifecycle saved in a partition's detail (after a restart). */
  restore(partitionId: string, clusterId: string, saved: PartitionLifecycleState | null): void {
    const state = saved ?? createPartitionLifecycle(partitionId, clusterId, this.deps.policyFor(clusterId));
    this.entries.set(partitionId, { state, clusterId, chain: Promise.resolve(), cancelled: false, ledger: null, writesAtStart: this.deps.writesAccepted(clusterId), ledgerSaved: Promise.resolve() });
    if (state.state === 'ReconciliationMode' && state.recoveryStartedAtMs !== null && !state.reconciliationVerified) {
      this.enqueue(partitionId, async () => {
        await this.runReconciliation(partitionId, null);
      });
    }
  }

  /** Feeds an event; resolves when its effects are carried out. */
  feed(partitionId: string, clusterId: string, event: LifecycleEvent): Promise<void> {
    if (!this.entries.has(partitionId)) {
      this.entries.set(partitionId, {
        state: createPartitionLifecycle(partitionId, clusterId, this.deps.policyFor(clusterId)),
        clusterId,
        chain: Promise.resolve(),
        cancelled: false,
        ledger: null,
        writesAtStart: this.deps.writesAccepted(clusterId),
        ledgerSaved: Promise.resolve(),
      });
    }
    return this.enqueue(partitionId, () => this.step(partitionId, event));
  }

  /** Runs `work` after everything queued for the partition. */
  private enqueue(partitionId: string, work: () => Promise<void>): Promise<void> {
    const entry = this.entries.get(partitionId);
    if (!entry) return Promise.resolve();
    const next = entry.chain.then(work).catch((error: unknown) => this.deps.logger.error({ err: error, partitionId }, 'lifecycle step failed'));
    entry.chain = next;
    return next;
  }

  private async step(partitionId: string, event: LifecycleEvent): Promise<void> {
    const entry = this.entries.get(partitionId);
    if (!entry) return;
    const { state, effects } = stepPartition(entry.state, event, this.deps.nowMs());
    if (state === entry.state && effects.length === 0) return;
    entry.state = state;
    await this.saveState(partitionId, state);
    for (const effect of effects) await this.carryOut(entry, effect);
    if (state.closedAtMs !== null) await this.close(partitionId, state);
  }

  private async saveState(partitionId: string, state: PartitionLifecycleState): Promise<void> {
    await this.deps.prisma.partition.update({
      where: { id: partitionId },
      data: { state: state.state, lifecycle: state as unknown as Prisma.InputJsonValue },
    });
  }

  private async carryOut(entry: Entry, effect: LifecycleEffect): Promise<void> {
    const { prisma, logger } = this.deps;
    switch (effect.kind) {
      case 'persist-transition': {
        const t = effect.transition;
        await prisma.partitionEvent.create({
          data: {
            partitionId: t.partitionId,
            at: new Date(t.atMs),
            kind: 'transition',
            state: t.to,
            cause: t.cause,
            actor: t.actor.kind === 'operator' ? t.actor.name : 'system',
            data: { from: t.from, to: t.to, name: t.name },
          },
        });
        return;
      }
      case 'persist-decision': {
        const d = effect.decision;
        await prisma.partitionEvent.create({
          data: { partitionId: d.partitionId, at: new Date(d.atMs), kind: 'decision', cause: `${d.decision}: ${d.reason}`, actor: d.actor, data: { decision: d.decision } },
        });
        return;
      }
      case 'send-command':
        await this.deps.sendDataPlane(entry.clusterId, effect.nodeIds, effect.command);
        return;
      case 'raise-alert':
        await this.deps.alerts.raise({
          clusterId: entry.clusterId,
          partitionId: effect.partitionId,
          rule: alertRuleOf(effect.reason),
          severity: effect.severity,
          title: effect.reason,
        });
        return;
      case 'resolve-alert':
        await this.deps.alerts.resolveForPartition(effect.partitionId);
        return;
      case 'request-approval':
        await this.requestRecovery(entry, 'manual');
        return;
      case 'start-recovery':
        await this.startRecovery(entry, effect);
        return;
      case 'cancel-recovery':
        entry.cancelled = true;
        await this.abortOpenRuns(effect.partitionId, effect.reason);
        return;
      case 'emit': {
        const row = await prisma.partition.findUnique({ where: { id: effect.partitionId } });
        if (row) this.deps.partitionChanged(toPartitionSummary(row));
        return;
      }
      default:
        logger.warn({ effect }, 'unknown lifecycle effect');
    }
  }

  /** Builds the dry run from the replicas' real changes and opens a recovery run. */
  private async requestRecovery(entry: Entry, strategy: RecoveryStrategy): Promise<RecoveryRunView | null> {
    const { state } = entry;
    const open = await this.deps.recovery.list({ partitionId: state.partitionId, status: ['pending-approval', 'approved', 'running', 'paused'], limit: 1 });
    if (open.length > 0) return open[0]!;
    let plan;
    if (state.facts && state.strategy) {
      const nodeIds = state.facts.sides.flat();
      const since = hlcFloor(Math.max(0, (state.detectedAtMs ?? this.deps.nowMs()) - state.policy.collectLookbackMs));
      const { replicas } = await this.deps.driver.collectAll(entry.clusterId, nodeIds, `dry-run:${state.partitionId}`, since);
      plan = buildDryRun({ partitionId: state.partitionId, facts: state.facts, policy: state.policy, strategy: state.strategy, replicas });
    }
    return this.deps.recovery.request({ partitionId: state.partitionId, strategy, requestedBy: 'system', ...(plan ? { plan } : {}) });
  }

  /**
   * Starts recovery: an already approved run (a manual one the operator approved) is
   * reconciled now; otherwise a run is requested, and the recovery service calls
   * back (`approved` for automatic, `runStage` for phased).
   */
  private async startRecovery(entry: Entry, effect: Extract<LifecycleEffect, { kind: 'start-recovery' }>): Promise<void> {
    entry.cancelled = false;
    const open = await this.deps.recovery.list({ partitionId: effect.partitionId, status: ['approved', 'running'], limit: 1 });
    const existing = open[0];
    if (existing) {
      if (existing.strategy !== 'phased') {
        void this.enqueue(effect.partitionId, async () => {
          await this.runReconciliation(effect.partitionId, existing.id);
        });
      }
      return;
    }
    await this.requestRecovery(entry, effect.strategy === 'manual' ? 'automatic' : effect.strategy);
  }

  private async abortOpenRuns(partitionId: string, reason: string): Promise<void> {
    const open = await this.deps.recovery.list({ partitionId, status: ['pending-approval', 'approved', 'running', 'paused'], limit: 10 });
    for (const run of open) await this.deps.recovery.abort(run.id, 'system', reason).catch(() => undefined);
  }

  /** Reconciles every replica of the partition and tells the lifecycle how it went. */
  private async runReconciliation(partitionId: string, recoveryRunId: string | null, nodeIdsOverride?: string[]): Promise<boolean> {
    const entry = this.entries.get(partitionId);
    if (!entry?.state.facts) return false;
    const { state } = entry;
    const facts = state.facts!;
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
        void this.updateLedger(entry, (ledger) => recordReconciliation(this.withWrites(entry, ledger), progress)).catch(() => undefined);
      },
    });
    await this.updateLedger(entry, (ledger) => recordReconciliation(this.withWrites(entry, ledger), run));
    const verified = run.phase === 'completed';
    const report = run.report;
    await this.deps.prisma.reconciliationReport.create({
      data: {
        partitionId,
        recoveryRunId,
        status: verified ? 'succeeded' : 'escalated',
        keysCompared: report?.keysCompared ?? 0,
        conflicts: report?.conflictCount ?? 0,
        bytesMoved: report?.bytesMoved ?? 0,
        durationMs: this.deps.nowMs() - startedAtMs,
        attempts: run.attempt,
        detail: { report, failure: run.failure, nodeIds } as unknown as Prisma.InputJsonValue,
      },
    });
    if (nodeIdsOverride) return verified;
    if (recoveryRunId) await this.deps.recovery.finish(recoveryRunId, verified ? 'succeeded' : 'failed', run.failure ?? undefined).catch(() => undefined);
    await this.step(partitionId, verified
      ? { type: 'reconciliation-completed', verified: true, summary: `${report?.keysCompared ?? 0} keys compared, ${report?.conflictCount ?? 0} conflicts` }
      : { type: 'reconciliation-escalated', reason: run.failure ?? 'reconciliation failed' });
    return verified;
  }

  /** Closes the partition row when its lifecycle is back in Normal. */
  private async close(partitionId: string, state: PartitionLifecycleState): Promise<void> {
    const recoveryMs = state.healedAtMs === null || state.closedAtMs === null ? null : state.closedAtMs - state.healedAtMs;
    const summary = await this.deps.partitions.close(partitionId, state.closedAtMs ?? this.deps.nowMs(), 'recovered', 'replicas verified and stable', recoveryMs);
    const at = new Date(state.closedAtMs ?? this.deps.nowMs());
    await this.deps.prisma.metricSample.createMany({
      data: [
        // Reconciliation verified every replica's digest: nothing differs any more.
        { clusterId: state.clusterId, partitionId, name: 'divergence_ratio', value: 0, at },
        ...(recoveryMs !== null ? [{ clusterId: state.clusterId, partitionId, name: 'recovery_time_ms', value: recoveryMs, at }] : []),
      ],
    });
    this.entries.delete(partitionId);
    this.deps.partitionChanged(summary);
  }

  /** Digests of every connected replica of a cluster, taken with writes held (for operators and tests). */
  digestsOf(clusterId: string) {
    return this.deps.driver.quiescedDigests(clusterId, this.deps.connectedNodes(clusterId), `inspect:${clusterId}`);
  }

  /**
   * Samples divergence of an open partition exactly: the keys that changed on some
   * replica since the partition began and are not the same everywhere, over the key
   * space. Stores it (and the duration) as samples and feeds it to the lifecycle.
   */
  async sampleDivergence(partitionId: string): Promise<number | null> {
    const entry = this.entries.get(partitionId);
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
    await this.deps.prisma.metricSample.createMany({
      data: [
        { clusterId: entry.clusterId, partitionId, name: 'divergence_ratio', value: ratio, at: new Date(nowMs) },
        { clusterId: entry.clusterId, partitionId, name: 'partition_duration_s', value: durationS, at: new Date(nowMs) },
      ],
    });
    await this.deps.prisma.partition.updateMany({ where: { id: partitionId, divergenceMax: { lt: ratio } }, data: { divergenceMax: ratio } });
    await this.updateLedger(entry, (ledger) => recordDivergence(this.withWrites(entry, ledger), nowMs, ratio));
    await this.feed(partitionId, entry.clusterId, { type: 'divergence-measured', ratio });
    return ratio;
  }

  /** The ledger with writes per side recounted from the nodes' counters since detection. */
  private withWrites(entry: Entry, ledger: DivergenceLedger): DivergenceLedger {
    let next: DivergenceLedger = { ...ledger, writesAcceptedBySide: ledger.sides.map(() => 0) };
    for (const [nodeId, count] of this.deps.writesAccepted(entry.clusterId)) {
      next = recordWrites(next, nodeId, count - (entry.writesAtStart.get(nodeId) ?? count));
    }
    return next;
  }

  /** Applies a change to the partition's ledger (created on first use) and saves it. */
  private updateLedger(entry: Entry, change: (ledger: DivergenceLedger) => DivergenceLedger): Promise<void> {
    const sides = entry.state.facts?.sides ?? [];
    entry.ledger = change(entry.ledger ?? createDivergenceLedger(entry.state.partitionId, sides));
    const snapshot = entry.ledger;
    // Saves are chained so that a late progress save never overwrites a newer ledger.
    entry.ledgerSaved = entry.ledgerSaved.then(async () => {
      await this.deps.prisma.partition.update({
        where: { id: entry.state.partitionId },
        data: { ledger: snapshot as unknown as Prisma.InputJsonValue },
      });
    });
    return entry.ledgerSaved;
  }

  // RecoveryExecutor: called by the recovery service when operators act.

  approved(run: RecoveryRunView): void {
    const entry = this.entries.get(run.partitionId);
    if (!entry) return;
    if (entry.state.awaitingApproval) {
      void this.feed(run.partitionId, entry.clusterId, { type: 'recovery-approved', actor: run.decidedBy ?? 'operator', reason: run.reason ?? '' });
    } else {
      void this.enqueue(run.partitionId, async () => {
        await this.runReconciliation(run.partitionId, run.id);
      });
    }
  }

  rejected(run: RecoveryRunView): void {
    const entry = this.entries.get(run.partitionId);
    if (!entry) return;
    void this.feed(run.partitionId, entry.clusterId, { type: 'recovery-rejected', actor: run.decidedBy ?? 'operator', reason: run.reason ?? '' });
  }

  runStage(run: RecoveryRunView, effect: Parameters<RecoveryExecutor['runStage']>[1]): void {
    void this.enqueue(run.partitionId, () => this.runPhasedStage(run, effect));
  }

  aborted(run: RecoveryRunView): void {
    const entry = this.entries.get(run.partitionId);
    if (entry) entry.cancelled = true;
  }

  /** One stage of a phased plan: unfence the group, sync it with those already back, verify. */
  private async runPhasedStage(run: RecoveryRunView, effect: Parameters<RecoveryExecutor['runStage']>[1]): Promise<void> {
    const entry = this.entries.get(run.partitionId);
    if (!entry?.state.facts) return;
    const group = effect.nodeIds;
    const joined = [...new Set([...effect.rejoinedNodeIds, ...group])].sort();
    let ok = true;
    let reason: string | undefined;
    try {
      if (effect.stage === 'unfence') {
        await this.deps.sendDataPlane(entry.clusterId, group, { type: 'unfence', partitionId: run.partitionId });
      } else if (effect.stage === 'sync') {
        ok = await this.runReconciliation(run.partitionId, run.id, joined);
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
    const updated = await this.deps.recovery.recordStage(run.id, { groupIndex: effect.groupIndex, stage: effect.stage, ok, ...(reason ? { reason } : {}) });
    if (updated.status === 'succeeded') {
      await this.step(run.partitionId, { type: 'reconciliation-completed', verified: true, summary: 'phased recovery completed' });
    } else if (updated.status === 'failed') {
      await this.step(run.partitionId, { type: 'reconciliation-escalated', reason: reason ?? 'phased recovery failed' });
    }
  }
}

/** The default policy, with the stability window and alert thresholds taken from configuration. */
export function clusterPolicy(overrides: { stabilityWindowMs: number; thresholds: ClusterPolicy['thresholds'] }): ClusterPolicy {
  return { ...defaultClusterPolicy, stabilityWindowMs: overrides.stabilityWindowMs, thresholds: overrides.thresholds };
}
