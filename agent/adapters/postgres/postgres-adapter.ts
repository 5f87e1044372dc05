/**
 * Faultline's data-plane adapter for a PostgreSQL primary or streaming standby. It
 * installs a change log and a write guard on the primary (schema.ts), answers the
 * server's data-plane commands from them, fences for real, and, when it runs beside
 * the server (`dataDir` given) and knows the other members (`peers`), brings a
 * superseded old primary back as a standby of the new one with pg_rewind, but only
 * once every version it holds is on the new primary (same or newer, or decided over
 * by reconciliation), so the rewind can no longer throw away an acknowledged write.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { type Digest, digestOf } from '../../../core/digest';
import { type Hlc, decodeHlc, encodeHlc } from '../../../core/hlc';
import type { FenceMode } from '../../../core/policy/cluster-policy';
import { toSafeText } from '../../../core/safe-text';
import { syncBatchEntriesMax, valueLengthMax } from '../../../core/reconcile/data-plane-commands';
import type { ResolvedEntry } from '../../../core/reconcile/plan-reconciliation';
import type { VersionedEntry } from '../../../core/reconcile/resolver';
import type { ApplyOutcome, DataPlaneAdapter } from '../../store/data-plane-adapter';
import { initialHlc, installStatements, quoteIdent, trackTableStatements, trackedTablesQuery } from './schema';
import { pgBinDirDefault, runPgTool, toolIdentity } from './pg-tools';

/** How often the adapter looks at its server and its peers (ms). */
export const pgMonitorIntervalMs = 1000;
/** How long a standby is given to receive resolved values from its primary before apply fails (ms). */
export const standbyApplyWaitMs = 5000;
/** Longest a standby's digest waits to replay what its primary has written (ms). */
export const catchUpWaitMs = 3000;
/** Fence id the adapter holds by itself while another member is the newer primary. */
export const supersededFenceId = 'superseded';

/** What the agent says about its store in every report. */
export interface StoreStatus {
  kind: 'postgres';
  role: 'primary' | 'replica' | 'unknown';
  endpoint: string;
  lagBytes: number | null;
  error: string | null;
}

/** Settings of the adapter. */
export interface PostgresAdapterOptions {
  /** A libpq URL of the server, as a superuser (ALTER SYSTEM, triggers, pg_terminate_backend). */
  url: string;
  /** The server's data directory, when the agent runs beside it: enables rejoin by pg_rewind. */
  dataDir: string | null;
  /** URLs of the other members of the replication group (to find a newer primary and rewind from it). */
  peers: readonly string[];
  binDir?: string;
  log: (level: 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>) => void;
  /** Monitor period (ms); 0 disables the monitor (unit tests call `refresh`). */
  monitorIntervalMs?: number;
}

interface TrackedTable {
  schema: string;
  name: string;
  ident: string;
  pk: string[];
  columns: string[];
}

/** A URL without credentials, for status and logs. */
export function describeEndpoint(url: string): string {
  try {
    const parsed = new URL(url);
    return toSafeText(`${parsed.protocol}//${parsed.hostname}${parsed.port ? `:${parsed.port}` : ''}${parsed.pathname}`.slice(0, 200));
  } catch {
    return 'unparseable URL';
  }
}

function errorText(error: unknown): string {
  const e = error as { message?: string; code?: string };
  const text = e.message && e.message.length > 0 ? e.message : (e.code ?? String(error));
  return text.replaceAll(/[\u0000-\u001f\u007f]/g, ' ').slice(0, 300);
}

function toEntry(row: { tbl: string; pk: string; hlc: string; row: string | null }): VersionedEntry | null {
  const hlc = decodeHlc(row.hlc);
  if (!hlc) return null;
  const key = `${row.tbl}/${row.pk}`;
  if (row.row !== null && row.row.length > valueLengthMax) throw new Error(`row ${key.slice(0, 200)} is ${row.row.length} characters, over the ${valueLengthMax} Faultline carries`);
  return { key, value: row.row, hlc };
}

function splitKey(key: string): { tbl: string; pk: string } {
  const slash = key.indexOf('/');
  if (slash <= 0) throw new Error(`key ${key.slice(0, 100)} is not <schema>.<table>/<primary key>`);
  return { tbl: key.slice(0, slash), pk: key.slice(slash + 1) };
}

