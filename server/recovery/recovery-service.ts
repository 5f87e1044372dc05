/**
 * Recovery runs. A run is requested (by an operator or the lifecycle); a manual
 * run waits for an operator to approve or reject it with a reason; a phased run
 * rejoins groups step by step (core's pure `stepPhasedPlan`) and can be paused,
 * resumed and aborted. Every decision saves the run, pushes it to dashboards once
 * committed, and RETURNS what must happen next as `RecoveryEffect`s; nothing is
 * called back. The operator-facing methods (approve, reject, …) publish those
 * effects on the recovery events, which the orchestrator subscribes to; the
 * orchestrator's own calls (`*Run`) carry them out themselves. Status changes are
 * compare-and-set, so of two operators deciding at once the second gets `conflict`.
 */
import { type RecoveryStrategy, defaultClusterPolicy, emergencyReasonsOf } from '../../core/policy/cluster-policy';
import { type DryRun, buildDryRun } from '../../core/policy/dry-run';
import { type PhaseStage, type PhasedPlan, type PhasedPlanEffect, buildPhasedPlan, stepPhasedPlan } from '../../core/policy/phased-plan';
import { type RecoveryReadinessInput, recoveryStartRefusal } from '../../core/policy/recovery-readiness';
import { selectRecoveryStrategy } from '../../core/policy/recovery-strategy';
import type { RecoveryRunView, RecoveryStatus } from '../../core/realtime-contract';
import { AppError } from '../app-error';
import type { Clock } from '../clock';
import { afterCommit } from '../db/transaction-scope';
import type { Emitter } from '../events';
import type { RecoveryPatch, RecoveryStore } from './recovery-store';

export { recoveryPageMax } from './recovery-store';
/** Longest reason an operator may write, in characters. */
export const recoveryReasonLengthMax = 2000;
/** Statuses in which a run is still open (at most one open run per partition). */
export const openRecoveryStatuses: RecoveryStatus[] = ['pending-approval', 'approved', 'running', 'paused'];

/** Where recovery changes are pushed; the Socket.IO adapter implements it. */
export interface RecoveryBroadcaster {
  recoveryChanged(run: RecoveryRunView): void;
}

/** The live view of a cluster a start is checked against (null: the server has none, nothing to check). */
export type RecoveryLiveView = (clusterId: string) => Omit<RecoveryReadinessInput, 'nodeIds'> | null;

/** What must happen after a recovery decision. */
export type RecoveryEffect =
  /** Reconcile the run's partition now (an automatic run, or a manual one approved). */
  | { kind: 'reconcile'; run: RecoveryRunView }
  /** Run one stage of a phased plan, then report it with `recordStageRun`. */
  | { kind: 'run-stage'; run: RecoveryRunView; stage: Extract<PhasedPlanEffect, { kind: 'run-stage' }> }
  /** Stop what is in flight for the run. */
  | { kind: 'stop'; run: RecoveryRunView }
  /** An operator rejected the run: the lifecycle records it and alerts. */
  | { kind: 'rejected'; run: RecoveryRunView };

/** A saved decision and what follows from it. */
export interface RecoveryDecision {
  run: RecoveryRunView;
  effects: RecoveryEffect[];
}

/** The events recovery publishes for the orchestrator. */
export interface RecoveryEvents {
  effects: RecoveryEffect[];
}

const stageEffects = (run: RecoveryRunView, effects: PhasedPlanEffect[]): RecoveryEffect[] =>
  effects.flatMap((stage) => (stage.kind === 'run-stage' ? [{ kind: 'run-stage' as const, run, stage }] : []));
const clip = (text: string) => text.slice(0, recoveryReasonLengthMax);

export class RecoveryService {
  constructor(
    private readonly store: RecoveryStore,
    private readonly broadcaster: RecoveryBroadcaster,
    private readonly clock: Clock,
    private readonly events: Emitter<RecoveryEvents>,
  ) {}

  /** Pushes a saved change once it is committed (at once outside an audited action). */
  private saved(run: RecoveryRunView, effects: RecoveryEffect[] = []): RecoveryDecision {
    afterCommit(() => this.broadcaster.recoveryChanged(run));
    return { run, effects };
  }

  /** Publishes a decision's effects once committed and returns its run (for operator calls). */
  private publish(decision: RecoveryDecision): RecoveryRunView {
    if (decision.effects.length > 0) afterCommit(() => this.events.emit('effects', decision.effects));
    return decision.run;
  }

  /** Runs newest first, filtered by status, partition or cluster. */
  list(query: { status?: RecoveryStatus[]; partitionId?: string; clusterId?: string; limit: number }): Promise<RecoveryRunView[]> {
    return this.store.list(query);
  }

  /** One run, or throws `not_found`. */
  async getOrThrow(id: string): Promise<RecoveryRunView> {
    const run = await this.store.find(id);
    if (!run) throw new AppError('not_found', `no recovery run with id ${id}`);
    return run;
  }

