/**
 * Where recovery runs are kept: one interface, a Prisma implementation (the
 * RecoveryRun table, inside the ambient transaction of an audited action) and an
 * in-memory twin for unit tests. Status changes are compare-and-set: `transition`
 * applies only while the run is in one of the expected statuses.
 */
import type { PartitionType } from '../../core/classify-partition';
import type { StrategyChoice } from '../../core/policy/recovery-strategy';
import type { RecoveryRunView, RecoveryStatus } from '../../core/realtime-contract';
import type { Prisma, PrismaClient } from '../../generated/prisma/client';
import { clientOf } from '../db/transaction-scope';
import { AppError } from '../app-error';

/** Largest page of recovery runs one read returns. */
export const recoveryPageMax = 200;

/** A run to create. */
export type NewRecoveryRun = Pick<RecoveryRunView, 'partitionId' | 'strategy' | 'status' | 'plan' | 'phased' | 'requestedBy' | 'startedAtMs' | 'createdAtMs'>;

/** Fields a status change may set. */
export type RecoveryPatch = Partial<Pick<RecoveryRunView, 'status' | 'phased' | 'decidedBy' | 'decidedAtMs' | 'reason' | 'startedAtMs' | 'endedAtMs'>>;

/** What a dry run needs to know of a partition. */
export interface PartitionSides {
  /** The cluster the partition belongs to. */
  clusterId: string;
  type: PartitionType;
  sides: string[][];
  majorityIndex: number | null;
  divergenceMax: number;
  /** The strategy the partition's lifecycle chose and why (null before it chose, or for a partition it never drove). */
  strategy?: StrategyChoice | null;
}

export interface RecoveryStore {
  find(id: string): Promise<RecoveryRunView | null>;
  findOpen(partitionId: string, statuses: RecoveryStatus[]): Promise<RecoveryRunView | null>;
  list(query: { status?: RecoveryStatus[]; partitionId?: string; clusterId?: string; limit: number }): Promise<RecoveryRunView[]>;
  insert(run: NewRecoveryRun): Promise<RecoveryRunView>;
  /** Applies `patch` if the run is in one of `from`; null when it is not. */
  transition(id: string, from: RecoveryStatus[], patch: RecoveryPatch): Promise<RecoveryRunView | null>;
  partitionSides(partitionId: string): Promise<PartitionSides | null>;
  /** Adds a run's end (failed, aborted) to its partition's timeline, so the partition's page shows it. */
  recordOutcome(run: RecoveryRunView, atMs: number): Promise<void>;
}

/** The timeline line for a run that ended without recovering. */
export function outcomeCause(run: RecoveryRunView): string {
  return `${run.strategy} recovery ${run.status}${run.reason ? `: ${run.reason}` : ''}`;
}

type RunRow = Prisma.RecoveryRunGetPayload<object>;
const date = (ms: number | null | undefined) => (ms === null || ms === undefined ? ms : new Date(ms));
const json = (value: unknown) => value as Prisma.InputJsonValue;

export class PrismaRecoveryStore implements RecoveryStore {
  constructor(private readonly prisma: PrismaClient) {}

  private get db() {
    return clientOf(this.prisma);
  }

