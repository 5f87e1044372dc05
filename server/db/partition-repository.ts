/**
 * Partitions and their timelines: the `PartitionStore` interface, its Prisma
 * implementation (`PartitionRepository`) and the mappings shared with the
 * in-memory twin (`memory-partition-store.ts`); `partition-store-contract.ts`
 * holds both to one contract.
 */
import type { Prisma, PrismaClient } from '../../generated/prisma/client';
import type { PartitionType, PartitionVerdict } from '../../core/classify-partition';
import type { PartitionLifecycleState } from '../../core/lifecycle/partition-lifecycle';
import type { PartitionSummary } from '../../core/realtime-contract';
import type { PartitionWithTimeline, TimelineEvent } from '../../core/http-views';

/** Largest page of partitions one request may ask for. */
export const partitionPageMax = 200;

type PartitionRow = Prisma.PartitionGetPayload<object>;

export interface PartitionDetail {
  components: string[][];
  cutLinks: PartitionSummary['cutLinks'];
  majorityIndex: number | null;
}

/** Maps a stored row to the summary shown to operators. */
export function toPartitionSummary(row: PartitionRow): PartitionSummary {
  const detail = row.detail as unknown as PartitionDetail;
  return {
    id: row.id,
    clusterId: row.clusterId,
    type: row.type as PartitionType,
    state: row.state,
    startedAtMs: row.startedAt.getTime(),
    endedAtMs: row.endedAt?.getTime() ?? null,
    components: detail.components ?? [],
    cutLinks: detail.cutLinks ?? [],
    nodeIds: row.nodeIds,
    outcome: row.outcome,
    divergenceMax: row.divergenceMax,
    recoveryMs: row.recoveryMs,
  };
}

/** A page request for partitions, newest first. */
export interface PartitionPage {
  clusterId?: string;
  limit: number;
  beforeMs?: number;
}

/** What the cluster service and the lifecycle store save and read about partitions. */
export interface PartitionStore {
  /** Opens a partition and its first timeline event. */
  open(clusterId: string, verdict: PartitionVerdict, atMs: number, state: string): Promise<PartitionSummary>;
  /** Records a new classification of an open partition; its type stays the most severe seen. */
  reclassify(active: PartitionSummary, verdict: PartitionVerdict, atMs: number): Promise<PartitionSummary>;
  /** Closes a partition with its outcome (and, when it was recovered, the time from heal to verified). */
  close(id: string, atMs: number, outcome: string, cause: string, recoveryMs?: number | null): Promise<PartitionSummary>;
  /** Adds one event to a partition's timeline. */
  recordEvent(id: string, atMs: number, kind: string, cause: string): Promise<void>;
  /** The saved lifecycle of a partition, or null. */
  findLifecycle(id: string): Promise<PartitionLifecycleState | null>;
  /** The open partition of a cluster (the latest started), if any. */
  findActive(clusterId: string): Promise<PartitionSummary | null>;
  /** A page of partitions, newest first, at most `partitionPageMax`. */
  list(options: PartitionPage): Promise<PartitionSummary[]>;
  /** One partition with its timeline (oldest first, at most 1000 entries), or null. */
  findWithEvents(id: string): Promise<PartitionWithTimeline | null>;
}

/** Maps a stored timeline row to the entry the API serves. */
export function toTimelineEvent(event: Prisma.PartitionEventGetPayload<object>): TimelineEvent {
  return {
    id: event.id.toString(),
    atMs: event.at.getTime(),
    kind: event.kind,
    state: event.state,
    cause: event.cause,
    actor: event.actor,
    data: event.data,
  };
}

/** Nodes a verdict implicates: every node outside the largest side, and both ends of every cut link. */
export function involvedNodes(verdict: PartitionVerdict): string[] {
  const involved = new Set<string>();
  verdict.components.slice(1).forEach((component) => component.forEach((node) => involved.add(node)));
  verdict.cutLinks.forEach((link) => {
    involved.add(link.a);
    involved.add(link.b);
  });
  return [...involved].sort();
}

/** What a partition's row keeps of a verdict. */
export function verdictDetail(verdict: PartitionVerdict): PartitionDetail {
  return { components: verdict.components, cutLinks: verdict.cutLinks, majorityIndex: verdict.majorityIndex };
}

function detailOf(verdict: PartitionVerdict): Prisma.InputJsonValue {
  return verdictDetail(verdict) as unknown as Prisma.InputJsonValue;
}

