/** The database probe behind health and readiness. */
import type { HealthReport } from '../core/http-views';
import type { Database } from './db/database';

/** Longest a health or readiness probe waits for the database (ms); a hung connection must not hang the probe. */
export const databaseProbeTimeoutMs = 2000;

/** Whether the database answers, and how fast. */
export async function probeDatabase(database: Database): Promise<HealthReport['database']> {
  const started = performance.now();
  try {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${databaseProbeTimeoutMs} ms`)), databaseProbeTimeoutMs);
    });
    await Promise.race([database.prisma.$queryRaw`SELECT 1`, timedOut]).finally(() => clearTimeout(timer));
    return { ok: true, embedded: database.embedded, latencyMs: Math.round(performance.now() - started) };
  } catch (error) {
    return { ok: false, embedded: database.embedded, latencyMs: null, error: (error as Error).message.slice(0, 200) };
  }
}

/** The database part of the health report. */
export function healthOf(database: HealthReport['database']): Pick<HealthReport, 'status' | 'database'> {
  return { status: database.ok ? 'ok' : 'degraded', database };
}
