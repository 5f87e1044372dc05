/**
 * History export, streamed. The filtered history is read in keyset pages of
 * `exportPageRows` (never OFFSET, never one huge result), each page is written as
 * CSV lines or JSON array items as soon as it arrives, the next page is read only
 * once the client has taken the last one (backpressure), and the export stops when
 * the client goes away. Exports are bounded in number, overall and per caller: past
 * the bound the caller gets 503 `unavailable` or 429 `rate_limited` with a
 * Retry-After, instead of the server buffering a body per request.
 *
 * Pages are short queries on the console pool, so an export holds a connection only
 * while a page is read and agent ingest (its own pool) never waits for one.
 */
import type { PrismaClient } from '../generated/prisma/client';
import { Prisma } from '../generated/prisma/client';
import { AppError } from './app-error';
import { toPartitionSummary } from './db/partition-repository';
import type { HistoryRow } from '../core/http-views';
import { type HistoryQuery, sortColumn, whereOf } from './history-service';

/** Rows read per page of an export. */
export const exportPageRows = 500;
/** Most rows one export writes; past it the export ends (and says so in the log). */
export const exportRowsMax = 1_000_000;
/** Exports running at once, whoever asked; each holds at most one console connection at a time. */
export const exportsConcurrentMax = 2;
/** Exports one caller may run at once. */
export const exportsPerCallerMax = 1;
/** What a refused export is told to wait before trying again (s). */
export const exportRetryAfterS = 5;

/** Formats an export can be written in. */
export type ExportFormat = 'csv' | 'json';

/** Where an export writes; `write` resolves false once the client is gone. */
export interface ExportSink {
  write(chunk: string): Promise<boolean>;
}

/** A started export: what to send, and how to write it. */
export interface HistoryExport {
  contentType: string;
  filename: string;
  /** Writes the whole export to `sink`, page by page; releases the export's slot when done. */
  run(sink: ExportSink): Promise<{ rows: number; complete: boolean }>;
}

type RawExportRow = Prisma.PartitionGetPayload<object> & { duration_ms: number };
type SortValue = Date | string | number | null;

/** The row's value of the sort column, as the next page's keyset compares it. */
function sortValueOf(row: RawExportRow, sort: HistoryQuery['sort']): SortValue {
  switch (sort) {
    case 'startedAt':
      return row.startedAt;
    case 'duration':
      return Number(row.duration_ms);
    case 'type':
      return row.type;
    case 'divergence':
      return row.divergenceMax;
    case 'recovery':
      return row.recoveryMs;
  }
}

/** Rows after (value, id) in `ORDER BY column <order> NULLS LAST, id ASC`. */
function afterKeyset(column: Prisma.Sql, order: HistoryQuery['order'], value: SortValue, id: string): Prisma.Sql {
  if (value === null) return Prisma.sql`(${column} IS NULL AND "id" > ${id})`;
  const typed = typeof value === 'number' ? Prisma.sql`${value}::float8` : Prisma.sql`${value}`;
  const beyond = order === 'asc' ? Prisma.sql`${column} > ${typed}` : Prisma.sql`${column} < ${typed}`;
  return Prisma.sql`(${beyond} OR (${column} = ${typed} AND "id" > ${id}) OR ${column} IS NULL)`;
}

