/**
 * The sign-in throttle's store: the counters of core/sign-in-throttle kept in the
 * SignInThrottle table, so a restart does not reset them. `check` reads inside the
 * sign-in's transaction; `recordFailure` writes on the pool after it rolled back
 * (a failed sign-in writes nothing else), and `forget` clears a (name, source)
 * inside the successful sign-in's transaction. Old rows are pruned in bounded batches.
 */
import {
  type SignInThrottlePolicy,
  type ThrottleCount,
  type ThrottleKind,
  blockedUntilMs,
  countFailure,
  defaultSignInThrottlePolicy,
} from '../../core/sign-in-throttle';
import type { PrismaClient } from '../../generated/prisma/client';
import { AppError } from '../app-error';
import { afterSettle, clientOf } from '../db/transaction-scope';

/** Most stale counters deleted by one failed sign-in. */
export const throttlePruneBatchMax = 100;
/** Most sign-ins checked at once per (name, source) in this process; more are refused, so parallel guesses cannot outrun the count. */
const inFlightPerNameMax = 1;
/** Most sign-ins checked at once per source across all names, for the same reason against a parallel spray. */
const inFlightPerSourceMax = 4;
/** Most keys with a sign-in in flight; beyond it new ones are refused until some finish. */
const inFlightKeysMax = 10_000;

const nameKey = (name: string, source: string) => `name:${source} ${name}`;
const sourceKey = (source: string) => `source:${source}`;

export class SignInThrottle {
  private readonly inFlight = new Map<string, number>();

  constructor(
    private readonly prisma: PrismaClient,
    private readonly nowMs: () => number,
    private readonly policy: SignInThrottlePolicy = defaultSignInThrottlePolicy,
  ) {}

  /**
   * Runs one sign-in attempt for `name` from `source`: refuses with `rate_limited`
   * (saying how long to wait) while either counter says wait, counts a failure
   * when `attempt` throws `unauthorized`, and clears the (name, source) counter when it succeeds.
   */
  async attempt<T>(name: string, source: string, attempt: () => Promise<T>): Promise<T> {
    const key = nameKey(name, source);
    const fromSource = sourceKey(source);
    this.enter([key, inFlightPerNameMax], [fromSource, inFlightPerSourceMax]);
    try {
      await this.check(key, fromSource);
      const result = await attempt();
      await clientOf(this.prisma).signInThrottle.deleteMany({ where: { key } });
      return result;
    } catch (error) {
      if (error instanceof AppError && error.code === 'unauthorized') await afterSettle(() => this.recordFailure(key, fromSource));
      throw error;
    } finally {
      this.leave(key);
      this.leave(fromSource);
    }
  }

  /** Counts a sign-in in flight under each key, or refuses it when one of them is at its limit. */
  private enter(...limits: [string, number][]): void {
    const full = limits.some(([key, max]) => (this.inFlight.get(key) ?? 0) >= max || (!this.inFlight.has(key) && this.inFlight.size >= inFlightKeysMax));
    if (full) throw new AppError('rate_limited', 'other sign-ins for this name or from this address are being checked; retry in a moment');
    for (const [key] of limits) this.inFlight.set(key, (this.inFlight.get(key) ?? 0) + 1);
  }

  private leave(key: string): void {
    const left = (this.inFlight.get(key) ?? 1) - 1;
    if (left <= 0) this.inFlight.delete(key);
    else this.inFlight.set(key, left);
  }

  private async check(key: string, source: string): Promise<void> {
    const rows = await clientOf(this.prisma).signInThrottle.findMany({ where: { key: { in: [key, source] } } });
    const waitMs = Math.max(0, ...rows.map((row) => row.blockedUntil.getTime() - this.nowMs()));
    if (waitMs <= 0) return;
    const bySource = rows.some((row) => row.key === source && row.blockedUntil.getTime() > this.nowMs());
    throw new AppError(
      'rate_limited',
      `${bySource ? 'too many failed sign-ins from this address' : 'too many failed sign-ins for this name from this address'}; retry in ${Math.ceil(waitMs / 1000)} s`,
    );
  }

  /** Counts one failure against both counters, on the pool (never inside a transaction that rolls back). */
  private async recordFailure(key: string, source: string): Promise<void> {
    await this.count('name', key);
    await this.count('source', source);
    await this.prune();
  }

  private async count(kind: ThrottleKind, key: string): Promise<void> {
    const nowMs = this.nowMs();
    const row = await this.prisma.signInThrottle.findUnique({ where: { key } });
    const current: ThrottleCount | null = row
      ? { failures: row.failures, windowStartedAtMs: row.windowStartedAt.getTime(), lastFailedAtMs: row.lastFailedAt.getTime() }
      : null;
    const next = countFailure(kind, current, nowMs, this.policy);
    const data = {
      failures: next.failures,
      windowStartedAt: new Date(next.windowStartedAtMs),
      lastFailedAt: new Date(next.lastFailedAtMs),
      blockedUntil: new Date(blockedUntilMs(kind, next, this.policy)),
    };
    // A concurrent failure of the same source may land in between; the increment below keeps the count from going backwards.
    await this.prisma.signInThrottle.upsert({
      where: { key },
      create: { key, ...data },
      update: row && next.failures > 1 ? { ...data, failures: { increment: 1 } } : data,
    });
  }

  /** Deletes up to `throttlePruneBatchMax` counters that have been quiet for a window and no longer block. */
  private async prune(): Promise<void> {
    const quietBefore = new Date(this.nowMs() - this.policy.windowMs);
    await this.prisma.$executeRaw`DELETE FROM "SignInThrottle" WHERE "key" IN (
      SELECT "key" FROM "SignInThrottle" WHERE "lastFailedAt" < ${quietBefore} AND "blockedUntil" < ${new Date(this.nowMs())} LIMIT ${throttlePruneBatchMax})`;
  }
}
