/**
 * Whether the database already carries every committed migration, asked directly
 * of Prisma's own `_prisma_migrations` table. `prisma migrate deploy` starts a
 * second Node process and its WebAssembly engines, which costs about 10 s on this
 * project's machines even when there is nothing to apply; a start against an
 * up-to-date database skips it after this one query. Anything unexpected (no
 * table, a migration missing, a checksum that differs, a failed or unfinished
 * run, one the folder does not have) goes the slow path, where Prisma decides
 * and reports.
 */
import { createHash } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';

/** One migration of the folder: its name and Prisma's checksum (SHA-256 of migration.sql, hex). */
export interface LocalMigration {
  name: string;
  checksum: string;
}

/** One row of `_prisma_migrations`. */
export interface AppliedMigration {
  name: string;
  checksum: string;
  finished: boolean;
  rolledBack: boolean;
}

/** The committed migrations, in order. */
export async function readLocalMigrations(migrationsDir: string): Promise<LocalMigration[]> {
  const entries = await readdir(migrationsDir, { withFileTypes: true });
  const names = entries.filter((entry) => entry.isDirectory()).map((entry) => entry.name).sort();
  return Promise.all(
    names.map(async (name) => ({ name, checksum: createHash('sha256').update(await readFile(path.join(migrationsDir, name, 'migration.sql'))).digest('hex') })),
  );
}

/**
 * Why `migrate deploy` must run, or null when every local migration is applied,
 * finished and unchanged, no run is half done, and the database has none the folder lacks.
 */
export function whyMigrate(local: readonly LocalMigration[], applied: readonly AppliedMigration[]): string | null {
  const live = applied.filter((row) => !row.rolledBack);
  const unfinished = live.find((row) => !row.finished);
  if (unfinished) return `migration ${unfinished.name} did not finish`;
  const appliedByName = new Map(live.map((row) => [row.name, row]));
  for (const migration of local) {
    const row = appliedByName.get(migration.name);
    if (!row) return `migration ${migration.name} is not applied`;
    if (row.checksum !== migration.checksum) return `migration ${migration.name} was changed after it was applied`;
  }
  const localNames = new Set(local.map((migration) => migration.name));
  const foreign = live.find((row) => !localNames.has(row.name));
  if (foreign) return `the database has migration ${foreign.name}, which this checkout does not`;
  return null;
}

/** Reads `_prisma_migrations`; null when the table does not exist yet (a new database). */
export async function readAppliedMigrations(url: string): Promise<AppliedMigration[] | null> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    const table = await client.query<{ present: boolean }>("SELECT to_regclass('_prisma_migrations') IS NOT NULL AS present");
    if (!table.rows[0]?.present) return null;
    const rows = await client.query<{ migration_name: string; checksum: string; finished_at: Date | null; rolled_back_at: Date | null }>(
      'SELECT migration_name, checksum, finished_at, rolled_back_at FROM _prisma_migrations',
    );
    return rows.rows.map((row) => ({ name: row.migration_name, checksum: row.checksum, finished: row.finished_at !== null, rolledBack: row.rolled_back_at !== null }));
  } finally {
    await client.end();
  }
}

/** Why the migrations must be deployed against `url`, or null when the database is up to date. */
export async function pendingMigrationReason(url: string, migrationsDir: string): Promise<string | null> {
  const [local, applied] = await Promise.all([readLocalMigrations(migrationsDir), readAppliedMigrations(url)]);
  if (applied === null) return 'a new database (no migration table yet)';
  return whyMigrate(local, applied);
}