/** Escapes one CSV cell (RFC 4180), and defuses cells a spreadsheet would run as a formula. */
export function csvCell(value: string | number | null): string {
  if (value === null) return '';
  let text = String(value);
  if (/^[=+\-@\t\r]/.test(text) && typeof value === 'string') text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** The CSV export's header line. */
export const csvHeader = ['id', 'cluster', 'type', 'state', 'started_at', 'ended_at', 'duration_s', 'nodes', 'outcome', 'divergence_max', 'recovery_ms'].join(',');

/** One history row as a CSV line (without its line break). */
export function csvLine(row: HistoryRow): string {
  return [
    row.id,
    row.clusterId,
    row.type,
    row.state,
    new Date(row.startedAtMs).toISOString(),
    row.endedAtMs === null ? null : new Date(row.endedAtMs).toISOString(),
    Math.round(row.durationMs / 100) / 10,
    row.nodeIds.join(' '),
    row.outcome,
    row.divergenceMax,
    row.recoveryMs,
  ]
    .map(csvCell)
    .join(',');
}

/** Counts running exports, overall and per caller. */
export class ExportSlots {
  private running = 0;
  private readonly byCaller = new Map<string, number>();

  constructor(
    private readonly totalMax = exportsConcurrentMax,
    private readonly perCallerMax = exportsPerCallerMax,
  ) {}

  /** Takes a slot for `caller` and returns its release, or throws 429/503 naming the bound. */
  acquire(caller: string): () => void {
    const mine = this.byCaller.get(caller) ?? 0;
    if (mine >= this.perCallerMax) {
      throw new AppError('rate_limited', `at most ${this.perCallerMax} export(s) at once per caller; retry when yours has finished`, { retryAfterS: exportRetryAfterS });
    }
    if (this.running >= this.totalMax) {
      throw new AppError('unavailable', `${this.totalMax} exports are already running; retry in ${exportRetryAfterS} s`, { retryAfterS: exportRetryAfterS });
    }
    this.running += 1;
    this.byCaller.set(caller, mine + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.running -= 1;
      const left = (this.byCaller.get(caller) ?? 1) - 1;
      if (left > 0) this.byCaller.set(caller, left);
      else this.byCaller.delete(caller);
    };
  }

  /** Exports running now. */
  get active(): number {
    return this.running;
  }
}

/** One row of the JSON export: the summary and its duration, as the history lists it. */
const toHistoryRow = (row: RawExportRow): HistoryRow => ({ ...toPartitionSummary(row), durationMs: Math.round(Number(row.duration_ms)) });

const formats: Record<ExportFormat, { contentType: string; filename: string; open: string; item: (row: HistoryRow, first: boolean) => string; close: string }> = {
  csv: {
    contentType: 'text/csv; charset=utf-8',
    filename: 'faultline-partitions.csv',
    open: `${csvHeader}\r\n`,
    item: (row) => `${csvLine(row)}\r\n`,
    close: '',
  },
  json: {
    contentType: 'application/json; charset=utf-8',
    filename: 'faultline-partitions.json',
    open: '[',
    item: (row, first) => `${first ? '\n' : ',\n'}${JSON.stringify(row)}`,
    close: '\n]\n',
  },
};

export class HistoryExporter {
  readonly slots: ExportSlots;

  constructor(
    private readonly prisma: PrismaClient,
    private readonly options: { nowMs?: () => number; slots?: ExportSlots; logger?: { warn(data: object, message: string): void } } = {},
  ) {
    this.slots = options.slots ?? new ExportSlots();
  }

  /** Starts an export for `caller`, or throws when too many run already. */
  start(query: HistoryQuery, format: ExportFormat, caller: string): HistoryExport {
    const release = this.slots.acquire(caller);
    const shape = formats[format];
    return {
      contentType: shape.contentType,
      filename: shape.filename,
      run: async (sink) => {
        try {
          return await this.write(query, shape, sink);
        } finally {
          release();
        }
      },
    };
  }

  private async write(query: HistoryQuery, shape: (typeof formats)[ExportFormat], sink: ExportSink) {
    const now = new Date((this.options.nowMs ?? Date.now)());
    const duration = Prisma.sql`(EXTRACT(EPOCH FROM (COALESCE("endedAt", ${now}) - "startedAt")) * 1000)::float8`;
    const column = query.sort === 'duration' ? duration : sortColumn[query.sort];
    const order = query.order === 'asc' ? Prisma.sql`ASC` : Prisma.sql`DESC`;
    if (!(await sink.write(shape.open))) return { rows: 0, complete: false };
    let rows = 0;
    let keyset: Prisma.Sql = Prisma.sql`TRUE`;
    while (rows < exportRowsMax) {
      const limit = Math.min(exportPageRows, exportRowsMax - rows);
      const page = await this.prisma.$queryRaw<RawExportRow[]>`
        SELECT "id", "clusterId", "type", "state", "startedAt", "endedAt", "detail", "nodeIds", "divergenceMax", "recoveryMs", "outcome",
               ${duration} AS duration_ms
        FROM "Partition"
        WHERE ${whereOf(query, now)} AND ${keyset}
        ORDER BY ${column} ${order} NULLS LAST, "id" ASC
        LIMIT ${limit}`;
      const text = page.map((row, index) => shape.item(toHistoryRow(row), rows + index === 0)).join('');
      rows += page.length;
      if (page.length > 0 && !(await sink.write(text))) return { rows, complete: false };
      if (page.length < limit) break;
      const last = page[page.length - 1]!;
      keyset = afterKeyset(column, query.order, sortValueOf(last, query.sort), last.id);
    }
    if (rows >= exportRowsMax) this.options.logger?.warn({ rows }, `history export stopped at ${exportRowsMax} rows`);
    return { rows, complete: await sink.write(shape.close) };
  }
}
