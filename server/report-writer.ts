/**
 * Writes ingested reports to the database in batches. Each `write` resolves only
 * once its row is committed, so the caller can acknowledge the agent after the
 * write is durable. Duplicate (cluster, agent, incarnation, sequence) rows are
 * skipped by the primary key, which makes a replayed report harmless; the rows the
 * INSERT returns tell which reports were new, so a duplicate is answered as such.
 *
 * One batch is one statement, `INSERT … SELECT * FROM unnest($1::text[], …)`, with
 * one array parameter per column: the statement text and the parameter count do
 * not grow with the batch, so PostgreSQL parses and plans a batch of 4,000 rows as it
 * would one row, and the rows travel as eleven array values instead of 44,000 bound
 * parameters. The statement first tried stores every row or none: a plain INSERT,
 * which PostgreSQL runs about a third faster than the same INSERT with `ON CONFLICT
 * DO NOTHING RETURNING` (measured beside COPY: 0.69 of its rate against 0.53). A
 * batch holding a report already stored (a replay after a reconnect) fails it on the
 * primary key having written nothing, and is written again with the conflict-skipping
 * statement, whose returned keys tell which reports were new; for a few seconds after
 * such a conflict every batch goes straight to that statement, since replays come in
 * runs. Measured beside COPY by `npm run bench:ingest` (see README).
 */
import type { AgentReport } from '../core/protocol';
import { type IngestQuery, isConflictFailure } from './db/ingest-query';
import type { Logger } from './logger';

/**
 * Most rows written in one statement. Each batch is one commit, and under load the
 * commits and the per-statement work are what set the rate: beside COPY, 4 batches at
 * once of the conflict-skipping statement reached about 0.5 of its rate with batches of
 * 500 and about 0.55 with 4,000 (of the all-new statement: 0.69). A lone report still
 * goes out after `flushMs`, so the size only matters when reports queue.
 */
export const reportBatchMax = 4000;
/** Most reports waiting to be written; beyond it `write` rejects and the agent retries later. */
export const reportQueueMax = 20_000;
/** After a batch met a stored report, batches skip the all-new attempt for this long (ms). */
export const conflictRunMs = 5000;

/**
 * What is stored of a report: its key, times and counts. The queue holds these, not
 * the reports, so 20,000 waiting reports do not keep their observations (32 to 999
 * objects each) alive for the collector to mark while they wait.
 */
export interface ReportRow {
  clusterId: string;
  agentId: string;
  incarnation: number;
  sequence: number;
  sentAtMs: number;
  receivedAtMs: number;
  reachableCount: number;
  peerCount: number;
  outboxDepth: number | null;
  outboxDropped: number | null;
  nonce: string | null;
}

/** The row stored for a report received at `receivedAtMs`. */
export function reportRow(report: AgentReport, receivedAtMs: number): ReportRow {
  let reachableCount = 0;
  for (const observation of report.observations) if (observation.reachable) reachableCount += 1;
  return {
    clusterId: report.clusterId,
    agentId: report.agentId,
    incarnation: report.incarnation,
    sequence: report.sequence,
    sentAtMs: report.sentAtMs,
    receivedAtMs,
    reachableCount,
    peerCount: report.observations.length,
    outboxDepth: report.outboxDepth ?? null,
    outboxDropped: report.outboxDropped ?? null,
    nonce: report.auth?.nonce ?? null,
  };
}

interface Pending {
  row: ReportRow;
  resolve: (result: WriteResult) => void;
  reject: (error: unknown) => void;
}

/** What happened to one written report. */
export interface WriteResult {
  /** True when the row already existed (an earlier copy was stored): nothing was written. */
  duplicate: boolean;
}

/**
 * The batch insert. Timestamps travel as ISO text and are cast to `timestamp(3)`: the
 * columns are `timestamp without time zone` holding UTC (Prisma's convention), and that
 * cast ignores the trailing `Z`, so the stored value is the UTC instant whatever the
 * session's time zone. `ON CONFLICT DO NOTHING` also skips a second copy of a row
 * inside the same batch.
 */
export const reportInsertSql = `INSERT INTO "AgentReport"
  ("clusterId", "agentId", "incarnation", "sequence", "sentAt", "receivedAt", "reachableCount", "peerCount", "outboxDepth", "outboxDropped", "nonce")
  SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::timestamp(3)[], $6::timestamp(3)[], $7::int[], $8::int[], $9::int[], $10::int[], $11::text[])
  ON CONFLICT DO NOTHING
  RETURNING "clusterId", "agentId", "incarnation", "sequence"`;

/** The same insert when every row is taken to be new: it fails whole on the first stored one. */
export const reportInsertNewSql = reportInsertSql.slice(0, reportInsertSql.indexOf('\n  ON CONFLICT'));