  /**
   * The dry run for a partition, from its stored sides (no replica changes known
   * here). With a strategy, that one (as the operator's choice); without, the one the
   * partition's lifecycle chose, or the brief's rule on the stored facts, with why.
   */
  async dryRun(partitionId: string, strategy: RecoveryStrategy | undefined, actor: string): Promise<DryRun> {
    const partition = await this.store.partitionSides(partitionId);
    if (!partition) throw new AppError('not_found', `no partition with id ${partitionId}`);
    const facts = { type: partition.type, sides: partition.sides, majorityIndex: partition.majorityIndex, byzantineEvidence: partition.type === 'byzantine', divergenceRatio: partition.divergenceMax, flapCount: 0 };
    const choice = strategy
      ? selectRecoveryStrategy({ type: facts.type, emergencyReasons: [] }, { strategy, actor, reason: 'requested from the console' })
      : (partition.strategy ?? selectRecoveryStrategy({ type: facts.type, emergencyReasons: emergencyReasonsOf(facts, defaultClusterPolicy) }));
    return buildDryRun({ partitionId, facts, policy: defaultClusterPolicy, strategy: choice, replicas: [] });
  }

  /**
   * Requests a recovery of a partition: manual → waits for approval; phased →
   * starts at once (first stage); automatic → approved at once (reconcile). `plan`
   * is the orchestrator's own dry run when it has replica changes.
   */
  async requestRun(input: { partitionId: string; strategy: RecoveryStrategy; requestedBy: string; plan?: DryRun }): Promise<RecoveryDecision> {
    const open = await this.store.findOpen(input.partitionId, openRecoveryStatuses);
    if (open) throw new AppError('conflict', `partition already has an open ${open.strategy} recovery (${open.status})`);
    const plan = input.plan ?? (await this.dryRun(input.partitionId, input.strategy, input.requestedBy));
    const nowMs = this.clock.nowMs();
    let phased: PhasedPlan | null = null;
    let effects: PhasedPlanEffect[] = [];
    if (input.strategy === 'phased') {
      const sides = plan.quorum.sides.map((side) => side.nodeIds);
      ({ plan: phased, effects } = stepPhasedPlan(buildPhasedPlan(input.partitionId, { sides, majorityIndex: plan.quorum.majorityIndex }, defaultClusterPolicy.phaseGroupSizeMax), { type: 'start' }, nowMs));
    }
    const status: RecoveryStatus = input.strategy === 'manual' ? 'pending-approval' : input.strategy === 'phased' ? 'running' : 'approved';
    const run = await this.store.insert({ partitionId: input.partitionId, strategy: input.strategy, status, plan, phased, requestedBy: input.requestedBy, createdAtMs: nowMs, startedAtMs: status === 'running' ? nowMs : null });
    return this.saved(run, status === 'approved' ? [{ kind: 'reconcile', run }] : stageEffects(run, effects));
  }

  /** Moves a run from one of `from` with `patch`, or throws `conflict` naming its current status. */
  private async transition(id: string, from: RecoveryStatus[], patch: RecoveryPatch, verb: string): Promise<RecoveryRunView> {
    const run = await this.store.transition(id, from, patch);
    if (run && (run.status === 'failed' || run.status === 'aborted')) await this.store.recordOutcome(run, run.endedAtMs ?? this.clock.nowMs());
    if (run) return run;
    const current = await this.getOrThrow(id);
    throw new AppError('conflict', `cannot ${verb} a ${current.strategy} recovery that is ${current.status}${current.decidedBy ? ` (decided by ${current.decidedBy})` : ''}`);
  }

  async approveRun(id: string, actor: string, reason: string): Promise<RecoveryDecision> {
    const run = await this.transition(id, ['pending-approval'], { status: 'approved', decidedBy: actor, decidedAtMs: this.clock.nowMs(), reason: clip(reason) }, 'approve');
    return this.saved(run, [{ kind: 'reconcile', run }]);
  }

  async rejectRun(id: string, actor: string, reason: string): Promise<RecoveryDecision> {
    const nowMs = this.clock.nowMs();
    const run = await this.transition(id, ['pending-approval'], { status: 'rejected', decidedBy: actor, decidedAtMs: nowMs, endedAtMs: nowMs, reason: clip(reason) }, 'reject');
    return this.saved(run, [{ kind: 'rejected', run }]);
  }

