/**
 * Recovery runs over the RecoveryRun table. Operators (or the lifecycle runner)
 * request a run; a manual run waits for an operator to approve or reject it with a
 * reason; a phased run rejoins groups step by step and can be paused, resumed and
 * aborted. The phased progress is core's pure `stepPhasedPlan`; this service saves
 * each step, pushes it to dashboards, then hands the plan's effects to the
 * executor (the lead's recovery orchestrator) — save before emit, emit before act.
 * Status changes are conditional updates, so two operators deciding at once cannot
 * both win: the second gets `conflict`.
 */
import type { PartitionType } from '../core/classify-partition';
import { type RecoveryStrategy, defaultClusterPolicy } from '../core/policy/cluster-policy';
import { buildDryRun, type DryRun } from '../core/policy/dry-run';
import { type PhaseStage, type PhasedPlan, type PhasedPlanEffect, buildPhasedPlan, stepPhasedPlan } from '../core/policy/phased-plan';
import { selectRecoveryStrategy } from '../core/policy/recovery-strategy';
import type { RecoveryRunView, RecoveryStatus } from '../core/realtime-contract';
import type { Prisma, PrismaClient } from '../generated/prisma/client';
import { AppError } from './app-error';
import { afterCommit, clientOf } from './db/transaction-scope';

/** Largest page of recovery runs one request may read. */
export const recoveryPageMax = 200;
/** Longest reason an operator may write, in characters. */
export const recoveryReasonLengthMax = 2000;
/** Statuses in which a run is still open (at most one open run per partition). */
export const openRecoveryStatuses: RecoveryStatus[] = ['pending-approval', 'approved', 'running', 'paused'];

/** Where recovery changes are pushed; the Socket.IO adapter implements it. */
export interface RecoveryBroadcaster {
  recoveryChanged(run: RecoveryRunView): void;
}

/**
 * Carries out what a run needs; the recovery orchestrator implements it. Until one
 * is attached, approved runs and phased stages wait (visible as such on the console).
 */
export interface RecoveryExecutor {
  /** A manual run was approved: start it (then call `markRunning` and `finish`). */
  approved(run: RecoveryRunView): void;
  /** A phased plan asks for a stage to run (then call `recordStage`). */
  runStage(run: RecoveryRunView, effect: Extract<PhasedPlanEffect, { kind: 'run-stage' }>): void;
  /** A run was aborted by an operator: stop what is in flight. */
  aborted(run: RecoveryRunView): void;
  /** A run waiting for approval was rejected: the lifecycle records it and alerts. */
  rejected?(run: RecoveryRunView): void;
}

type RunRow = Prisma.RecoveryRunGetPayload<object>;

interface StoredDetail {
  components?: string[][];
  majorityIndex?: number | null;
}

export class RecoveryService {
  /** Set by the composition root or the lifecycle runner. */
  executor: RecoveryExecutor | null = null;

  constructor(
    private readonly prisma: PrismaClient,
    private readonly broadcaster: RecoveryBroadcaster,
    private readonly nowMs: () => number = Date.now,
  ) {}

  private async toView(row: RunRow): Promise<RecoveryRunView> {
    const partition = await this.db.partition.findUnique({ where: { id: row.partitionId }, select: { clusterId: true } });
    return {
      id: row.id,
      partitionId: row.partitionId,
      clusterId: partition?.clusterId ?? null,
      strategy: row.strategy as RecoveryRunView['strategy'],
      status: row.status as RecoveryStatus,
      plan: row.plan,
      phased: row.strategy === 'phased' ? row.steps : null,
      requestedBy: row.requestedBy,
      decidedBy: row.decidedBy,
      decidedAtMs: row.decidedAt?.getTime() ?? null,
      reason: row.reason,
      createdAtMs: row.createdAt.getTime(),
      startedAtMs: row.startedAt?.getTime() ?? null,
      endedAtMs: row.endedAt?.getTime() ?? null,
    };
  }

  /** The ambient transaction of an audited action, else the pool. */
  private get db() {
    return clientOf(this.prisma);
  }

  /** Pushes a saved change once it is committed (at once outside an audited action). */
  private async emit(row: RunRow): Promise<RecoveryRunView> {
    const view = await this.toView(row);
    afterCommit(() => this.broadcaster.recoveryChanged(view));
    return view;
  }

  /** Runs newest first, filtered by status, partition or cluster. */
  async list(query: { status?: RecoveryStatus[]; partitionId?: string; clusterId?: string; limit: number }): Promise<RecoveryRunView[]> {
    const partitionIds = query.clusterId
      ? (await this.db.partition.findMany({ where: { clusterId: query.clusterId }, select: { id: true }, orderBy: { startedAt: 'desc' }, take: 5000 })).map((row) => row.id)
      : null;
    const rows = await this.db.recoveryRun.findMany({
      where: {
        ...(query.status && query.status.length > 0 ? { status: { in: query.status } } : {}),
        ...(query.partitionId ? { partitionId: query.partitionId } : partitionIds ? { partitionId: { in: partitionIds } } : {}),
      },
      orderBy: { createdAt: 'desc' },
      take: Math.min(query.limit, recoveryPageMax),
    });
    return Promise.all(rows.map((row) => this.toView(row)));
  }

