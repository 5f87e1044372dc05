/**
 * Refusals that happen outside a request's own audit entry (Socket.IO handshakes
 * and events, agent reports) are written to the audit log as evidence, aggregated:
 * identical refusals between two flushes become one entry with a count, so a flood
 * of refusals cannot flood the database too. What cannot be written is kept for
 * the next flush.
 */
import { redact } from './audit';
import type { Prisma, PrismaClient } from '../generated/prisma/client';
import type { Logger } from './logger';

/** Most distinct refusals aggregated between two flushes; more are counted only in `dropped`. */
export const refusalKeysMax = 200;
/** How often aggregated refusals are written to the audit log (ms). */
export const refusalFlushMs = 10_000;

/** One refusal to record. */
export interface RefusalNote {
  /** Who was refused: `agent:<cluster>/<agent>`, a user or token name, or `anonymous`. */
  actor: string;
  /** What was refused, for example `agent.refused` or `dashboard.refused`. */
  action: string;
  target: string | null;
  /** Remote address (and user agent), when known. */
  origin: string | null;
  /** Why, for example `bad-signature` or `forbidden: unknown event`. */
  reason: string;
}

interface Tally extends RefusalNote {
  count: number;
  lastAtMs: number;
}

export class RefusalTally {
  private readonly pending = new Map<string, Tally>();
  private readonly timer: NodeJS.Timeout;
  /** Refusals not recorded because `refusalKeysMax` distinct ones were already waiting. */
  dropped = 0;

  constructor(
    private readonly prisma: PrismaClient,
    private readonly logger: Logger,
    private readonly nowMs: () => number = Date.now,
  ) {
    this.timer = setInterval(() => void this.flush(), refusalFlushMs);
    this.timer.unref();
  }

  /** Counts one refusal. */
  note(refusal: RefusalNote): void {
    const key = JSON.stringify([refusal.actor, refusal.action, refusal.target, refusal.origin, refusal.reason]);
    const entry = this.pending.get(key);
    if (entry) {
      entry.count += 1;
      entry.lastAtMs = this.nowMs();
    } else if (this.pending.size < refusalKeysMax) {
      this.pending.set(key, { ...refusal, count: 1, lastAtMs: this.nowMs() });
    } else {
      this.dropped += 1;
    }
  }

  /** Writes what is pending as one entry per distinct refusal; kept for the next flush if the database is down. */
  async flush(): Promise<void> {
    if (this.pending.size === 0) return;
    const batch = [...this.pending.entries()];
    this.pending.clear();
    try {
      await this.prisma.auditEntry.createMany({
        data: batch.map(([, entry]) => ({
          actor: entry.actor,
          action: entry.action,
          target: entry.target,
          origin: entry.origin,
          data: redact({ reason: entry.reason, count: entry.count, lastAtMs: entry.lastAtMs }) as Prisma.InputJsonValue,
        })),
      });
    } catch (error) {
      this.logger.warn({ err: error, kinds: batch.length }, 'refusal evidence not written; will retry');
      for (const [key, entry] of batch) if (!this.pending.has(key) && this.pending.size < refusalKeysMax) this.pending.set(key, entry);
    }
  }

  /** Stops the timer and writes what is pending. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }
}