/** Severity order of partition types, least severe first. */
const severityOrder: PartitionType[] = ['asymmetric', 'partial', 'complete', 'byzantine'];

/** The more severe of two partition types. */
export function mostSevere(a: PartitionType, b: PartitionType): PartitionType {
  return severityOrder.indexOf(a) >= severityOrder.indexOf(b) ? a : b;
}

/** The Prisma `PartitionStore`. */
export class PartitionRepository implements PartitionStore {
  constructor(private readonly prisma: PrismaClient) {}

  /** Opens a partition and its first timeline event in one transaction. */
  async open(clusterId: string, verdict: PartitionVerdict, atMs: number, state: string): Promise<PartitionSummary> {
    const at = new Date(atMs);
    const row = await this.prisma.partition.create({
      data: {
        clusterId,
        type: verdict.type ?? 'partial',
        state,
        startedAt: at,
        detail: detailOf(verdict),
        nodeIds: involvedNodes(verdict),
        events: {
          create: { at, kind: 'detected', state, cause: `classified ${verdict.type}`, data: detailOf(verdict) },
        },
      },
    });
    return toPartitionSummary(row);
  }

  /** Records a new classification of an open partition; its type stays the most severe seen. */
  async reclassify(active: PartitionSummary, verdict: PartitionVerdict, atMs: number): Promise<PartitionSummary> {
    const row = await this.prisma.partition.update({
      where: { id: active.id },
      data: {
        type: mostSevere(active.type, verdict.type ?? 'partial'),
        detail: detailOf(verdict),
        nodeIds: involvedNodes(verdict),
        events: {
          create: { at: new Date(atMs), kind: 'reclassified', cause: `classified ${verdict.type}`, data: detailOf(verdict) },
        },
      },
    });
    return toPartitionSummary(row);
  }

  /** Closes a partition with its outcome (and, when it was recovered, the time from heal to verified). */
  async close(id: string, atMs: number, outcome: string, cause: string, recoveryMs: number | null = null): Promise<PartitionSummary> {
    const at = new Date(atMs);
    const row = await this.prisma.partition.update({
      where: { id },
      data: {
        endedAt: at,
        state: 'Normal',
        outcome,
        ...(recoveryMs !== null ? { recoveryMs: Math.round(recoveryMs) } : {}),
        events: { create: { at, kind: 'ended', state: 'Normal', cause } },
      },
    });
    return toPartitionSummary(row);
  }

  /** Adds one event to a partition's timeline. */
  async recordEvent(id: string, atMs: number, kind: string, cause: string): Promise<void> {
    await this.prisma.partitionEvent.create({ data: { partitionId: id, at: new Date(atMs), kind, cause } });
  }

  /** The saved lifecycle of a partition, or null. */
  async findLifecycle(id: string): Promise<PartitionLifecycleState | null> {
    const row = await this.prisma.partition.findUnique({ where: { id }, select: { lifecycle: true } });
    return (row?.lifecycle as unknown as PartitionLifecycleState | null) ?? null;
  }

  /** The open partition of a cluster, if any. */
  async findActive(clusterId: string): Promise<PartitionSummary | null> {
    const row = await this.prisma.partition.findFirst({
      where: { clusterId, endedAt: null },
      orderBy: { startedAt: 'desc' },
    });
    return row ? toPartitionSummary(row) : null;
  }

  /** A page of partitions, newest first. */
  async list(options: PartitionPage): Promise<PartitionSummary[]> {
    const rows = await this.prisma.partition.findMany({
      where: {
        ...(options.clusterId ? { clusterId: options.clusterId } : {}),
        ...(options.beforeMs !== undefined ? { startedAt: { lt: new Date(options.beforeMs) } } : {}),
      },
      orderBy: { startedAt: 'desc' },
      take: Math.min(options.limit, partitionPageMax),
    });
    return rows.map(toPartitionSummary);
  }

  /** One partition with its timeline, or null. */
  async findWithEvents(id: string): Promise<PartitionWithTimeline | null> {
    const row = await this.prisma.partition.findUnique({
      where: { id },
      include: { events: { orderBy: { at: 'asc' }, take: 1000 } },
    });
    if (!row) return null;
    return {
      partition: toPartitionSummary(row),
      ledger: row.ledger,
      events: row.events.map(toTimelineEvent),
    };
  }
}
