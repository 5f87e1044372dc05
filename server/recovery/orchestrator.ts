/**
 * The recovery orchestrator: runs each open partition's lifecycle (core/lifecycle)
 * on the server. It feeds it the debounced verdicts, heals, divergence samples,
 * operator decisions and clock ticks, and hands its effects, in order, to the
 * effect executor (persist first, then commands, alerts, recovery, pushes). Each
 * partition has a lane: its steps run one at a time.
 */
import type { PartitionVerdict } from '../../core/classify-partition';
import { recoveryTimeSplit } from '../../core/lifecycle/recovery-time';
import { type LifecycleEvent, type PartitionLifecycleState, createPartitionLifecycle, stepPartition } from '../../core/lifecycle/partition-lifecycle';
import { type ClusterPolicy, type PartitionFacts, defaultClusterPolicy } from '../../core/policy/cluster-policy';
import { DivergenceSampler } from './divergence-sampler';
import { EffectExecutor } from './effect-executor';
import type { Entry, Lanes, OrchestratorDeps } from './orchestrator-types';
import { RecoveryRuns } from './recovery-runs';
import type { RecoveryEffect } from './recovery-service';

/** The facts a lifecycle decides on, from a classifier verdict. */
export function factsOf(verdict: PartitionVerdict, divergenceRatio: number | null): PartitionFacts {
  return {
    type: verdict.type ?? 'partial',
    sides: verdict.components,
    majorityIndex: verdict.majorityIndex,
    byzantineEvidence: verdict.byzantine.nodes.length > 0 || verdict.byzantine.links.length > 0,
    divergenceRatio,
    flapCount: 0,
    cutLinks: verdict.cutLinks.map((link) => ({ a: link.a, b: link.b })),
  };
}

/** The default policy, with the stability window and alert thresholds taken from configuration. */
export function clusterPolicy(overrides: { stabilityWindowMs: number; thresholds: ClusterPolicy['thresholds'] }): ClusterPolicy {
  return { ...defaultClusterPolicy, stabilityWindowMs: overrides.stabilityWindowMs, thresholds: overrides.thresholds };
}

export class LifecycleRunner implements Lanes {
  private readonly running = new Map<string, Entry>();
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly sampler: DivergenceSampler;
  private readonly runs: RecoveryRuns;
  private readonly executor: EffectExecutor;

  constructor(private readonly deps: OrchestratorDeps) {
    this.sampler = new DivergenceSampler(deps, this);
    this.runs = new RecoveryRuns(deps, this, this.sampler);
    this.executor = new EffectExecutor(deps, this.runs);
  }

  /** Starts the clock ticks (gates, thresholds), acknowledgement checks and divergence sampling (intervals in ms, from the config). */
  start(timers: { lifecycleTickMs: number; acknowledgementCheckMs: number; divergenceSampleMs: number }): void {
    const { lifecycleTickMs, acknowledgementCheckMs, divergenceSampleMs } = timers;
    this.timers.push(
      setInterval(() => {
        for (const [partitionId, entry] of this.running) void this.feed(partitionId, entry.clusterId, { type: 'tick' });
      }, lifecycleTickMs),
      setInterval(() => void this.checkAcknowledgements(), acknowledgementCheckMs),
      setInterval(() => void this.sampler.sampleAll(), divergenceSampleMs),
    );
  }

  stop(): void {
    for (const timer of this.timers.splice(0)) clearInterval(timer);
    for (const entry of this.running.values()) entry.cancelled = true;
  }

  /** Fires again the alerts whose acknowledgement timed out. */
  async checkAcknowledgements(): Promise<void> {
    try {
      const fired = await this.deps.alerts.reescalateStale(this.deps.acknowledgementTimeoutMs);
      for (const alert of fired) this.deps.logger.warn({ alert: alert.id, rule: alert.rule }, 'acknowledgement timed out; alert fires again');
    } catch (error) {
      this.deps.logger.warn({ err: error }, 'acknowledgement check failed');
    }
  }

  /** The lifecycle of an open partition, or null. */
  find(partitionId: string): PartitionLifecycleState | null {
    return this.running.get(partitionId)?.state ?? null;
  }

  /** Partitions with a running lifecycle. */
  activeIds(): string[] {
    return [...this.running.keys()];
  }

  entry(partitionId: string): Entry | undefined {
    return this.running.get(partitionId);
  }

  entries(): Iterable<[string, Entry]> {
    return this.running.entries();
  }

  private open(partitionId: string, clusterId: string, state: PartitionLifecycleState): void {
    this.running.set(partitionId, { state, clusterId, chain: Promise.resolve(), cancelled: false, ledger: null, writesAtStart: this.deps.writesAccepted(clusterId), ledgerSaved: Promise.resolve() });
  }

