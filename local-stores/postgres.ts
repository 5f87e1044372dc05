/**
 * A real PostgreSQL 15 primary and streaming standbys for tests and benches: initdb,
 * pg_basebackup -R and pg_ctl on free loopback ports, in temp directories owned by
 * the `postgres` user (initdb refuses root). Never touches the machine's own cluster.
 */
import { execFileSync } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { freePort } from './ports';

export { freePort };
import { pgBinDirDefault, runPgTool } from '../agent/adapters/postgres/pg-tools';

/** Whether this machine can run the tests: PostgreSQL 15's binaries and a `postgres` user. */
export function pgAvailable(): boolean {
  try {
    execFileSync(`${pgBinDirDefault}/initdb`, ['--version'], { stdio: 'ignore' });
    execFileSync('id', ['postgres'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function postgresIds(): { uid: number; gid: number } | null {
  if (process.getuid?.() !== 0) return null;
  const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
  return { uid, gid };
}

/** One server of the test cluster. */
export interface PgNode {
  /** Its `cluster_name`, which the adapter uses as its node id. */
  name: string;
  port: number;
  dataDir: string;
  /** A superuser URL (trust on loopback). */
  url: string;
  /** The application's URL (role `app`, a plain role). */
  appUrl: string;
}

/** The temp root and every server started in it. */
export class PgCluster {
  readonly root: string;
  readonly nodes: PgNode[] = [];
  private readonly ids = postgresIds();

  constructor() {
    this.root = mkdtempSync(path.join(tmpdir(), 'faultline-pg-'));
    if (this.ids) chownSync(this.root, this.ids.uid, this.ids.gid);
  }

  private tool(tool: string, args: string[]) {
    return runPgTool(pgBinDirDefault, tool, args, this.ids);
  }

  private node(name: string, port: number): PgNode {
    const dataDir = path.join(this.root, name);
    return { name, port, dataDir, url: `postgresql://postgres@127.0.0.1:${port}/app`, appUrl: `postgresql://app@127.0.0.1:${port}/app` };
  }

  /** Starts a server on its data directory (port and cluster_name on the command line, so pg_rewind's copied config cannot change them). */
  async start(node: PgNode): Promise<void> {
    await this.tool('pg_ctl', ['start', '-w', '-t', '60', '-D', node.dataDir, '-l', path.join(this.root, `${node.name}.log`), '-o', `-c port=${node.port} -c cluster_name=${node.name}`]);
  }

  async stop(node: PgNode, mode: 'fast' | 'immediate' = 'fast'): Promise<void> {
    await this.tool('pg_ctl', ['stop', '-w', '-t', '60', '-m', mode, '-D', node.dataDir]).catch(() => undefined);
  }

  /** initdb, replication-ready settings, start, and an `app` database with the `app` role and an `acks` table. */
  async startPrimary(name: string): Promise<PgNode> {
    const node = this.node(name, await freePort());
    await this.tool('initdb', ['-D', node.dataDir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C']);
    appendFileSync(path.join(node.dataDir, 'postgresql.conf'), [
      "listen_addresses = '127.0.0.1'",
      "unix_socket_directories = ''",
      'wal_level = replica',
      'wal_log_hints = on',
      'max_wal_senders = 10',
      'hot_standby = on',
      'wal_keep_size = 256MB',
      'fsync = off',
      'synchronous_commit = on',
      'shared_buffers = 16MB',
      '',
    ].join('\n'));
    writeFileSync(path.join(node.dataDir, 'pg_hba.conf'), 'host all all 127.0.0.1/32 trust\nhost replication all 127.0.0.1/32 trust\n');
    await this.start(node);
    const client = new pg.Client({ connectionString: `postgresql://postgres@127.0.0.1:${node.port}/postgres` });
    await client.connect();
    try {
      await client.query('create role app login');
      await client.query('create database app owner postgres');
    } finally {
      await client.end();
    }
    await withClient(node.url, async (db) => {
      await db.query('create table acks (id bigint primary key, writer text not null, at timestamptz not null default now())');
      await db.query('grant select, insert, update, delete, truncate on acks to app');
    });
    this.nodes.push(node);
    return node;
  }

  /** pg_basebackup -R from `primary` and start as its streaming standby. */
  async startStandby(primary: PgNode, name: string): Promise<PgNode> {
    const node = this.node(name, await freePort());
    await this.tool('pg_basebackup', ['-h', '127.0.0.1', '-p', String(primary.port), '-U', 'postgres', '-D', node.dataDir, '-R', '-X', 'stream', '-c', 'fast']);
    await this.start(node);
    this.nodes.push(node);
    return node;
  }

  /** Stops `standby` replicating from its primary (the network between them cut). */
  async cutReplication(standby: PgNode): Promise<void> {
    await withClient(standby.url, async (db) => {
      await db.query("alter system set primary_conninfo = ''");
      await db.query('select pg_reload_conf()');
    });
  }

  /** Promotes a standby, as an orchestrator (Patroni) would. */
  async promote(standby: PgNode): Promise<void> {
    await this.tool('pg_ctl', ['promote', '-w', '-t', '60', '-D', standby.dataDir]);
  }

  /** What an orchestrator does on its own when the old primary comes back: pg_rewind from the new primary, then start as its standby. */
  async rewindAndRejoin(old: PgNode, source: PgNode): Promise<string> {
    // The new primary's control file names its new timeline only after a checkpoint; without one pg_rewind sees "same timeline" and does nothing.
    await withClient(source.url, (db) => db.query('checkpoint'));
    await this.stop(old);
    const output = await this.tool('pg_rewind', ['--target-pgdata', old.dataDir, '--source-server', `host=127.0.0.1 port=${source.port} user=postgres dbname=app`, '-R']);
    await this.start(old);
    return output;
  }

  /** Stops every server and removes the temp root. */
  async destroy(): Promise<void> {
    for (const node of this.nodes) await this.stop(node, 'immediate');
    rmSync(this.root, { recursive: true, force: true });
  }
}

/** Runs `work` with one connected client, always closed. */
export async function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Whether a server is in recovery (a standby). */
export function inRecovery(url: string): Promise<boolean> {
  return withClient(url, async (db) => (await db.query<{ r: boolean }>('select pg_is_in_recovery() as r')).rows[0]!.r);
}