/** The column arrays of `reportInsertSql`, in its parameter order. */
export function reportInsertColumns(rows: readonly ReportRow[]): unknown[][] {
  const columns: unknown[][] = Array.from({ length: 11 }, () => new Array<unknown>(rows.length));
  rows.forEach((row, index) => {
    columns[0]![index] = row.clusterId;
    columns[1]![index] = row.agentId;
    // As text: exact for any safe integer, and the cast makes it bigint.
    columns[2]![index] = String(row.incarnation);
    columns[3]![index] = String(row.sequence);
    columns[4]![index] = new Date(row.sentAtMs).toISOString();
    columns[5]![index] = new Date(row.receivedAtMs).toISOString();
    columns[6]![index] = row.reachableCount;
    columns[7]![index] = row.peerCount;
    columns[8]![index] = row.outboxDepth;
    columns[9]![index] = row.outboxDropped;
    columns[10]![index] = row.nonce;
  });
  return columns;
}

const rowKey = (row: { clusterId: string; agentId: string; incarnation: bigint | number | string; sequence: bigint | number | string }) =>
  `${row.clusterId}\u0000${row.agentId}\u0000${row.incarnation}\u0000${row.sequence}`;

export class ReportWriter {
  private queue: Pending[] = [];
  private timer: NodeJS.Timeout | null = null;
  /** Batches being written now, each on its own pool connection. */
  private inFlight = new Set<Promise<void>>();
  /** Reports committed since start (new rows). */
  writtenCount = 0;
  /** Reports found already stored since start. */
  duplicateCount = 0;
  /** Batches whose all-new attempt met a stored report and were written again skipping it. */
  conflictRetryCount = 0;
  /** When a batch last met a stored report (ms, this process's clock), or never. */
  private conflictAtMs = Number.NEGATIVE_INFINITY;

  /**
   * `batchesInFlightMax`: batches written at once, one per connection of the ingest pool
   * (1 on the embedded database, whose single session runs one query at a time). While
   * one batch waits for its commit the next is already on its way: a lone sequential
   * writer spends most of its time waiting for round trips and fsyncs.
   */
  constructor(
    private readonly query: IngestQuery,
    private readonly flushMs: number,
    private readonly logger: Logger,
    private readonly batchesInFlightMax = 1,
  ) {}

  /** Number of reports waiting for their batch. */
  get depth(): number {
    return this.queue.length;
  }

  /** Whether `write` would refuse now (the queue is at its bound). */
  get full(): boolean {
    return this.queue.length >= reportQueueMax;
  }

  /** Queues a report; resolves when it is committed, saying whether it was a duplicate. */
  write(report: AgentReport, receivedAtMs: number): Promise<WriteResult> {
    if (this.queue.length >= reportQueueMax) return Promise.reject(new Error('report queue full'));
    return new Promise((resolve, reject) => {
      this.queue.push({ row: reportRow(report, receivedAtMs), resolve, reject });
      if (this.queue.length >= reportBatchMax) this.pump(false);
      else this.timer ??= setTimeout(() => this.pump(true), this.flushMs);
    });
  }

  /** Writes everything queued so far and waits for every batch in flight; safe to call concurrently. */
  async flush(): Promise<void> {
    for (let rounds = 0; rounds <= reportQueueMax / reportBatchMax + this.batchesInFlightMax; rounds += 1) {
      this.pump(true);
      if (this.inFlight.size === 0) return;
      await Promise.race(this.inFlight);
    }
  }

  /** Starts batches while connections are free: full ones only, or also a partial one when its wait is over (`due`). */
  private pump(due: boolean): void {
    if (due && this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    while (this.inFlight.size < this.batchesInFlightMax && (this.queue.length >= reportBatchMax || (due && this.queue.length > 0))) {
      const writing: Promise<void> = this.writeBatch(this.queue.splice(0, reportBatchMax)).finally(() => {
        this.inFlight.delete(writing);
        // A free connection takes what queued meanwhile at once (group commit): under load that is a full batch.
        this.pump(true);
      });
      this.inFlight.add(writing);
    }
    if (this.queue.length > 0) this.timer ??= setTimeout(() => this.pump(true), this.flushMs);
  }

  private async writeBatch(batch: Pending[]): Promise<void> {
    try {
      const columns = reportInsertColumns(batch.map((pending) => pending.row));
      // The fast statement first, unless a conflict was met lately; null: every row was new.
      let fresh: Set<string> | null = null;
      let stored = false;
      if (Date.now() - this.conflictAtMs >= conflictRunMs) {
        try {
          await this.query(reportInsertNewSql, columns);
          stored = true;
        } catch (error) {
          if (!isConflictFailure(error)) throw error;
          this.conflictAtMs = Date.now();
          this.conflictRetryCount += 1;
        }
      }
      if (!stored) fresh = new Set((await this.query<Parameters<typeof rowKey>[0]>(reportInsertSql, columns)).map(rowKey));
      for (const pending of batch) {
        const duplicate = fresh !== null && !fresh.delete(rowKey(pending.row));
        if (duplicate) this.duplicateCount += 1;
        else this.writtenCount += 1;
        pending.resolve({ duplicate });
      }
    } catch (error) {
      this.logger.warn({ err: error, batch: batch.length }, 'report batch write failed');
      for (const pending of batch) pending.reject(error);
    }
  }
}