  /** Restores a lifecycle saved in a partition's detail (after a restart); an unverified reconciliation is run again. */
  restore(partitionId: string, clusterId: string, saved: PartitionLifecycleState | null): void {
    const state = saved ?? createPartitionLifecycle(partitionId, clusterId, this.deps.policyFor(clusterId));
    this.open(partitionId, clusterId, state);
    if (state.state === 'ReconciliationMode' && state.recoveryStartedAtMs !== null && !state.reconciliationVerified) {
      void this.enqueue(partitionId, async () => void (await this.runs.reconcile(partitionId, null)));
    }
  }

  /** Feeds an event; resolves when its effects are carried out. */
  feed(partitionId: string, clusterId: string, event: LifecycleEvent): Promise<void> {
    if (!this.running.has(partitionId)) this.open(partitionId, clusterId, createPartitionLifecycle(partitionId, clusterId, this.deps.policyFor(clusterId)));
    return this.enqueue(partitionId, () => this.step(partitionId, event));
  }

  enqueue(partitionId: string, work: () => Promise<void>): Promise<void> {
    const entry = this.running.get(partitionId);
    if (!entry) return Promise.resolve();
    const next = entry.chain.then(work).catch((error: unknown) => this.deps.logger.error({ err: error, partitionId }, 'lifecycle step failed'));
    entry.chain = next;
    return next;
  }

  async step(partitionId: string, event: LifecycleEvent): Promise<void> {
    const entry = this.running.get(partitionId);
    if (!entry) return;
    const { state, effects } = stepPartition(entry.state, event, this.deps.nowMs());
    if (state === entry.state && effects.length === 0) return;
    entry.state = state;
    await this.deps.store.saveState(partitionId, state);
    await this.executor.carryOutAll(entry, effects);
    if (state.closedAtMs !== null) await this.close(partitionId, state);
  }

  /** Closes the partition when its lifecycle is back in Normal: reconciliation verified that nothing differs any more. */
  private async close(partitionId: string, state: PartitionLifecycleState): Promise<void> {
    const closedAtMs = state.closedAtMs ?? this.deps.nowMs();
    const split = recoveryTimeSplit(state);
    const recoveryMs = split?.totalMs ?? null;
    const summary = await this.deps.store.closeRecovered(partitionId, closedAtMs, recoveryMs);
    const sample = (name: string, value: number) => ({ clusterId: state.clusterId, partitionId, name, value, atMs: closedAtMs });
    await this.deps.store.recordSamples([
      sample('divergence_ratio', 0),
      // The total, and its parts: waiting for the start (an operator's approval) and working.
      ...(split ? [sample('recovery_time_ms', split.totalMs), sample('recovery_wait_ms', split.waitingMs), sample('recovery_work_ms', split.workingMs)] : []),
    ]);
    this.running.delete(partitionId);
    this.deps.partitionChanged(summary);
  }

  /** Digests of every connected replica of a cluster, taken with writes held (for operators and tests). */
  digestsOf(clusterId: string) {
    return this.deps.driver.quiescedDigests(clusterId, this.deps.connectedNodes(clusterId), `inspect:${clusterId}`);
  }

  /** Samples one open partition's divergence now (see DivergenceSampler). */
  sampleDivergence(partitionId: string): Promise<number | null> {
    return this.sampler.sample(partitionId);
  }

  /** What recovery decisions ask for: operators' (published on the recovery events) and the orchestrator's own. */
  handle(effects: RecoveryEffect[]): void {
    for (const effect of effects) {
      const { run } = effect;
      const entry = this.running.get(run.partitionId);
      if (!entry) continue;
      switch (effect.kind) {
        case 'reconcile':
          if (entry.state.awaitingApproval) void this.feed(run.partitionId, entry.clusterId, { type: 'recovery-approved', actor: run.decidedBy ?? 'operator', reason: run.reason ?? '' });
          else void this.enqueue(run.partitionId, async () => void (await this.runs.reconcile(run.partitionId, run.id)));
          break;
        case 'rejected':
          void this.feed(run.partitionId, entry.clusterId, { type: 'recovery-rejected', actor: run.decidedBy ?? 'operator', reason: run.reason ?? '' });
          break;
        case 'run-stage':
          void this.enqueue(run.partitionId, () => this.runs.runStage(run, effect.stage));
          break;
        case 'stop':
          entry.cancelled = true;
          break;
        default:
          throw new Error(`unhandled recovery effect ${JSON.stringify(effect satisfies never)}`);
      }
    }
  }
}
