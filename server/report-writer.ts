/**
 * Writes ingested reports to the database in batches. Each `write` resolves only
 * once its row is committed, so the caller can acknowledge the agent after the
 * write is durable. Duplicate (cluster, agent, incarnation, sequence) rows are
 * skipped by the primary key, which makes a replayed report harmless; the rows the
 * INSERT returns tell which reports were new, so a duplicate is answered as such.
 */
import type { PrismaClient } from '../generated/prisma/client';
import type { AgentReport } from '../core/protocol';
import type { Logger } from './logger';

/** Most rows written in one statement. */
export const reportBatchMax = 500;
/** Most reports waiting to be written; beyond it `write` rejects and the agent retries later. */
export const reportQueueMax = 20_000;

interface Pending {
  report: AgentReport;
  receivedAtMs: number;
  resolve: (result: WriteResult) => void;
  reject: (error: unknown) => void;
}

/** What happened to one written report. */
export interface WriteResult {
  /** True when the row already existed (an earlier copy was stored): nothing was written. */
  duplicate: boolean;
}

const rowKey = (row: { clusterId: string; agentId: string; incarnation: bigint | number; sequence: bigint | number }) =>
  `${row.clusterId}\u0000${row.agentId}\u0000${row.incarnation}\u0000${row.sequence}`;

export class ReportWriter {
  private queue: Pending[] = [];
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> | null = null;
  /** Reports committed since start (new rows). */
  writtenCount = 0;
  /** Reports found already stored since start. */
  duplicateCount = 0;

  constructor(
    private readonly prisma: PrismaClient,
    private readonly flushMs: number,
    private readonly logger: Logger,
  ) {}

  /** Number of reports waiting for their batch. */
  get depth(): number {
    return this.queue.length;
  }

  /** Queues a report; resolves when it is committed, saying whether it was a duplicate. */
  write(report: AgentReport, receivedAtMs: number): Promise<WriteResult> {
    if (this.queue.length >= reportQueueMax) return Promise.reject(new Error('report queue full'));
    return new Promise((resolve, reject) => {
      this.queue.push({ report, receivedAtMs, resolve, reject });
      if (this.queue.length >= reportBatchMax) void this.flush();
      else this.timer ??= setTimeout(() => void this.flush(), this.flushMs);
    });
  }

  /** Writes everything queued so far; safe to call concurrently. */
  async flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    while (this.flushing) await this.flushing;
    if (this.queue.length === 0) return;
    const batch = this.queue.splice(0, reportBatchMax);
    this.flushing = this.writeBatch(batch).finally(() => {
      this.flushing = null;
    });
    await this.flushing;
    if (this.queue.length > 0) await this.flush();
  }

  private async writeBatch(batch: Pending[]): Promise<void> {
    try {
      const inserted = await this.prisma.agentReport.createManyAndReturn({
        data: batch.map(({ report, receivedAtMs }) => ({
          clusterId: report.clusterId,
          agentId: report.agentId,
          incarnation: BigInt(report.incarnation),
          sequence: BigInt(report.sequence),
          sentAt: new Date(report.sentAtMs),
          receivedAt: new Date(receivedAtMs),
          reachableCount: report.observations.filter((observation) => observation.reachable).length,
          peerCount: report.observations.length,
          outboxDepth: report.outboxDepth ?? null,
          outboxDropped: report.outboxDropped ?? null,
          nonce: report.auth?.nonce ?? null,
        })),
        skipDuplicates: true,
        select: { clusterId: true, agentId: true, incarnation: true, sequence: true },
      });
      const fresh = new Set(inserted.map(rowKey));
      for (const pending of batch) {
        const key = rowKey(pending.report);
        const duplicate = !fresh.delete(key);
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
