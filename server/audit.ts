/**
 * The audit log: who did what, when, from where. Append-only by construction:
 * this module has no update or delete path, and the database refuses UPDATE,
 * DELETE and TRUNCATE on the table (migration 20261125030000). Admins read it.
 */
import type { AuditView } from '../core/http-views';
import { toSafeText } from '../core/safe-text';
import type { Prisma, PrismaClient } from '../generated/prisma/client';
import { clientOf, inTransaction } from './db/transaction-scope';

/** Largest page of audit entries one request may read. */
export const auditPageMax = 500;
/** Longest string kept in an entry's data; longer ones are cut (a log, not a store). */
const auditStringLengthMax = 500;
/** Field names whose values never reach the log. */
const secretFieldNames = new Set(['password', 'newPassword', 'token', 'secret', 'csrfToken']);

/** One action to record. */
export interface AuditRecord {
  /** User name, `token:<name>` for a bearer token, `anonymous`, or `system`. */
  actor: string;
  /** What was done, for example `alert.acknowledge` or `auth.sign-in`. */
  action: string;
  /** What it was done to (an id), if anything. */
  target?: string | null;
  /** Where the request came from: remote address and user agent. */
  origin?: string | null;
  /** Outcome and the request's parameters, with secrets removed. */
  data?: Record<string, unknown>;
}

/** `text` cut to `lengthMax` and made storable (NUL and lone surrogates replaced), so hostile text cannot make the entry fail. */
function storable(text: string, lengthMax: number): string {
  return toSafeText(text.length > lengthMax ? `${text.slice(0, lengthMax)}…` : text);
}

/** Copies `value` with secret fields replaced and long or unstorable strings made safe; bounded depth. */
export function redact(value: unknown, depth = 0): unknown {
  if (depth > 4) return '[nested]';
  if (typeof value === 'string') return storable(value, auditStringLengthMax);
  if (Array.isArray(value)) return value.slice(0, 50).map((item) => redact(item, depth + 1));
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [storable(key, auditStringLengthMax), secretFieldNames.has(key) ? '[redacted]' : redact(item, depth + 1)]),
    );
  }
  return value;
}

export class AuditLog {
  constructor(private readonly prisma: PrismaClient) {}

  /**
   * Runs an audited action and its entry in one transaction: if the entry cannot
   * be written, the action's writes roll back and its after-commit effects never run.
   */
  transaction<T>(action: () => Promise<T>): Promise<T> {
    return inTransaction(this.prisma, action);
  }

  /** Appends one entry, inside the ambient transaction when there is one (so it commits with the action). */
  async record(entry: AuditRecord): Promise<void> {
    await clientOf(this.prisma).auditEntry.create({
      data: {
        actor: storable(entry.actor, 200),
        action: storable(entry.action, 100),
        target: entry.target ? storable(entry.target, 200) : null,
        origin: entry.origin ? storable(entry.origin, 300) : null,
        data: redact(entry.data ?? {}) as Prisma.InputJsonValue,
      },
    });
  }

  /** Newest entries first; `beforeId` pages backwards; filters by actor or action prefix. */
  async list(options: { limit: number; beforeId?: string; actor?: string; action?: string }): Promise<AuditView[]> {
    const rows = await this.prisma.auditEntry.findMany({
      where: {
        ...(options.beforeId ? { id: { lt: BigInt(options.beforeId) } } : {}),
        ...(options.actor ? { actor: options.actor } : {}),
        ...(options.action ? { action: { startsWith: options.action } } : {}),
      },
      orderBy: { id: 'desc' },
      take: Math.min(options.limit, auditPageMax),
    });
    return rows.map((row) => ({
      id: row.id.toString(),
      atMs: row.at.getTime(),
      actor: row.actor,
      action: row.action,
      target: row.target,
      origin: row.origin,
      data: row.data,
    }));
  }
}