/** Arguments of the last start, from postmaster.opts, without -D (pg_ctl passes it). */
export function startOptionsOf(postmasterOpts: string): string[] {
  const tokens = [...postmasterOpts.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((match) => match[1] ?? '');
  const options: string[] = [];
  for (let index = 0; index < tokens.length; index += 1) {
    if (tokens[index] === '-D') index += 1;
    else options.push(tokens[index]!);
  }
  return options;
}

const shellQuote = (text: string) => `'${text.replaceAll("'", `'\\''`)}'`;

export class PostgresAdapter implements DataPlaneAdapter {
  private pool: pg.Pool;
  private readonly endpoint: string;
  private readonly binDir: string;
  private readonly fences = new Map<string, FenceMode>();
  private tables = new Map<string, TrackedTable>();
  private role: StoreStatus['role'] = 'unknown';
  private lagBytes: number | null = null;
  private error: string | null = null;
  private node: string | null = null;
  private keyCount = 0;
  private writesAccepted = 0;
  private digestRoot = digestOf([]).root;
  private dbReadOnly: boolean | null = null;
  /** The newer primary this server was superseded by (a URL), or null. */
  private supersededBy: string | null = null;
  private rejoin: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private refreshing: Promise<void> | null = null;
  private closed = false;

  constructor(private readonly options: PostgresAdapterOptions) {
    this.endpoint = describeEndpoint(options.url);
    this.binDir = options.binDir ?? pgBinDirDefault;
    this.pool = this.createPool();
  }

  private createPool(): pg.Pool {
    const pool = new pg.Pool({
      connectionString: this.options.url,
      max: 4,
      connectionTimeoutMillis: 3000,
      idleTimeoutMillis: 10_000,
      // The adapter's own sessions are never read-only, whatever the fence says to clients.
      options: '-c default_transaction_read_only=off -c statement_timeout=30000',
    });
    pool.on('error', (error) => this.fail('connection lost', error));
    return pool;
  }

  /** Connects (or records why it cannot) and starts the monitor. Never throws: a bad store is an error in status. */
  static async start(options: PostgresAdapterOptions): Promise<PostgresAdapter> {
    const adapter = new PostgresAdapter(options);
    await adapter.refresh();
    const every = options.monitorIntervalMs ?? pgMonitorIntervalMs;
    if (every > 0) {
      adapter.timer = setInterval(() => void adapter.refresh(), every);
      adapter.timer.unref();
    }
    return adapter;
  }

  private fail(what: string, error: unknown): void {
    const text = toSafeText(`${what}: ${errorText(error)}`.slice(0, 300));
    if (text !== this.error) this.options.log('error', 'postgres data plane', { endpoint: this.endpoint, error: text });
    this.error = text;
  }

  /** The store's line of the agent's report. */
  status(): StoreStatus {
    return { kind: 'postgres', role: this.role, endpoint: this.endpoint, lagBytes: this.lagBytes, error: this.error };
  }

  /** Counters for the report's data-plane line. */
  counters(): { keyCount: number; writesAccepted: number; digestRoot: string } {
    return { keyCount: this.keyCount, writesAccepted: this.writesAccepted, digestRoot: this.digestRoot };
  }

  /** The strictest fence in force (read-only over critical-only), as the report shows it. */
  activeFence(): { partitionId: string; mode: FenceMode } | null {
    let chosen: { partitionId: string; mode: FenceMode } | null = null;
    for (const [partitionId, mode] of this.fences) if (chosen === null || (mode === 'read-only' && chosen.mode !== 'read-only')) chosen = { partitionId, mode };
    if (chosen === null && this.supersededBy !== null) return { partitionId: supersededFenceId, mode: 'read-only' };
    return chosen;
  }

  /** Whether another member has been promoted over this one (the adapter then holds a fence of its own). */
  isSuperseded(): boolean {
    return this.supersededBy !== null;
  }

  /** Waits for a rejoin in progress (the server is down meanwhile). */
  private async settled(): Promise<void> {
    if (this.rejoin) await this.rejoin;
  }

  /** One look at the server (and its peers): role, lag, tables, counters, fence, supersession, rejoin. */
  refresh(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.refreshing ??= this.refreshOnce().finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  private async refreshOnce(): Promise<void> {
    if (this.rejoin) return;
    try {
      const { rows } = await this.pool.query<{ recovery: boolean; node: string; lag: string | null; timeline: number | null }>(`
        select pg_is_in_recovery() as recovery, current_setting('cluster_name') as node,
               case when pg_is_in_recovery() then pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn())
                    else (select max(pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)) from pg_stat_replication) end::bigint::text as lag,
               case when pg_is_in_recovery() then null
                    else ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int end as timeline`);
      const row = rows[0]!;
      if (!/^[A-Za-z0-9._-]{1,64}$/.test(row.node)) {
        this.role = 'unknown';
        this.fail('bad server setting', new Error(`cluster_name is "${row.node.slice(0, 64)}": set it to this member's name (letters, digits, . _ -), as Patroni does`));
        return;
      }
      if (this.node === null && !row.recovery) await this.loadFences(row.node);
      this.node = row.node;
      this.role = row.recovery ? 'replica' : 'primary';
      this.lagBytes = row.lag === null ? null : Math.max(0, Number(row.lag));
      if (!row.recovery) {
        await this.install();
        if (row.timeline !== null) await this.checkSuperseded(row.timeline);
        await this.enforce();
      } else {
        this.supersededBy = null;
        this.dbReadOnly = null;
        await this.loadTables();
      }
      await this.count();
      this.error = null;
      if (this.supersededBy !== null && this.options.dataDir !== null) await this.maybeRejoin();
    } catch (error) {
      this.role = 'unknown';
      this.fail(`cannot use ${this.endpoint}`, error);
    }
  }

  private async loadTables(): Promise<(TrackedTable & { installed: boolean })[]> {
    const { rows } = await this.pool.query<{ schema: string; name: string; ident: string; pk: string[]; installed: boolean }>(trackedTablesQuery);
    const columns = await this.pool.query<{ ident: string; columns: string[] }>(`
      select c.oid::regclass::text as ident, array_agg(a.attname::text order by a.attnum) as columns
        from pg_class c join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
       where c.oid::regclass::text = any ($1) group by c.oid`, [rows.map((row) => row.ident)]);
    const columnsOf = new Map(columns.rows.map((row) => [row.ident, row.columns]));
    const tables = rows.map((row) => ({ ...row, columns: columnsOf.get(row.ident) ?? [] }));
    this.tables = new Map(tables.filter((table) => table.installed).map((table) => [`${table.schema}.${table.name}`, table]));
    return tables;
  }

  /** Creates the schema and tracks every table with a primary key that is not tracked yet. */
  private async install(): Promise<void> {
    const exists = await this.pool.query("select to_regclass('faultline.versions') is not null as present");
    if (!exists.rows[0]?.present) for (const statement of installStatements) await this.pool.query(statement);
    const tables = await this.loadTables();
    const missing = tables.filter((table) => !table.installed);
    if (missing.length === 0) return;
    const client = await this.pool.connect();
    try {
      await client.query('begin');
      for (const table of missing) for (const statement of trackTableStatements(table)) await client.query(statement);
      await client.query('commit');
      this.options.log('info', 'postgres tables tracked', { tables: missing.map((table) => table.ident) });
    } catch (error) {
      await client.query('rollback').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
    await this.loadTables();
  }

  private async count(): Promise<void> {
    const present = await this.pool.query("select to_regclass('faultline.versions') is not null as present");
    if (!present.rows[0]?.present) return;
    const counted = await this.pool.query<{ keys: string; writes: string | null }>(`
      select (select count(*) from faultline.versions)::text as keys,
             (select sum(n_tup_ins + n_tup_upd + n_tup_del) from pg_stat_user_tables where schemaname <> 'faultline')::text as writes`);
    this.keyCount = Number(counted.rows[0]?.keys ?? 0);
    this.writesAccepted = Number(counted.rows[0]?.writes ?? 0);
    this.digestRoot = (await this.digestNow(256)).root;
  }

  /** After an agent restart, keeps the fences the server put up before it (they are lifted only by the server's unfence). */
  private async loadFences(node: string): Promise<void> {
    const present = await this.pool.query("select to_regclass('faultline.fences') is not null as present");
    if (!present.rows[0]?.present) return;
    const { rows } = await this.pool.query<{ partition_id: string; mode: FenceMode }>('select partition_id, mode from faultline.fences where node = $1', [node]);
    for (const row of rows) if (row.partition_id !== supersededFenceId && !this.fences.has(row.partition_id)) this.fences.set(row.partition_id, row.mode);
  }

  /** Finds a peer that is a primary on a later timeline than ours: we are the old primary of a failover. */
  private async checkSuperseded(timeline: number): Promise<void> {
    for (const peer of this.options.peers) {
      const client = new pg.Client({ connectionString: peer, connectionTimeoutMillis: 1000 });
      try {
        await client.connect();
        const { rows } = await client.query<{ recovery: boolean; timeline: number | null }>(`
          select pg_is_in_recovery() as recovery,
                 case when pg_is_in_recovery() then null else ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int end as timeline`);
        const answer = rows[0];
        if (answer && !answer.recovery && answer.timeline !== null && answer.timeline > timeline) {
          if (this.supersededBy !== peer) this.options.log('warn', 'postgres primary superseded: stays read-only until its writes are on the new primary', { newPrimary: describeEndpoint(peer), timeline: answer.timeline, ours: timeline });
          this.supersededBy = peer;
          return;
        }
      } catch {
        // An unreachable peer tells us nothing; a fence already in force stays.
      } finally {
        await client.end().catch(() => undefined);
      }
    }
  }

  /** Makes the server's fence rows, default_transaction_read_only and sessions match the fences in force. */
  private async enforce(): Promise<void> {
    if (this.role !== 'primary' || this.node === null) return;
    const wanted = new Map(this.fences);
    if (this.supersededBy !== null) wanted.set(supersededFenceId, 'read-only');
    const client = await this.pool.connect();
    try {
      await client.query('begin');
      await client.query('delete from faultline.fences where node = $1 and not (partition_id = any ($2))', [this.node, [...wanted.keys()]]);
      for (const [partitionId, mode] of wanted) {
        await client.query('insert into faultline.fences (node, partition_id, mode) values ($1, $2, $3) on conflict (node, partition_id) do update set mode = excluded.mode', [this.node, partitionId, mode]);
      }
      await client.query('commit');
    } catch (error) {
      await client.query('rollback').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
    const readOnly = [...wanted.values()].includes('read-only');
    if (readOnly !== this.dbReadOnly) {
      await this.pool.query(readOnly ? 'alter system set default_transaction_read_only = on' : 'alter system reset default_transaction_read_only');
      await this.pool.query('select pg_reload_conf()');
      if (readOnly) {
        // Sessions that began before the fence may hold a transaction open: end every client session that is not a superuser's.
        const ended = await this.pool.query<{ ended: string }>(`
          select count(pg_terminate_backend(a.pid))::text as ended from pg_stat_activity a
           where a.backend_type = 'client backend' and a.pid <> pg_backend_pid()
             and not coalesce((select r.rolsuper from pg_roles r where r.rolname = a.usename), false)`);
        this.options.log('info', 'postgres fenced read-only', { endpoint: this.endpoint, sessionsEnded: Number(ended.rows[0]?.ended ?? 0) });
      } else {
        this.options.log('info', 'postgres fence lifted', { endpoint: this.endpoint });
      }
      this.dbReadOnly = readOnly;
    }
  }

  async setFence(partitionId: string, mode: FenceMode | null): Promise<void> {
    if (mode === null) this.fences.delete(partitionId);
    else this.fences.set(partitionId, mode);
    await this.settled();
    if (this.role === 'unknown') await this.refresh();
    if (this.role === 'unknown') throw new Error(this.error ?? `${this.endpoint} unreachable`);
    await this.enforce();
  }

  async changedSince(since: Hlc | null): Promise<VersionedEntry[]> {
    await this.settled();
    await this.requireSchema();
    const { rows } = await this.pool.query<{ tbl: string; pk: string; hlc: string; row: string | null }>(
      'select tbl, pk::text as pk, hlc, row::text as row from faultline.changes where hlc >= $1 order by hlc limit $2',
      [since === null ? '' : encodeHlc(since), syncBatchEntriesMax + 2],
    );
    return rows.flatMap((row) => toEntry(row) ?? []);
  }

  async digest(bucketCount: number): Promise<Digest> {
    await this.settled();
    // A verification digest: a superseded old primary whose versions are all on the new primary rejoins first,
    // and a standby waits to replay what its primary has, so that the digest describes the data at rest.
    if (this.supersededBy !== null && this.options.dataDir !== null) await this.refresh();
    if (this.role === 'replica') await this.catchUp();
    return this.digestNow(bucketCount);
  }

  /** The digest of the versions as they are now (the monitor's, which must not wait on itself). */
  private async digestNow(bucketCount: number): Promise<Digest> {
    const present = await this.pool.query("select to_regclass('faultline.versions') is not null as present");
    if (!present.rows[0]?.present) return digestOf([], bucketCount);
    const { rows } = await this.pool.query<{ tbl: string; pk: string; hlc: string; row: string | null }>('select tbl, pk::text as pk, hlc, row::text as row from faultline.versions');
    return digestOf(rows.flatMap((row) => toEntry(row) ?? []), bucketCount);
  }

  /** Waits (bounded) until this standby has replayed the WAL its primary (a peer not in recovery) has written now. */
  private async catchUp(): Promise<void> {
    for (const peer of this.options.peers) {
      const client = new pg.Client({ connectionString: peer, connectionTimeoutMillis: 1000 });
      try {
        await client.connect();
        const { rows } = await client.query<{ lsn: string | null }>('select case when pg_is_in_recovery() then null else pg_current_wal_lsn()::text end as lsn');
        const target = rows[0]?.lsn ?? null;
        if (target === null) continue;
        const deadline = Date.now() + catchUpWaitMs;
        while (Date.now() < deadline) {
          const replayed = await this.pool.query<{ done: boolean }>('select coalesce(pg_last_wal_replay_lsn() >= $1::pg_lsn, false) as done', [target]);
          if (replayed.rows[0]?.done) return;
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        return;
      } catch {
        // An unreachable peer: the digest is taken as it is.
      } finally {
        await client.end().catch(() => undefined);
      }
    }
  }

  private async requireSchema(): Promise<void> {
    const present = await this.pool.query("select to_regclass('faultline.changes') is not null as present");
    if (!present.rows[0]?.present) throw new Error(`${this.endpoint} has no Faultline change log yet (the adapter installs it on the primary)`);
  }

  async apply(entries: readonly ResolvedEntry[]): Promise<ApplyOutcome> {
    await this.settled();
    const recovery = await this.pool.query<{ recovery: boolean }>('select pg_is_in_recovery() as recovery');
    if (recovery.rows[0]?.recovery) return this.awaitReplicated(entries);
    await this.requireSchema();
    if (entries.some((entry) => !this.tables.has(splitKey(entry.key).tbl))) await this.loadTables();
    const outcome: ApplyOutcome = { applied: 0, skipped: 0 };
    const client = await this.pool.connect();
    try {
      await client.query('begin read write');
      for (const entry of entries) {
        const { tbl, pk } = splitKey(entry.key);
        const table = this.tables.get(tbl);
        if (!table) throw new Error(`no tracked table ${tbl.slice(0, 100)} on ${this.endpoint}`);
        const hlc = encodeHlc(entry.hlc);
        const local = await client.query<{ hlc: string }>('select hlc from faultline.versions where tbl = $1 and pk = $2::jsonb for update', [tbl, pk]);
        const localHlc = local.rows[0]?.hlc ?? null;
        if (localHlc !== null && localHlc > encodeHlc(entry.supersedes)) {
          outcome.skipped += 1;
          continue;
        }
        outcome.applied += 1;
        if (localHlc === hlc) continue;
        await client.query("select set_config('faultline.apply_hlc', $1, true), set_config('faultline.apply_floor', $2, true)", [hlc, encodeHlc(entry.supersedes)]);
        const keyColumns = table.pk.map(quoteIdent).join(', ');
        if (entry.value === null) {
          const deleted = await client.query(`delete from ${table.ident} where (${keyColumns}) = (select ${keyColumns} from jsonb_populate_record(null::${table.ident}, $1::jsonb))`, [pk]);
          if (deleted.rowCount === 0) await client.query('select faultline.record($1, $2::jsonb, null)', [tbl, pk]);
        } else {
          const others = table.columns.filter((column) => !table.pk.includes(column));
          const onConflict = others.length === 0 ? 'do nothing' : `do update set ${others.map((column) => `${quoteIdent(column)} = excluded.${quoteIdent(column)}`).join(', ')}`;
          const written = await client.query(`insert into ${table.ident} select * from jsonb_populate_record(null::${table.ident}, $1::jsonb) on conflict (${keyColumns}) ${onConflict}`, [entry.value]);
          if (written.rowCount === 0) await client.query('select faultline.record($1, $2::jsonb, $3::jsonb)', [tbl, pk, entry.value]);
        }
      }
      await client.query('commit');
    } catch (error) {
      await client.query('rollback').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
    return outcome;
  }

  /** On a standby, resolved values arrive from its primary: wait for them, or say why they did not come. */
  private async awaitReplicated(entries: readonly ResolvedEntry[]): Promise<ApplyOutcome> {
    const deadline = Date.now() + standbyApplyWaitMs;
    const keys = entries.map((entry) => splitKey(entry.key));
    for (;;) {
      const { rows } = await this.pool.query<{ tbl: string; pk: string; hlc: string }>(
        'select v.tbl, v.pk::text as pk, v.hlc from faultline.versions v join unnest($1::text[], $2::jsonb[]) as k(tbl, pk) on v.tbl = k.tbl and v.pk = k.pk',
        [keys.map((key) => key.tbl), keys.map((key) => key.pk)],
      );
      const held = new Map(rows.map((row) => [`${row.tbl}/${row.pk}`, row.hlc]));
      const missing = entries.filter((entry) => (held.get(entry.key) ?? '') < encodeHlc(entry.hlc));
      if (missing.length === 0) return { applied: entries.length, skipped: 0 };
      if (Date.now() > deadline) {
        throw new Error(`${this.endpoint} is a standby (in recovery) and cannot take writes; ${missing.length} resolved value(s) did not arrive from its primary within ${standbyApplyWaitMs} ms`);
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  /** Versions held here that the new primary has neither (same or newer) nor decided over: what a rewind would lose. */
  async unaccounted(peerUrl: string): Promise<string[]> {
    const mine = await this.pool.query<{ key: string; hlc: string }>("select tbl || '/' || pk::text as key, hlc from faultline.versions where hlc <> $1", [initialHlc]);
    const client = new pg.Client({ connectionString: peerUrl, connectionTimeoutMillis: 2000 });
    await client.connect();
    try {
      const theirs = await client.query<{ key: string; hlc: string; floor: string | null }>("select tbl || '/' || pk::text as key, hlc, floor from faultline.versions");
      const held = new Map(theirs.rows.map((row) => [row.key, row]));
      return mine.rows.filter((row) => {
        const there = held.get(row.key);
        return !there || (there.hlc < row.hlc && (there.floor ?? '') < row.hlc);
      }).map((row) => row.key);
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  private async maybeRejoin(): Promise<void> {
    const peer = this.supersededBy;
    if (peer === null || this.rejoin) return;
    const missing = await this.unaccounted(peer);
    if (missing.length > 0) return;
    this.rejoin = this.rewindAndRejoin(peer).finally(() => {
      this.rejoin = null;
    });
    await this.rejoin;
  }

  /** pg_rewind from the new primary and start as its standby. Only called when nothing would be lost. */
  private async rewindAndRejoin(peer: string): Promise<void> {
    const dataDir = this.options.dataDir!;
    const startedAt = Date.now();
    this.options.log('info', 'postgres rejoin: every version is on the new primary; rewinding', { newPrimary: describeEndpoint(peer) });
    const identity = await toolIdentity(dataDir);
    const startOptions = startOptionsOf(await readFile(path.join(dataDir, 'postmaster.opts'), 'utf8'));
    const source = new pg.Client({ connectionString: peer, connectionTimeoutMillis: 2000 });
    await source.connect();
    try {
      // pg_rewind reads the source's timeline from its control file, which names the new timeline only after a checkpoint.
      await source.query('checkpoint');
    } finally {
      await source.end().catch(() => undefined);
    }
    await this.pool.end().catch(() => undefined);
    const start = () => runPgTool(this.binDir, 'pg_ctl', ['start', '-w', '-t', '120', '-D', dataDir, '-l', path.join(dataDir, 'faultline-rejoin.log'), '-o', startOptions.map(shellQuote).join(' ')], identity);
    try {
      await runPgTool(this.binDir, 'pg_ctl', ['stop', '-w', '-t', '120', '-m', 'fast', '-D', dataDir], identity);
      await runPgTool(this.binDir, 'pg_rewind', ['--target-pgdata', dataDir, '--source-server', peer, '--write-recovery-conf'], identity);
      await start();
      this.supersededBy = null;
      this.dbReadOnly = null;
      this.role = 'replica';
      this.options.log('info', 'postgres rejoined as a standby of the new primary', { newPrimary: describeEndpoint(peer), ms: Date.now() - startedAt });
    } catch (error) {
      this.fail('rejoin failed; the old primary stays fenced, rejoin it by hand', error);
      await start().catch(() => undefined);
    } finally {
      this.pool = this.createPool();
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    await this.refreshing?.catch(() => undefined);
    await this.rejoin?.catch(() => undefined);
    await this.pool.end().catch(() => undefined);
  }
}