  /** One run, or throws `not_found`. */
  async getOrThrow(id: string): Promise<RecoveryRunView> {
    const row = await this.db.recoveryRun.findUnique({ where: { id } });
    if (!row) throw new AppError('not_found', `no recovery run with id ${id}`);
    return this.toView(row);
  }

  /** The dry run for a partition and strategy, from its stored sides (no replica changes known here). */
  async dryRun(partitionId: string, strategy: RecoveryStrategy, actor: string): Promise<DryRun> {
    const partition = await this.db.partition.findUnique({ where: { id: partitionId } });
    if (!partition) throw new AppError('not_found', `no partition with id ${partitionId}`);
    const detail = partition.detail as StoredDetail;
    const sides = detail.components ?? [partition.nodeIds];
    const facts = {
      type: partition.type as PartitionType,
      sides,
      majorityIndex: detail.majorityIndex ?? null,
      byzantineEvidence: partition.type === 'byzantine',
      divergenceRatio: partition.divergenceMax,
      flapCount: 0,
    };
    const choice = selectRecoveryStrategy({ type: facts.type, emergencyReasons: [] }, { strategy, actor, reason: 'requested from the console' });
    return buildDryRun({ partitionId, facts, policy: defaultClusterPolicy, strategy: choice, replicas: [] });
  }

  /**
   * Requests a recovery of a partition. manual → waits for approval; phased → starts
   * at once; automatic → approved at once (the executor runs it). `plan` is the
   * runner's own dry run when it has replica changes; otherwise one is computed.
   */
  async request(input: { partitionId: string; strategy: RecoveryStrategy; requestedBy: string; plan?: DryRun }): Promise<RecoveryRunView> {
    const open = await this.db.recoveryRun.findFirst({ where: { partitionId: input.partitionId, status: { in: openRecoveryStatuses } } });
    if (open) throw new AppError('conflict', `partition already has an open ${open.strategy} recovery (${open.status})`);
    const plan = input.plan ?? (await this.dryRun(input.partitionId, input.strategy, input.requestedBy));
    const nowMs = this.nowMs();
    let phased: PhasedPlan | null = null;
    let effects: PhasedPlanEffect[] = [];
    if (input.strategy === 'phased') {
      const sides = plan.quorum.sides.map((side) => side.nodeIds);
      ({ plan: phased, effects } = stepPhasedPlan(buildPhasedPlan(input.partitionId, { sides, majorityIndex: plan.quorum.majorityIndex }, defaultClusterPolicy.phaseGroupSizeMax), { type: 'start' }, nowMs));
    }
    const status: RecoveryStatus = input.strategy === 'manual' ? 'pending-approval' : input.strategy === 'phased' ? 'running' : 'approved';
    const row = await this.db.recoveryRun.create({
      data: {
        partitionId: input.partitionId,
        strategy: input.strategy,
        status,
        plan: plan as unknown as Prisma.InputJsonValue,
        steps: (phased ?? []) as unknown as Prisma.InputJsonValue,
        requestedBy: input.requestedBy,
        ...(status === 'running' ? { startedAt: new Date(nowMs) } : {}),
      },
    });
    const view = await this.emit(row);
    if (status === 'approved') afterCommit(() => this.executor?.approved(view));
    this.dispatch(view, effects);
    return view;
  }

  private dispatch(view: RecoveryRunView, effects: PhasedPlanEffect[]): void {
    for (const effect of effects) if (effect.kind === 'run-stage') afterCommit(() => this.executor?.runStage(view, effect));
  }

  /** Moves a run from one of `from` to `to`, or throws `conflict` naming its current status. */
  private async transition(id: string, from: RecoveryStatus[], data: Prisma.RecoveryRunUpdateManyMutationInput, verb: string): Promise<RunRow> {
    const result = await this.db.recoveryRun.updateMany({ where: { id, status: { in: from } }, data });
    if (result.count === 0) {
      const current = await this.getOrThrow(id);
      throw new AppError('conflict', `cannot ${verb} a ${current.strategy} recovery that is ${current.status}${current.decidedBy ? ` (decided by ${current.decidedBy})` : ''}`);
    }
    return (await this.db.recoveryRun.findUnique({ where: { id } }))!;
  }

