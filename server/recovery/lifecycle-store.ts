/**
 * What the recovery orchestrator saves about a partition: its lifecycle state,
 * timeline entries, divergence ledger, samples and reconciliation reports. One
 * interface, a Prisma implementation (the server) and an in-memory one (unit
 * tests); test/integration/store-contracts.test.ts holds both to the
 * same contract.
 */
import type { DecisionRecord, PartitionLifecycleState, TransitionRecord } from '../../core/lifecycle/partition-lifecycle';
import type { DivergenceLedger } from '../../core/reconcile/divergence';
import type { PartitionSummary } from '../../core/realtime-contract';
import type { Prisma, PrismaClient } from '../../generated/prisma/client';
import { PartitionRepository, type PartitionStore, toPartitionSummary } from '../db/partition-repository';

/** One metric sample (divergence ratio, durations, active partitions). */
export interface MetricSampleInput {
  clusterId: string;
  partitionId?: string;
  name: string;
  value: number;
  atMs: number;
}

/** The outcome of one reconciliation, as saved. */
export interface ReconciliationReportInput {
  partitionId: string;
  recoveryRunId: string | null;
  status: 'succeeded' | 'escalated';
  keysCompared: number;
  conflicts: number;
  bytesMoved: number;
  durationMs: number;
  attempts: number;
  detail: unknown;
}

export interface LifecycleStore {
  saveState(partitionId: string, state: PartitionLifecycleState): Promise<void>;
  appendTransition(transition: TransitionRecord): Promise<void>;
  appendDecision(decision: DecisionRecord): Promise<void>;
  /** The partition as operators see it, or null. */
  findSummary(partitionId: string): Promise<PartitionSummary | null>;
  saveLedger(partitionId: string, ledger: DivergenceLedger): Promise<void>;
  /** Raises the partition's highest divergence seen to `ratio` if it is higher. */
  raiseDivergenceMax(partitionId: string, ratio: number): Promise<void>;
  recordSamples(samples: MetricSampleInput[]): Promise<void>;
  recordReconciliation(report: ReconciliationReportInput): Promise<void>;
  /** Ends the partition as recovered (the time from heal to verified when known). */
  closeRecovered(partitionId: string, atMs: number, recoveryMs: number | null): Promise<PartitionSummary>;
}

const json = (value: unknown) => value as Prisma.InputJsonValue;

export class PrismaLifecycleStore implements LifecycleStore {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly partitions: PartitionStore = new PartitionRepository(prisma),
  ) {}

  async saveState(partitionId: string, state: PartitionLifecycleState): Promise<void> {
    await this.prisma.partition.update({ where: { id: partitionId }, data: { state: state.state, lifecycle: json(state) } });
  }

  async appendTransition(t: TransitionRecord): Promise<void> {
    await this.prisma.partitionEvent.create({
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
  }

  async appendDecision(d: DecisionRecord): Promise<void> {
    await this.prisma.partitionEvent.create({
      data: { partitionId: d.partitionId, at: new Date(d.atMs), kind: 'decision', cause: `${d.decision}: ${d.reason}`, actor: d.actor, data: { decision: d.decision } },
    });
  }

  async findSummary(partitionId: string): Promise<PartitionSummary | null> {
    const row = await this.prisma.partition.findUnique({ where: { id: partitionId } });
    return row ? toPartitionSummary(row) : null;
  }

  async saveLedger(partitionId: string, ledger: DivergenceLedger): Promise<void> {
    await this.prisma.partition.update({ where: { id: partitionId }, data: { ledger: json(ledger) } });
  }

  async raiseDivergenceMax(partitionId: string, ratio: number): Promise<void> {
    await this.prisma.partition.updateMany({ where: { id: partitionId, divergenceMax: { lt: ratio } }, data: { divergenceMax: ratio } });
  }

  async recordSamples(samples: MetricSampleInput[]): Promise<void> {
    await this.prisma.metricSample.createMany({
      data: samples.map((sample) => ({ clusterId: sample.clusterId, partitionId: sample.partitionId ?? null, name: sample.name, value: sample.value, at: new Date(sample.atMs) })),
    });
  }

  async recordReconciliation(report: ReconciliationReportInput): Promise<void> {
    await this.prisma.reconciliationReport.create({ data: { ...report, detail: json(report.detail) } });
  }

  closeRecovered(partitionId: string, atMs: number, recoveryMs: number | null): Promise<PartitionSummary> {
    return this.partitions.close(partitionId, atMs, 'recovered', 'replicas verified and stable', recoveryMs);
  }
}

/** The in-memory twin: partitions are registered with `add`; everything saved is kept in arrays to inspect. */
export class MemoryLifecycleStore implements LifecycleStore {
  readonly partitions = new Map<string, { summary: PartitionSummary; lifecycle: PartitionLifecycleState | null; ledger: DivergenceLedger | null }>();
  readonly timeline: { partitionId: string; kind: 'transition' | 'decision' | 'ended'; atMs: number; cause: string; actor: string }[] = [];
  readonly samples: MetricSampleInput[] = [];
  readonly reports: ReconciliationReportInput[] = [];

  add(summary: PartitionSummary): void {
    this.partitions.set(summary.id, { summary, lifecycle: null, ledger: null });
  }

  private get(partitionId: string) {
    const entry = this.partitions.get(partitionId);
    if (!entry) throw new Error(`no partition with id ${partitionId}`);
    return entry;
  }

  async saveState(partitionId: string, state: PartitionLifecycleState): Promise<void> {
    const entry = this.get(partitionId);
    entry.lifecycle = structuredClone(state);
    entry.summary = { ...entry.summary, state: state.state };
  }

  async appendTransition(t: TransitionRecord): Promise<void> {
    this.get(t.partitionId);
    this.timeline.push({ partitionId: t.partitionId, kind: 'transition', atMs: t.atMs, cause: t.cause, actor: t.actor.kind === 'operator' ? t.actor.name : 'system' });
  }

  async appendDecision(d: DecisionRecord): Promise<void> {
    this.get(d.partitionId);
    this.timeline.push({ partitionId: d.partitionId, kind: 'decision', atMs: d.atMs, cause: `${d.decision}: ${d.reason}`, actor: d.actor });
  }

  async findSummary(partitionId: string): Promise<PartitionSummary | null> {
    return this.partitions.get(partitionId)?.summary ?? null;
  }

  async saveLedger(partitionId: string, ledger: DivergenceLedger): Promise<void> {
    this.get(partitionId).ledger = structuredClone(ledger);
  }

  async raiseDivergenceMax(partitionId: string, ratio: number): Promise<void> {
    const entry = this.partitions.get(partitionId);
    if (entry && (entry.summary.divergenceMax ?? 0) < ratio) entry.summary = { ...entry.summary, divergenceMax: ratio };
  }

  async recordSamples(samples: MetricSampleInput[]): Promise<void> {
    this.samples.push(...samples.map((sample) => ({ ...sample })));
  }

  async recordReconciliation(report: ReconciliationReportInput): Promise<void> {
    // Like the table: a report names its partition without a foreign key.
    this.reports.push(structuredClone(report));
  }

  async closeRecovered(partitionId: string, atMs: number, recoveryMs: number | null): Promise<PartitionSummary> {
    const entry = this.get(partitionId);
    entry.summary = { ...entry.summary, endedAtMs: atMs, state: 'Normal', outcome: 'recovered', recoveryMs: recoveryMs === null ? entry.summary.recoveryMs : Math.round(recoveryMs) };
    this.timeline.push({ partitionId, kind: 'ended', atMs, cause: 'replicas verified and stable', actor: 'system' });
    return entry.summary;
  }
}
