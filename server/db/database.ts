/**
 * Opens Faultline's database: the configured PostgreSQL, or an embedded PGlite
 * with its data under the data directory. Applies the committed migrations with
 * `prisma migrate deploy` before anything else runs, unless `_prisma_migrations`
 * already lists every one of them unchanged (migration-state.ts).
 *
 * Who may connect: on a real PostgreSQL the migrations run as DATABASE_URL's role
 * and the server then connects as its own restricted role (runtime-role.ts). The
 * embedded PGlite has no authentication of its own, so it listens only on a Unix
 * socket in a private directory, behind a SCRAM password gate on loopback
 * (embedded-password-gate.ts) whose password is generated into the data directory's
 * secrets; its files are kept 0600 in 0700 directories.
 *
 * On a real server agent ingest writes on its own pg pool (ingest-query.ts), so a
 * burst of console reads or exports can never take the connections reports need.
 */
import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '../../generated/prisma/client';
import type { Logger } from '../logger';
import { ensurePrivateDirectory } from '../secrets';
import { startPasswordGate } from './embedded-password-gate';
import { pendingMigrationReason } from './migration-state';
import { type IngestQuery, poolIngestRunner, prismaIngestRunner } from './ingest-query';
import { prepareRuntimeRole } from './runtime-role';

const execFileAsync = promisify(execFile);
const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Connections the embedded server multiplexes onto PGlite's single session. */
const embeddedConnectionsMax = 8;
/**
 * Pool size used against the embedded server. One: PGlite's multiplexer interleaves
 * the extended protocol of concurrent clients and loses unnamed prepared statements
 * (seen here as "unnamed prepared statement does not exist"), so the server keeps
 * a single connection and Prisma queues queries on it. For the same reason ingest
 * shares that one client there: PGlite runs one query at a time whatever the pools.
 */
const embeddedPoolMax = 1;
/** Longest a query may wait for an answer before it fails (ms); the outbox keeps what failed. */
export const queryTimeoutMs = 15_000;
/** Pool of console reads, exports and everything else, against a real PostgreSQL server. */
const externalPoolMax = 10;
/** Pool of agent ingest (report writes) against a real PostgreSQL server, never shared with reads. */
export const ingestPoolMax = 4;
/** The user name the embedded database's gate accepts. */
export const embeddedDatabaseUser = 'faultline';
/** Most entries `tightenModes` visits: a data directory is a few thousand files. */
const dataDirectoryEntriesMax = 200_000;

/** An open database and how to close it. */
export interface Database {
  /** Console reads and writes, lifecycle, exports. */
  prisma: PrismaClient;
  /** Agent report writes only: their own pg pool, or `prisma` on the embedded database. */
  ingest: IngestQuery;
  /** The connection URL the server's pools use (embedded or external). */
  url: string;
  /** True when this process runs the embedded PGlite server. */
  embedded: boolean;
  /** The role the pools log in as, and whether it is the restricted runtime role. */
  role: { name: string; restricted: boolean };
  close(): Promise<void>;
}

/**
 * Takes group and other bits off everything under `directory` (files 0600,
 * directories 0700). PGlite's file system layer creates files 0666 whatever the
 * umask, so this runs after it opens and after it closes.
 */
export async function tightenModes(directory: string): Promise<void> {
  let visited = 0;
  const pending = [directory];
  await chmod(directory, 0o700);
  while (pending.length > 0 && visited < dataDirectoryEntriesMax) {
    const current = pending.pop()!;
    for (const entry of await readdir(current, { withFileTypes: true })) {
      visited += 1;
      const full = path.join(current, entry.name);
      if (entry.isDirectory()) {
        pending.push(full);
        await chmod(full, 0o700);
      } else if (entry.isFile()) {
        await chmod(full, 0o600);
      }
    }
  }
}

/** Starts PGlite on a private Unix socket behind the password gate on 127.0.0.1. */
async function startEmbedded(options: { dataDir: string; port: number; password: string; logger: Logger }) {
  const pgDataDir = path.join(options.dataDir, 'pgdata');
  await ensurePrivateDirectory(options.dataDir);
  await mkdir(pgDataDir, { recursive: true, mode: 0o700 });
  // Files this process creates from here on are private; PGlite's own are fixed by tightenModes.
  process.umask(0o077);
  const db = await PGlite.create(pgDataDir);
  await tightenModes(pgDataDir);
  const socketDir = await mkdtemp(path.join(tmpdir(), 'faultline-pg-')); // mode 0700
  const backendPath = path.join(socketDir, '.s.PGSQL.5432');
  const server = new PGLiteSocketServer({ db, path: backendPath, maxConnections: embeddedConnectionsMax });
  await server.start();
  await chmod(backendPath, 0o600);
  const gate = await startPasswordGate({
    host: '127.0.0.1',
    port: options.port,
    backendPath,
    user: embeddedDatabaseUser,
    password: options.password,
    logger: options.logger,
  });
  options.logger.info({ dataDir: pgDataDir, port: gate.port }, 'embedded PostgreSQL (PGlite) listening, password required');
  return {
    url: `postgresql://${embeddedDatabaseUser}:${encodeURIComponent(options.password)}@127.0.0.1:${gate.port}/postgres?sslmode=disable`,
    async stop() {
      await gate.stop();
      await server.stop();
      await db.close();
      await tightenModes(pgDataDir);
      await rm(socketDir, { recursive: true, force: true });
    },
  };
}