  /** Approves a run waiting for approval, recording who and why. */
  async approve(id: string, actor: string, reason: string): Promise<RecoveryRunView> {
    const row = await this.transition(id, ['pending-approval'], { status: 'approved', decidedBy: actor, decidedAt: new Date(this.nowMs()), reason: reason.slice(0, recoveryReasonLengthMax) }, 'approve');
    const view = await this.emit(row);
    afterCommit(() => this.executor?.approved(view));
    return view;
  }

  /** Rejects a run waiting for approval, recording who and why. */
  async reject(id: string, actor: string, reason: string): Promise<RecoveryRunView> {
    const nowMs = this.nowMs();
    const row = await this.transition(id, ['pending-approval'], { status: 'rejected', decidedBy: actor, decidedAt: new Date(nowMs), endedAt: new Date(nowMs), reason: reason.slice(0, recoveryReasonLengthMax) }, 'reject');
    const view = await this.emit(row);
    afterCommit(() => this.executor?.rejected?.(view));
    return view;
  }

  /** Applies a phased-plan event to a phased run, saves, pushes, then dispatches effects. */
  private async stepPhased(id: string, event: Parameters<typeof stepPhasedPlan>[1], reason: string | null): Promise<RecoveryRunView> {
    const row = await this.db.recoveryRun.findUnique({ where: { id } });
    if (!row) throw new AppError('not_found', `no recovery run with id ${id}`);
    if (row.strategy !== 'phased') throw new AppError('conflict', `a ${row.strategy} recovery has no phases to ${event.type}`);
    const nowMs = this.nowMs();
    const before = row.steps as unknown as PhasedPlan;
    const { plan, effects } = stepPhasedPlan(before, event, nowMs);
    if (plan === before) throw new AppError('conflict', `cannot ${event.type.replace('stage-', '')} a phased recovery that is ${row.status}`);
    const status: RecoveryStatus =
      plan.status === 'completed' ? 'succeeded' : plan.status === 'pending' ? 'running' : (plan.status as RecoveryStatus);
    const ended = ['succeeded', 'failed', 'aborted'].includes(status);
    const saved = await this.transition(
      id,
      [row.status as RecoveryStatus],
      { status, steps: plan as unknown as Prisma.InputJsonValue, ...(reason !== null ? { reason } : {}), ...(ended ? { endedAt: new Date(nowMs) } : {}) },
      event.type,
    );
    const view = await this.emit(saved);
    this.dispatch(view, effects);
    return view;
  }

  /** Pauses a running phased recovery after the stage in flight. */
  pause(id: string, actor: string, reason: string): Promise<RecoveryRunView> {
    return this.stepPhased(id, { type: 'pause', actor }, `paused by ${actor}: ${reason}`.slice(0, recoveryReasonLengthMax));
  }

  /** Resumes a paused phased recovery. */
  resume(id: string, actor: string, reason: string): Promise<RecoveryRunView> {
    return this.stepPhased(id, { type: 'resume', actor }, `resumed by ${actor}: ${reason}`.slice(0, recoveryReasonLengthMax));
  }

  /** Aborts an open run of any strategy. */
  async abort(id: string, actor: string, reason: string): Promise<RecoveryRunView> {
    const current = await this.getOrThrow(id);
    const text = `aborted by ${actor}: ${reason}`.slice(0, recoveryReasonLengthMax);
    const view =
      current.strategy === 'phased'
        ? await this.stepPhased(id, { type: 'abort', actor, reason }, text)
        : await this.emit(await this.transition(id, openRecoveryStatuses, { status: 'aborted', reason: text, endedAt: new Date(this.nowMs()) }, 'abort'));
    afterCommit(() => this.executor?.aborted(view));
    return view;
  }

  /** Records a phased stage's result (for the orchestrator). */
  recordStage(id: string, result: { groupIndex: number; stage: PhaseStage; ok: boolean; reason?: string }): Promise<RecoveryRunView> {
    const event = result.ok
      ? { type: 'stage-succeeded' as const, groupIndex: result.groupIndex, stage: result.stage }
      : { type: 'stage-failed' as const, groupIndex: result.groupIndex, stage: result.stage, reason: result.reason ?? 'stage failed' };
    return this.stepPhased(id, event, result.ok ? null : (result.reason ?? 'stage failed'));
  }

  /** Marks an approved run as running (for the orchestrator). */
  async markRunning(id: string): Promise<RecoveryRunView> {
    return this.emit(await this.transition(id, ['approved'], { status: 'running', startedAt: new Date(this.nowMs()) }, 'start'));
  }

  /** Ends a running run (for the orchestrator). */
  async finish(id: string, status: 'succeeded' | 'failed', reason?: string): Promise<RecoveryRunView> {
    return this.emit(await this.transition(id, ['approved', 'running'], { status, endedAt: new Date(this.nowMs()), ...(reason ? { reason } : {}) }, 'finish'));
  }
}
