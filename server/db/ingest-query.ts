/**
 * The statement runner of agent ingest. On a real PostgreSQL server it is a pg pool
 * of its own, beside Prisma's: the report writer sends one `INSERT … SELECT * FROM
 * unnest(…)` per batch, and through Prisma's raw query path the same statement ran
 * at a third of the rate (measured here: 24k against 67k rows/s, 4 connections,
 * batches of 500), the difference being Prisma's serialising of eleven arrays per
 * batch and of the returned rows. On the embedded PGlite it is Prisma's one client:
 * that database serves one connection (see database.ts).
 */
import pg from 'pg';
import type { PrismaClient } from '../../generated/prisma/client';

/** Runs one ingest statement with its parameters and returns its rows. */
export type IngestQuery = <Row>(sql: string, values: readonly unknown[]) => Promise<Row[]>;

/** An ingest runner and how to close it; after `close` it refuses instead of reconnecting. */
export interface IngestRunner {
  query: IngestQuery;
  close(): Promise<void>;
}

/** A pg pool of `max` connections on `connectionString`. */
export function poolIngestRunner(options: { connectionString: string; max: number; connectionTimeoutMillis: number; queryTimeoutMs: number }): IngestRunner {
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.max,
    connectionTimeoutMillis: options.connectionTimeoutMillis,
    // A connection that stops answering without closing must not stall ingest for ever.
    query_timeout: options.queryTimeoutMs,
  });
  // An idle connection the server drops must not crash the process; the next query opens another.
  pool.on('error', () => undefined);
  let closed = false;
  return {
    async query<Row>(sql: string, values: readonly unknown[]) {
      if (closed) throw new Error('database closed: the server is shutting down');
      return (await pool.query(sql, values as unknown[])).rows as Row[];
    },
    async close() {
      if (closed) return;
      closed = true;
      await pool.end();
    },
  };
}

/**
 * Whether a failed ingest statement was refused by a unique key (SQLSTATE 23505) or
 * chosen as a deadlock's victim (40P01): either way it stored nothing and the same
 * rows may be written again by a statement that skips conflicts. Read from pg's error
 * or from Prisma's raw-query error, which carries the driver's code.
 */
export function isConflictFailure(error: unknown): boolean {
  const shaped = error as { code?: unknown; meta?: { driverAdapterError?: { cause?: { originalCode?: unknown } } } } | null;
  const code = shaped?.meta?.driverAdapterError?.cause?.originalCode ?? shaped?.code;
  return code === '23505' || code === '40P01';
}

/** Runs ingest statements on a Prisma client (its closing is the client's). */
export function prismaIngestRunner(prisma: PrismaClient): IngestRunner {
  return {
    query: <Row>(sql: string, values: readonly unknown[]) => prisma.$queryRawUnsafe<Row[]>(sql, ...values),
    close: async () => undefined,
  };
}