/**
 * The pg adapter, refusing to connect again once the database is closed. Prisma opens
 * a new pool on the first query after `$disconnect` (measured: a query after it was
 * answered, and its idle connection kept the process alive 10 s more, pg's idle
 * timeout). Work still in flight at shutdown (a divergence sample, a late report
 * batch, a probe) would so reopen the database after the server closed it and keep a
 * finished test process, or a stopped server, from exiting. Closed, it fails instead.
 */
class ClosablePrismaPg extends PrismaPg {
  closed = false;

  override async connect(): ReturnType<PrismaPg['connect']> {
    if (this.closed) throw new Error('database closed: the server is shutting down');
    return super.connect();
  }
}

/**
 * Brings the database to the committed migrations: a quick look at `_prisma_migrations`
 * first (migration-state.ts), and `prisma migrate deploy` only when that finds something
 * to do or cannot tell. Returns whether deploy ran.
 */
export async function applyMigrations(url: string, logger: Logger): Promise<boolean> {
  const startedAtMs = Date.now();
  let reason: string | null;
  try {
    reason = await pendingMigrationReason(url, path.join(projectRoot, 'prisma', 'migrations'));
  } catch (error) {
    reason = `the migration table could not be read (${(error as Error).message})`;
  }
  if (reason === null) {
    logger.info({ checkedMs: Date.now() - startedAtMs }, 'migrations up to date; prisma migrate deploy not needed');
    return false;
  }
  logger.info({ reason }, 'applying migrations with prisma migrate deploy');
  await deployMigrations(url, logger);
  return true;
}

/** Runs `prisma migrate deploy` against the URL. */
async function deployMigrations(url: string, logger: Logger): Promise<void> {
  const cli = path.join(projectRoot, 'node_modules', 'prisma', 'build', 'index.js');
  const { stdout } = await execFileAsync(process.execPath, [cli, 'migrate', 'deploy'], {
    cwd: projectRoot,
    env: { ...process.env, DATABASE_URL: url, PRISMA_HIDE_UPDATE_MESSAGE: '1' },
    timeout: 120_000,
  });
  const applied = stdout.includes('successfully applied') || stdout.includes('No pending migrations');
  logger.info({ applied }, 'migrations applied');
}

/** Opens the database named by `databaseUrl`, or the embedded one. */
export async function openDatabase(options: {
  databaseUrl: string | undefined;
  dataDir: string;
  embeddedPort: number;
  /** Password of the embedded database's gate (from the data directory's secrets). */
  embeddedPassword: string;
  logger: Logger;
}): Promise<Database> {
  const embedded = options.databaseUrl
    ? null
    : await startEmbedded({ dataDir: options.dataDir, port: options.embeddedPort, password: options.embeddedPassword, logger: options.logger });
  const adminUrl = options.databaseUrl ?? embedded!.url;
  let runtime: Awaited<ReturnType<typeof prepareRuntimeRole>>;
  try {
    await applyMigrations(adminUrl, options.logger);
    // PGlite's session user is always its superuser (SET ROLE is undone by RESET ROLE),
    // so a runtime role there would be for show: its boundary is the gate's password.
    runtime = embedded ? { url: adminUrl, role: embeddedDatabaseUser, restricted: false } : await prepareRuntimeRole(adminUrl, options.logger);
  } catch (error) {
    await embedded?.stop();
    throw error;
  }
  const adapters: ClosablePrismaPg[] = [];
  const client = (max: number) => {
    const adapter = new ClosablePrismaPg({
      connectionString: runtime.url,
      max,
      connectionTimeoutMillis: 5000,
      // A connection that stops answering without closing must not stall ingest for ever.
      query_timeout: queryTimeoutMs,
    });
    adapters.push(adapter);
    return new PrismaClient({ adapter });
  };
  const prisma = client(embedded ? embeddedPoolMax : externalPoolMax);
  const ingest = embedded
    ? prismaIngestRunner(prisma)
    : poolIngestRunner({ connectionString: runtime.url, max: ingestPoolMax, connectionTimeoutMillis: 5000, queryTimeoutMs });
  return {
    prisma,
    ingest: ingest.query,
    url: runtime.url,
    embedded: embedded !== null,
    role: { name: runtime.role, restricted: runtime.restricted },
    async close() {
      for (const adapter of adapters) adapter.closed = true;
      await prisma.$disconnect();
      await ingest.close();
      await embedded?.stop();
    },
  };
}
