/**
 * Partition history for the console: filtered, sorted, paginated listing (duration
 * is computed in SQL so it can be filtered and sorted on; history-export.ts streams
 * the same filters as CSV or JSON), and one partition's full record: timeline, state path, metric samples,
 * reachability over time from the ingest ledger, reconciliation reports, alerts
 * and recovery runs.
 */
import { z } from 'zod';
import type { HistoryPage } from '../core/http-views';
import { storableTimestampMsMax } from '../core/protocol';
import type { PlanChanges } from '../core/reconcile/plan-reconciliation';
import { safeText } from '../core/safe-text';
import { Prisma, type PrismaClient } from '../generated/prisma/client';
import { AppError } from './app-error';
import { toPartitionSummary, toTimelineEvent } from './db/partition-repository';
import { toAlertView } from './alerts-service';

/** Largest page of history one request may read. */
export const historyPageSizeMax = 100;
/** Most points in a reachability-over-time series. */
const reachabilityPointsMax = 600;
/** Time shown around a partition in its charts (ms), so the change is visible. */
const chartMarginMs = 30_000;
/** Most metric samples returned for one partition. */
const samplesMax = 5000;

/** Columns the history can be sorted on. */
export const historySortKeys = ['startedAt', 'duration', 'type', 'divergence', 'recovery'] as const;

/** Filters, sort and page of a history query (parsed from the query string). */
export const HistoryQuerySchema = z.object({
  clusterId: safeText().min(1).max(200).optional(),
  /** Comma-separated partition types. */
  type: z
    .string()
    .max(100)
    .transform((value) => value.split(',').filter(Boolean))
    .pipe(z.array(z.enum(['complete', 'partial', 'asymmetric', 'byzantine'])))
    .optional(),
  /** Started at or after (ms since epoch). */
  from: z.coerce.number().int().nonnegative().max(storableTimestampMsMax).optional(),
  /** Started before (ms since epoch). */
  to: z.coerce.number().int().nonnegative().max(storableTimestampMsMax).optional(),
  /** A node that must be involved. */
  node: safeText().min(1).max(200).optional(),
  durationMinS: z.coerce.number().nonnegative().optional(),
  durationMaxS: z.coerce.number().nonnegative().optional(),
  /** `active` for open partitions, or a recorded outcome. */
  outcome: z.enum(['active', 'healed', 'recovered', 'failed', 'abandoned']).optional(),
  sort: z.enum(historySortKeys).default('startedAt'),
  order: z.enum(['asc', 'desc']).default('desc'),
  page: z.coerce.number().int().min(1).max(100_000).default(1),
  pageSize: z.coerce.number().int().min(1).max(historyPageSizeMax).default(25),
});
export type HistoryQuery = z.infer<typeof HistoryQuerySchema>;

/** The SQL of each sort key (duration is computed per query). */
export const sortColumn: Record<(typeof historySortKeys)[number], Prisma.Sql> = {
  startedAt: Prisma.sql`"startedAt"`,
  duration: Prisma.sql`duration_ms`,
  type: Prisma.sql`"type"`,
  divergence: Prisma.sql`"divergenceMax"`,
  recovery: Prisma.sql`"recoveryMs"`,
};

/** The WHERE clause of a history query's filters, durations measured at `now`. */
export function whereOf(query: HistoryQuery, now: Date): Prisma.Sql {
  const conditions: Prisma.Sql[] = [Prisma.sql`TRUE`];
  const duration = Prisma.sql`EXTRACT(EPOCH FROM (COALESCE("endedAt", ${now}) - "startedAt"))`;
  if (query.clusterId) conditions.push(Prisma.sql`"clusterId" = ${query.clusterId}`);
  if (query.type && query.type.length > 0) conditions.push(Prisma.sql`"type" IN (${Prisma.join(query.type)})`);
  if (query.from !== undefined) conditions.push(Prisma.sql`"startedAt" >= ${new Date(query.from)}`);
  if (query.to !== undefined) conditions.push(Prisma.sql`"startedAt" < ${new Date(query.to)}`);
  if (query.node) conditions.push(Prisma.sql`${query.node} = ANY("nodeIds")`);
  if (query.durationMinS !== undefined) conditions.push(Prisma.sql`${duration} >= ${query.durationMinS}`);
  if (query.durationMaxS !== undefined) conditions.push(Prisma.sql`${duration} <= ${query.durationMaxS}`);
  if (query.outcome === 'active') conditions.push(Prisma.sql`"endedAt" IS NULL`);
  else if (query.outcome) conditions.push(Prisma.sql`"outcome" = ${query.outcome}`);
  return Prisma.join(conditions, ' AND ');
}

type RawHistoryRow = Prisma.PartitionGetPayload<object> & { duration_ms: number; total: bigint };

