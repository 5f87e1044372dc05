/**
 * Opens Faultline's database: the configured PostgreSQL, or an embedded PGlite
 * served on a loopback port with its data under the data directory. Applies the
 * committed migrations with `prisma migrate deploy` before anything else runs.
 */
import { execFile } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '../../generated/prisma/client';
import type { Logger } from '../logger';

const execFileAsync = promisify(execFile);
const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Connections the embedded server multiplexes onto PGlite's single session. */
const embeddedConnectionsMax = 8;
/**
 * Pool size used against the embedded server. One: PGlite's multiplexer interleaves
 * the extended protocol of concurrent clients and loses unnamed prepared statements
 * (seen here as "unnamed prepared statement does not exist"), so the server keeps
 * a single connection and Prisma queues queries on it.
 */
const embeddedPoolMax = 1;
/** Longest a query may wait for an answer before it fails (ms); the outbox keeps what failed. */
export const queryTimeoutMs = 15_000;
/** Pool size used against a real PostgreSQL server. */
const externalPoolMax = 10;

/** An open database and how to close it. */
export interface Database {
  prisma: PrismaClient;
  /** The connection URL in use (embedded or external). */
  url: string;
  /** True when this process runs the embedded PGlite server. */
  embedded: boolean;
  close(): Promise<void>;
}

/** Starts PGlite on 127.0.0.1 and returns its URL and a stop function. */
async function startEmbedded(dataDir: string, port: number, logger: Logger) {
  const pgDataDir = path.join(dataDir, 'pgdata');
  await mkdir(pgDataDir, { recursive: true });
  const db = await PGlite.create(pgDataDir);
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port, maxConnections: embeddedConnectionsMax });
  await server.start();
  const address = server.getServerConn();
  const actualPort = Number(address.split(':').pop());
  logger.info({ dataDir: pgDataDir, port: actualPort }, 'embedded PostgreSQL (PGlite) listening');
  return {
    url: `postgresql://postgres@127.0.0.1:${actualPort}/postgres?sslmode=disable`,
    async stop() {
      await server.stop();
      await db.close();
    },
  };
}

/** Runs `prisma migrate deploy` against the URL. */
export async function applyMigrations(url: string, logger: Logger): Promise<void> {
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
  logger: Logger;
}): Promise<Database> {
  const embedded = options.databaseUrl
    ? null
    : await startEmbedded(options.dataDir, options.embeddedPort, options.logger);
  const url = options.databaseUrl ?? embedded!.url;
  try {
    await applyMigrations(url, options.logger);
  } catch (error) {
    await embedded?.stop();
    throw error;
  }
  const adapter = new PrismaPg({
    connectionString: url,
    max: embedded ? embeddedPoolMax : externalPoolMax,
    connectionTimeoutMillis: 5000,
    // A connection that stops answering without closing must not stall ingest for ever.
    query_timeout: queryTimeoutMs,
  });
  const prisma = new PrismaClient({ adapter });
  return {
    prisma,
    url,
    embedded: embedded !== null,
    async close() {
      await prisma.$disconnect();
      await embedded?.stop();
    },
  };
}