  private async view(row: RunRow): Promise<RecoveryRunView> {
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

  async find(id: string): Promise<RecoveryRunView | null> {
    const row = await this.db.recoveryRun.findUnique({ where: { id } });
    return row ? this.view(row) : null;
  }

  async findOpen(partitionId: string, statuses: RecoveryStatus[]): Promise<RecoveryRunView | null> {
    const row = await this.db.recoveryRun.findFirst({ where: { partitionId, status: { in: statuses } } });
    return row ? this.view(row) : null;
  }

  async list(query: Parameters<RecoveryStore['list']>[0]): Promise<RecoveryRunView[]> {
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
    return Promise.all(rows.map((row) => this.view(row)));
  }

  async insert(run: NewRecoveryRun): Promise<RecoveryRunView> {
    const row = await this.db.recoveryRun.create({
      data: {
        partitionId: run.partitionId,
        strategy: run.strategy,
        status: run.status,
        plan: json(run.plan),
        steps: json(run.phased ?? []),
        requestedBy: run.requestedBy,
        createdAt: new Date(run.createdAtMs),
        ...(run.startedAtMs !== null ? { startedAt: new Date(run.startedAtMs) } : {}),
      },
    }).catch((error: unknown) => {
      // RecoveryRun_one_open_per_partition: another instance (a leader a moment ago) opened one first.
      if ((error as { code?: string }).code === 'P2002') throw new AppError('conflict', 'partition already has an open recovery');
      throw error;
    });
    return this.view(row);
  }

  async transition(id: string, from: RecoveryStatus[], patch: RecoveryPatch): Promise<RecoveryRunView | null> {
    const data: Prisma.RecoveryRunUpdateManyMutationInput = {
      ...(patch.status !== undefined ? { status: patch.status } : {}),
      ...(patch.phased !== undefined ? { steps: json(patch.phased) } : {}),
      ...(patch.decidedBy !== undefined ? { decidedBy: patch.decidedBy } : {}),
      ...(patch.decidedAtMs !== undefined ? { decidedAt: date(patch.decidedAtMs) } : {}),
      ...(patch.reason !== undefined ? { reason: patch.reason } : {}),
      ...(patch.startedAtMs !== undefined ? { startedAt: date(patch.startedAtMs) } : {}),
      ...(patch.endedAtMs !== undefined ? { endedAt: date(patch.endedAtMs) } : {}),
    };
    const result = await this.db.recoveryRun.updateMany({ where: { id, status: { in: from } }, data });
    return result.count === 0 ? null : this.find(id);
  }

  async partitionSides(partitionId: string): Promise<PartitionSides | null> {
    const partition = await this.db.partition.findUnique({ where: { id: partitionId } });
    if (!partition) return null;
    const detail = partition.detail as { components?: string[][]; majorityIndex?: number | null };
    const lifecycle = partition.lifecycle as { strategy?: StrategyChoice | null } | null;
    return { clusterId: partition.clusterId, type: partition.type as PartitionType, sides: detail.components ?? [partition.nodeIds], majorityIndex: detail.majorityIndex ?? null, divergenceMax: partition.divergenceMax, strategy: lifecycle?.strategy ?? null };
  }

  async recordOutcome(run: RecoveryRunView, atMs: number): Promise<void> {
    await this.db.partitionEvent.create({ data: { partitionId: run.partitionId, at: new Date(atMs), kind: 'recovery', cause: outcomeCause(run), actor: run.decidedBy ?? 'system', data: { runId: run.id, status: run.status } } });
  }
}

/** The in-memory twin. Partitions are registered with `addPartition`; ids are `run-1`, `run-2`, … */
export class MemoryRecoveryStore implements RecoveryStore {
  private readonly runs = new Map<string, RecoveryRunView>();
  private readonly partitions = new Map<string, { clusterId: string; sides: Omit<PartitionSides, 'clusterId'> }>();
  private nextId = 1;

  addPartition(partitionId: string, clusterId: string, sides: Omit<PartitionSides, 'clusterId'>): void {
    this.partitions.set(partitionId, { clusterId, sides });
  }

  async find(id: string): Promise<RecoveryRunView | null> {
    const run = this.runs.get(id);
    return run ? structuredClone(run) : null;
  }

  async findOpen(partitionId: string, statuses: RecoveryStatus[]): Promise<RecoveryRunView | null> {
    const run = [...this.runs.values()].find((candidate) => candidate.partitionId === partitionId && statuses.includes(candidate.status));
    return run ? structuredClone(run) : null;
  }

  async list(query: Parameters<RecoveryStore['list']>[0]): Promise<RecoveryRunView[]> {
    return [...this.runs.values()]
      .filter((run) =>
        (!query.status || query.status.length === 0 || query.status.includes(run.status)) &&
        (!query.partitionId || run.partitionId === query.partitionId) &&
        (!query.clusterId || run.clusterId === query.clusterId))
      .reverse()
      .sort((a, b) => b.createdAtMs - a.createdAtMs)
      .slice(0, Math.min(query.limit, recoveryPageMax))
      .map((run) => structuredClone(run));
  }

  async insert(run: NewRecoveryRun): Promise<RecoveryRunView> {
    const view: RecoveryRunView = {
      id: `run-${this.nextId++}`,
      clusterId: this.partitions.get(run.partitionId)?.clusterId ?? null,
      decidedBy: null,
      decidedAtMs: null,
      reason: null,
      endedAtMs: null,
      ...structuredClone(run),
      phased: run.strategy === 'phased' ? structuredClone(run.phased) : null,
    };
    this.runs.set(view.id, view);
    return structuredClone(view);
  }

  async transition(id: string, from: RecoveryStatus[], patch: RecoveryPatch): Promise<RecoveryRunView | null> {
    const run = this.runs.get(id);
    if (!run || !from.includes(run.status)) return null;
    const next = { ...run, ...structuredClone(patch), ...(run.strategy !== 'phased' ? { phased: null } : {}) };
    this.runs.set(id, next);
    return structuredClone(next);
  }

  async partitionSides(partitionId: string): Promise<PartitionSides | null> {
    const partition = this.partitions.get(partitionId);
    return partition ? { clusterId: partition.clusterId, ...partition.sides, strategy: partition.sides.strategy ?? null } : null;
  }

  /** Timeline lines recorded by `recordOutcome`, oldest first. */
  readonly outcomes: { partitionId: string; atMs: number; cause: string }[] = [];

  async recordOutcome(run: RecoveryRunView, atMs: number): Promise<void> {
    this.outcomes.push({ partitionId: run.partitionId, atMs, cause: outcomeCause(run) });
  }
}