export class HistoryService {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly nowMs: () => number = Date.now,
  ) {}

  /** One page of history and the total count matching the filters. */
  async list(query: HistoryQuery, limitOverride?: number): Promise<HistoryPage> {
    const now = new Date(this.nowMs());
    const pageSize = limitOverride ?? query.pageSize;
    const offset = limitOverride ? 0 : (query.page - 1) * pageSize;
    const order = query.order === 'asc' ? Prisma.sql`ASC` : Prisma.sql`DESC`;
    const rows = await this.prisma.$queryRaw<RawHistoryRow[]>`
      SELECT "id", "clusterId", "type", "state", "startedAt", "endedAt", "detail", "nodeIds", "divergenceMax", "recoveryMs", "outcome",
             (EXTRACT(EPOCH FROM (COALESCE("endedAt", ${now}) - "startedAt")) * 1000)::float8 AS duration_ms,
             COUNT(*) OVER () AS total
      FROM "Partition"
      WHERE ${whereOf(query, now)}
      ORDER BY ${sortColumn[query.sort]} ${order} NULLS LAST, "id" ASC
      LIMIT ${pageSize} OFFSET ${offset}`;
    const total = rows.length > 0 ? Number(rows[0]!.total) : 0;
    return {
      items: rows.map((row) => ({ ...toPartitionSummary(row), durationMs: Math.round(Number(row.duration_ms)) })),
      total,
      page: limitOverride ? 1 : query.page,
      pageSize,
    };
  }

  /** Reachability over time around a partition: mean fraction of peers each agent heard, per second. */
  private async reachability(clusterId: string, fromMs: number, toMs: number) {
    const bucketMs = Math.max(1000, Math.ceil((toMs - fromMs) / reachabilityPointsMax / 1000) * 1000);
    const rows = await this.prisma.$queryRaw<{ bucket: number; ratio: number; agents: bigint }[]>`
      SELECT (FLOOR(EXTRACT(EPOCH FROM "receivedAt") * 1000 / ${bucketMs}) * ${bucketMs})::float8 AS bucket,
             AVG(CASE WHEN "peerCount" > 0 THEN "reachableCount"::float8 / "peerCount" ELSE 1 END)::float8 AS ratio,
             COUNT(DISTINCT "agentId") AS agents
      FROM "AgentReport"
      WHERE "clusterId" = ${clusterId} AND "receivedAt" >= ${new Date(fromMs)} AND "receivedAt" <= ${new Date(toMs)}
      GROUP BY 1 ORDER BY 1 LIMIT ${reachabilityPointsMax}`;
    return rows.map((row) => ({ atMs: Number(row.bucket), reachableRatio: Number(row.ratio), agents: Number(row.agents) }));
  }

  /** One partition's full record, or throws `not_found`. */
  async detail(id: string) {
    const row = await this.prisma.partition.findUnique({
      where: { id },
      include: {
        events: { orderBy: { at: 'asc' }, take: 1000 },
        alerts: { orderBy: { firedAt: 'asc' }, take: 100 },
        samples: { orderBy: { at: 'asc' }, take: samplesMax },
      },
    });
    if (!row) throw new AppError('not_found', `no partition with id ${id}`);
    const partition = toPartitionSummary(row);
    const endMs = partition.endedAtMs ?? this.nowMs();
    const [reports, recoveries, reachability] = await Promise.all([
      this.prisma.reconciliationReport.findMany({ where: { partitionId: id }, orderBy: { createdAt: 'asc' }, take: 50 }),
      this.prisma.recoveryRun.findMany({ where: { partitionId: id }, orderBy: { createdAt: 'asc' }, take: 50 }),
      this.reachability(row.clusterId, partition.startedAtMs - chartMarginMs, endMs + chartMarginMs),
    ]);
    const events = row.events.map(toTimelineEvent);
    const path = ['Normal', ...events.map((event) => event.state).filter((state): state is string => state !== null)].filter(
      (state, index, all) => index === 0 || state !== all[index - 1],
    );
    return {
      partition,
      durationMs: endMs - partition.startedAtMs,
      events,
      path,
      samples: row.samples.map((sample) => ({ name: sample.name, atMs: sample.at.getTime(), value: sample.value })),
      reachability,
      reports: reports.map((report) => ({ ...report, createdAtMs: report.createdAt.getTime(), recovered: recoveredChangesOf(report.detail) })),
      recoveries: recoveries.map((run) => ({ id: run.id, strategy: run.strategy, status: run.status, createdAtMs: run.createdAt.getTime(), startedAtMs: run.startedAt?.getTime() ?? null, endedAtMs: run.endedAt?.getTime() ?? null, decidedBy: run.decidedBy, reason: run.reason })),
      alerts: row.alerts.map(toAlertView),
    };
  }
}

const PlanChangesSchema = z.object({
  byTable: z.array(z.object({ table: z.string(), keys: z.number() })),
  toReceive: z.array(z.object({ nodeId: z.string(), keys: z.array(z.string()), more: z.number() })),
});

/** The recovered keys a stored reconciliation report carries (`detail.report.changes`), or null (older reports, failed runs). */
function recoveredChangesOf(detail: unknown): PlanChanges | null {
  const parsed = z.object({ report: z.object({ changes: PlanChangesSchema }) }).safeParse(detail);
  return parsed.success ? parsed.data.report.changes : null;
}
