/** The experiment tables behind `ExperimentStore` (schema: ExperimentRun and the rows that hang off it). */
import { type ExperimentVerdict, validatorNames } from '../../core/experiments/observation';
import type { ExperimentReport, ExperimentRunView, ExperimentStatus } from '../../core/experiments/experiment-views';
import type { PartitionType } from '../../core/classify-partition';
import type { Prisma, PrismaClient } from '../../generated/prisma/client';
import { type ExperimentStore, type FinishedExperiment, type NewExperimentRun, experimentEventsMax, experimentListMax, experimentSamplesMax } from './experiment-store';

type RunRow = Prisma.ExperimentRunGetPayload<{ include: { verdicts: true } }>;
const validatorOrder = (name: string) => (validatorNames as readonly string[]).indexOf(name);

function toRunView(row: RunRow): ExperimentRunView {
  return {
    id: row.id,
    clusterId: row.clusterId,
    scenario: row.scenario,
    status: row.status as ExperimentStatus,
    startedBy: row.startedBy,
    startedAtMs: row.startedAt.getTime(),
    endedAtMs: row.endedAt?.getTime() ?? null,
    shapes: row.shapes,
    affectedNodes: row.affectedNodes,
    verdicts: [...row.verdicts].sort((a, b) => validatorOrder(a.validator) - validatorOrder(b.validator)).map((verdict) => ({ validator: verdict.validator, outcome: verdict.outcome as ExperimentVerdict['outcome'] })),
  };
}

export class PrismaExperimentStore implements ExperimentStore {
  constructor(private readonly prisma: PrismaClient) {}

  async create(run: NewExperimentRun): Promise<void> {
    await this.prisma.experimentRun.create({
      data: {
        id: run.id,
        clusterId: run.clusterId,
        scenario: run.scenario,
        status: 'running',
        startedBy: run.startedBy,
        startedAt: new Date(run.startedAtMs),
        file: run.file as Prisma.InputJsonValue,
        plan: { mapping: run.mapping, notes: run.notes },
        shapes: run.shapes,
        affectedNodes: run.affectedNodes,
        steps: { create: run.steps.map((step) => ({ index: step.index, atMs: step.atMs, description: step.description })) },
      },
    });
  }

  async stepApplied(runId: string, index: number, atMs: number): Promise<void> {
    await this.prisma.experimentStep.updateMany({ where: { runId, index }, data: { appliedAt: new Date(atMs) } });
  }

  async addEvent(runId: string, event: ExperimentReport['events'][number]): Promise<void> {
    if ((await this.prisma.experimentEvent.count({ where: { runId } })) >= experimentEventsMax) return;
    await this.prisma.experimentEvent.create({ data: { runId, at: new Date(event.atMs), kind: event.kind, message: event.message } });
  }

  async addSamples(runId: string, samples: readonly ExperimentReport['samples'][number][]): Promise<void> {
    const room = experimentSamplesMax - (await this.prisma.experimentSample.count({ where: { runId } }));
    if (room <= 0 || samples.length === 0) return;
    await this.prisma.experimentSample.createMany({
      data: samples.slice(0, room).map((sample) => ({ runId, atMs: Math.round(sample.atMs), availability: sample.availability, divergence: sample.divergence, partitionType: sample.partitionType })),
    });
  }

  async linkPartition(runId: string, partitionId: string): Promise<void> {
    await this.prisma.experimentPartition.createMany({ data: [{ runId, partitionId }], skipDuplicates: true });
  }

  async finish(runId: string, finished: FinishedExperiment): Promise<void> {
    await this.prisma.$transaction([
      this.prisma.experimentVerdict.deleteMany({ where: { runId } }),
      this.prisma.experimentVerdict.createMany({
        data: finished.verdicts.map((verdict) => ({ runId, validator: verdict.validator, outcome: verdict.outcome, summary: verdict.summary, evidence: verdict.evidence as Prisma.InputJsonValue })),
      }),
      this.prisma.experimentRun.update({ where: { id: runId }, data: { status: finished.status, endedAt: new Date(finished.endedAtMs) } }),
    ]);
  }

  async listRunning(): Promise<ExperimentRunView[]> {
    const rows = await this.prisma.experimentRun.findMany({ where: { status: 'running' }, include: { verdicts: true }, take: experimentListMax });
    return rows.map(toRunView);
  }

  async find(runId: string): Promise<ExperimentReport | null> {
    const row = await this.prisma.experimentRun.findUnique({
      where: { id: runId },
      include: { verdicts: true, steps: { orderBy: { index: 'asc' } }, samples: { orderBy: [{ atMs: 'asc' }, { id: 'asc' }] }, events: { orderBy: [{ at: 'asc' }, { id: 'asc' }] }, partitions: true },
    });
    if (!row) return null;
    const plan = row.plan as { mapping: Record<string, string>; notes: string[] };
    return {
      ...toRunView(row),
      file: row.file,
      mapping: plan.mapping,
      notes: plan.notes,
      steps: row.steps.map((step) => ({ index: step.index, atMs: step.atMs, appliedAtMs: step.appliedAt?.getTime() ?? null, description: step.description })),
      verdictDetails: [...row.verdicts]
        .sort((a, b) => validatorOrder(a.validator) - validatorOrder(b.validator))
        .map((verdict) => ({ validator: verdict.validator as ExperimentVerdict['validator'], outcome: verdict.outcome as ExperimentVerdict['outcome'], summary: verdict.summary, evidence: verdict.evidence as Record<string, unknown> })),
      samples: row.samples.map((sample) => ({ atMs: sample.atMs, availability: sample.availability, divergence: sample.divergence, partitionType: sample.partitionType as PartitionType | null })),
      events: row.events.map((event) => ({ atMs: event.at.getTime(), kind: event.kind, message: event.message })),
      partitionIds: row.partitions.map((link) => link.partitionId).sort(),
    };
  }

  async list(query: { clusterId?: string; limit: number }): Promise<ExperimentRunView[]> {
    const rows = await this.prisma.experimentRun.findMany({
      where: query.clusterId === undefined ? {} : { clusterId: query.clusterId },
      include: { verdicts: true },
      orderBy: [{ startedAt: 'desc' }, { id: 'desc' }],
      take: Math.min(query.limit, experimentListMax),
    });
    return rows.map(toRunView);
  }
}