  /** Applies a phased-plan event to a phased run and saves it; its stage effects follow. */
  private async stepPhased(id: string, event: Parameters<typeof stepPhasedPlan>[1], reason: string | null): Promise<RecoveryDecision> {
    const current = await this.getOrThrow(id);
    if (current.strategy !== 'phased') throw new AppError('conflict', `a ${current.strategy} recovery has no phases to ${event.type}`);
    const nowMs = this.clock.nowMs();
    const before = current.phased as PhasedPlan;
    const { plan, effects } = stepPhasedPlan(before, event, nowMs);
    if (plan === before) throw new AppError('conflict', `cannot ${event.type.replace('stage-', '')} a phased recovery that is ${current.status}`);
    const status: RecoveryStatus = plan.status === 'completed' ? 'succeeded' : plan.status === 'pending' ? 'running' : (plan.status as RecoveryStatus);
    const ended = ['succeeded', 'failed', 'aborted'].includes(status);
    const run = await this.transition(id, [current.status], { status, phased: plan, ...(reason !== null ? { reason } : {}), ...(ended ? { endedAtMs: nowMs } : {}) }, event.type);
    return this.saved(run, stageEffects(run, effects));
  }

  pauseRun(id: string, actor: string, reason: string): Promise<RecoveryDecision> {
    return this.stepPhased(id, { type: 'pause', actor }, clip(`paused by ${actor}: ${reason}`));
  }

  resumeRun(id: string, actor: string, reason: string): Promise<RecoveryDecision> {
    return this.stepPhased(id, { type: 'resume', actor }, clip(`resumed by ${actor}: ${reason}`));
  }

  /** Aborts an open run of any strategy; what is in flight is stopped. */
  async abortRun(id: string, actor: string, reason: string): Promise<RecoveryDecision> {
    const current = await this.getOrThrow(id);
    const text = clip(`aborted by ${actor}: ${reason}`);
    const decision =
      current.strategy === 'phased'
        ? await this.stepPhased(id, { type: 'abort', actor, reason }, text)
        : this.saved(await this.transition(id, openRecoveryStatuses, { status: 'aborted', reason: text, endedAtMs: this.clock.nowMs() }, 'abort'));
    return { run: decision.run, effects: [...decision.effects, { kind: 'stop', run: decision.run }] };
  }

  /** Records a phased stage's result; the next stage (if any) follows. */
  recordStageRun(id: string, result: { groupIndex: number; stage: PhaseStage; ok: boolean; reason?: string }): Promise<RecoveryDecision> {
    const event = result.ok
      ? { type: 'stage-succeeded' as const, groupIndex: result.groupIndex, stage: result.stage }
      : { type: 'stage-failed' as const, groupIndex: result.groupIndex, stage: result.stage, reason: result.reason ?? 'stage failed' };
    return this.stepPhased(id, event, result.ok ? null : (result.reason ?? 'stage failed'));
  }

  /** Marks an approved run as running. */
  async markRunning(id: string): Promise<RecoveryRunView> {
    return this.saved(await this.transition(id, ['approved'], { status: 'running', startedAtMs: this.clock.nowMs() }, 'start')).run;
  }

  /** Ends a running run. */
  async finish(id: string, status: 'succeeded' | 'failed', reason?: string): Promise<RecoveryRunView> {
    return this.saved(await this.transition(id, ['approved', 'running'], { status, endedAtMs: this.clock.nowMs(), ...(reason ? { reason } : {}) }, 'finish')).run;
  }

  // Operator actions (the HTTP API): the decision's effects go out on the recovery events.

  /** Why a recovery of the partition may not start now (core's rule on the live view of its cluster), or null. */
  async startRefusal(partitionId: string, live: RecoveryLiveView): Promise<string | null> {
    const partition = await this.store.partitionSides(partitionId);
    if (!partition) throw new AppError('not_found', `no partition with id ${partitionId}`);
    const view = live(partition.clusterId);
    return view ? recoveryStartRefusal({ nodeIds: partition.sides.flat(), ...view }) : null;
  }

  /** An operator's start: refused (`conflict`, with the reason) while the links the recovery needs are not up. */
  async request(input: { partitionId: string; strategy: RecoveryStrategy; requestedBy: string; plan?: DryRun }, live?: RecoveryLiveView): Promise<RecoveryRunView> {
    const refusal = live ? await this.startRefusal(input.partitionId, live) : null;
    if (refusal) throw new AppError('conflict', `cannot start a ${input.strategy} recovery yet: ${refusal}`);
    return this.publish(await this.requestRun(input));
  }
  async approve(id: string, actor: string, reason: string): Promise<RecoveryRunView> {
    return this.publish(await this.approveRun(id, actor, reason));
  }
  async reject(id: string, actor: string, reason: string): Promise<RecoveryRunView> {
    return this.publish(await this.rejectRun(id, actor, reason));
  }
  async pause(id: string, actor: string, reason: string): Promise<RecoveryRunView> {
    return this.publish(await this.pauseRun(id, actor, reason));
  }
  async resume(id: string, actor: string, reason: string): Promise<RecoveryRunView> {
    return this.publish(await this.resumeRun(id, actor, reason));
  }
  async abort(id: string, actor: string, reason: string): Promise<RecoveryRunView> {
    return this.publish(await this.abortRun(id, actor, reason));
  }
}
