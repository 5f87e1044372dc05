/**
 * `DataPlaneAdapter` for a real `redis-server` beside the agent (`--data-plane
 * redis://host:port`). Redis replicates itself (and Sentinel fails it over); the
 * adapter only fences, journals and reconciles:
 *
 * - **Fence**: `CONFIG SET min-replicas-to-write 2147483647`. Every write a client
 *   sends is then refused at once with `-NOREPLICAS` (in MULTI/EXEC and scripts too),
 *   which a client sees as an error, never as an acknowledgement. `CLIENT PAUSE WRITE`
 *   was not chosen: it holds a write until the pause ends and then executes it, so a
 *   client's write would be acknowledged late on the fenced side (the damage a fence
 *   is there to stop), and it lapses by itself when the agent stops renewing it. The
 *   setting is re-asserted every poll while a fence holds (a restarted Redis forgets
 *   it) and lifted to the values it had before on unfence.
 * - **Journal**: keyevent notifications (`__keyevent@0__:*`) with the value read at
 *   once (`MULTI ROLE TYPE GET DUMP EXEC`, atomic with the role) into a bounded
 *   in-agent journal stamped with the agent's HLC (write-journal.ts). `REPLICAOF`
 *   throws the old primary's data away when Sentinel demotes it on heal; the journal
 *   already holds every value by then, so the writes it acknowledged can be collected.
 * - **Reconcile**: `apply` writes resolved values to the local Redis when it is the
 *   primary (lifting the fence for the writes only); on a replica it writes nothing,
 *   since the primary's agent receives the same sync set and replication carries it.
 * - **Digest**: `SCAN` plus each key's value (core/digest.ts), without HLCs, which
 *   Redis does not store: equal digests mean equal data.
 */
import { Redis } from 'ioredis';
import { DigestAccumulator, type Digest, digestBucketCountDefault } from '../../../core/digest';
import { type Hlc, compareHlc, hlcTick, hlcZero } from '../../../core/hlc';
import type { FenceMode } from '../../../core/policy/cluster-policy';
import { keyLengthMax, valueLengthMax } from '../../../core/reconcile/data-plane-commands';
import type { ResolvedEntry } from '../../../core/reconcile/plan-reconciliation';
import type { VersionedEntry } from '../../../core/reconcile/resolver';
import type { ApplyOutcome, DataPlaneAdapter } from '../../store/data-plane-adapter';
import type { RedisTarget } from './redis-url';
import { WriteJournal, type WriteJournalLimits, type WriteJournalStats } from './write-journal';

/** The `min-replicas-to-write` a fence sets: no Redis has that many replicas, so every write is refused. */
export const fenceReplicasRequired = 2_147_483_647;
/** How often the adapter reads role, lag, refusals and the fence setting (ms). */
export const redisPollIntervalMsDefault = 100;
/** How often the status digest is recomputed by a full SCAN (ms). */
export const statusDigestRefreshMs = 2000;
/** Keys past which the status digest is no longer recomputed (the SCAN would cost too much per report). */
export const statusDigestKeysMax = 20_000;
/** Keys read per SCAN step and per value pipeline. */
export const scanBatchKeys = 500;
/**
 * How long an apply or a digest waits for the node's role to settle (ms): a replica
 * for its link to be up and its sync done, an old primary that lost every replica for
 * Sentinel to demote it or the replicas to come back. Under the server's 15 s reply bound.
 */
export const roleSettleWaitMs = 8000;
/**
 * Longest an unfence is held back on an old primary that lost every replica (ms).
 * Sentinel demotes a returning old primary only about 8 s after it sees it again; an
 * unfence before that would let the old primary acknowledge writes that REPLICAOF then
 * throws away. Past this bound (no Sentinel, replicas gone for good) the fence is lifted.
 */
export const fenceHoldMaxMs = 30_000;
/**
 * Prefix of a value carried as `DUMP` output in base64 (restored with `RESTORE …
 * REPLACE`): every non-string value, and a string that itself starts with the prefix,
 * so that the two never mix. Printable, since dry runs are stored as JSON in PostgreSQL.
 */
export const dumpValuePrefix = 'redis-dump:';
/** Database journaled and reconciled. */
const database = 0;
/** The HLC the digest uses for every key: Redis keeps no versions, so only keys and values are compared. */
const digestHlc: Hlc = { wallMs: 0, logical: 0, nodeId: 'redis' };

/** The role Redis reports, in the console's words. */
export type RedisRole = 'primary' | 'replica' | 'unknown';

/** Log sink of the adapter. */
export type RedisAdapterLog = (level: 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>) => void;

/** Settings of one adapter. */
export interface RedisAdapterOptions {
  target: RedisTarget;
  /** The agent's node id: the node of every HLC the journal stamps. */
  nodeId: string;
  nowMs: () => number;
  log: RedisAdapterLog;
  journalLimits?: WriteJournalLimits;
  pollIntervalMs?: number;
}

/** What the adapter knows of its Redis, for the data-plane status. */
export interface RedisAdapterState {
  role: RedisRole;
  endpoint: string;
  /** Bytes the slowest replica is behind (on a primary); null on a replica or when unknown. */
  lagBytes: number | null;
  /** The last problem, in words an operator can act on; null when healthy. */
  error: string | null;
  keyCount: number;
  /** Writes refused with `-NOREPLICAS` since Redis started (the fence's refusals). */
  writesRefused: number;
  fence: { partitionId: string; mode: FenceMode } | null;
  digestRoot: string;
  journal: WriteJournalStats;
  /** Writes whose value could not be read because Redis had already become a replica (the REPLICAOF race). */
  journalRaceLost: number;
  /** Writes not journaled: key or value larger than the wire allows. */
  journalOversize: number;
}

type ExecResult = [error: Error | null, result: unknown][] | null;

function parseInfo(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of text.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0 && !line.startsWith('#')) fields.set(line.slice(0, colon), line.slice(colon + 1));
  }
  return fields;
}

/** Bytes the slowest online replica is behind its primary, from `INFO replication`. */
function replicaLagBytes(info: Map<string, string>): number {
  const offset = Number(info.get('master_repl_offset') ?? 0);
  let lag = 0;
  for (const [field, value] of info) {
    if (!/^slave\d+$/.test(field)) continue;
    const replicaOffset = Number(/offset=(\d+)/.exec(value)?.[1] ?? offset);
    lag = Math.max(lag, offset - replicaOffset);
  }
  return Math.max(0, lag);
}

/** The stored value of a key from TYPE, GET and DUMP results: null when the key is gone. */
function valueOf(type: unknown, text: unknown, dump: unknown): string | null {
  if (type === 'none') return null;
  if (type === 'string' && typeof text === 'string' && !text.startsWith(dumpValuePrefix)) return text;
  if (Buffer.isBuffer(dump)) return `${dumpValuePrefix}${dump.toString('base64')}`;
  return null;
}

/** The fences held, strictest first, as the status shows them. */
function strictestFence(fences: Map<string, FenceMode>): { partitionId: string; mode: FenceMode } | null {
  for (const mode of ['read-only', 'critical-only'] as const) {
    for (const [partitionId, held] of fences) if (held === mode) return { partitionId, mode };
  }
  return null;
}

export class RedisAdapter implements DataPlaneAdapter {
  private readonly command: Redis;
  private readonly subscriber: Redis;
  private readonly journal: WriteJournal;
  private readonly fences = new Map<string, FenceMode>();
  /** `min-replicas-to-write` and `min-replicas-max-lag` before the fence went up. */
  private savedReplicaSettings: { toWrite: string; maxLag: string } | null = null;
  /** Keys being written by `apply`, with the HLC their journal entry must carry. */
  private readonly pendingApply = new Map<string, Hlc[]>();
  private clock: Hlc;
  private role: RedisRole = 'unknown';
  private masterLink: { endpoint: string; up: boolean; syncing: boolean } | null = null;
  private connectedReplicas = 0;
  /** An unfence held back until this node is demoted or gets its replicas back: the fence it keeps, and until when at most. */
  private heldFence: { partitionId: string; mode: FenceMode; untilMs: number } | null = null;
  /** Whether this node has been seen as a primary with replicas (so losing all of them means it was cut off). */
  private hadReplicas = false;
  private lagBytes: number | null = null;
  private connectionError: string | null = null;
  /** A problem that reconnecting does not cure (the URL names a Sentinel, the journal overflowed). */
  private stickyError: string | null = null;
  private keyCount = 0;
  private refused = 0;
  private digestRoot = '0'.repeat(16);
  private digestAtMs = Number.NEGATIVE_INFINITY;
  private digesting = false;
  private raceLost = 0;
  private oversize = 0;
  private polling = false;
  private closed = false;
  private readonly pollTimer: NodeJS.Timeout;

  constructor(private readonly options: RedisAdapterOptions) {
    const { target } = options;
    const connection = {
      host: target.host,
      port: target.port,
      ...(target.username ? { username: target.username } : {}),
      ...(target.password ? { password: target.password } : {}),
      lazyConnect: true,
      connectTimeout: 2000,
      maxRetriesPerRequest: 1,
      retryStrategy: () => 500,
    };
    this.journal = new WriteJournal(options.journalLimits);
    this.clock = hlcZero(options.nodeId);
    // Commands fail at once while Redis is unreachable instead of queueing: a fence or
    // an apply must say that it did not happen.
    this.command = new Redis({ ...connection, enableOfflineQueue: false, connectionName: 'faultline-agent' });
    this.subscriber = new Redis({ ...connection, connectionName: 'faultline-journal' });
    this.command.on('error', (error: Error) => this.noteConnectionError(error));
    this.subscriber.on('error', () => undefined);
    this.command.on('ready', () => void this.onReady());
    this.subscriber.on('pmessage', (_pattern: string, channel: string, key: string) => this.onWrite(channel, key));
    this.pollTimer = setInterval(() => void this.poll(), options.pollIntervalMs ?? redisPollIntervalMsDefault);
    this.pollTimer.unref?.();
  }

  /** Connects both links; an unreachable Redis is reported (status, log) and retried, not thrown. */
  async start(): Promise<void> {
    await Promise.all([
      this.command.connect().catch((error: Error) => this.noteConnectionError(error)),
      this.subscriber.connect().catch(() => undefined),
    ]);
    await this.subscriber.psubscribe(`__keyevent@${database}__:*`).catch(() => undefined);
  }

  private noteConnectionError(error: Error): void {
    const message = `cannot reach redis at ${this.options.target.endpoint}: ${error.message}`.slice(0, 300);
    if (message !== this.connectionError) this.options.log('error', 'redis unreachable', { endpoint: this.options.target.endpoint, error: error.message });
    this.connectionError = message;
    this.role = 'unknown';
  }

  /** On every (re)connection: check that this is a data node and turn on keyevent notifications. */
  private async onReady(): Promise<void> {
    try {
      const role = (await this.command.call('ROLE')) as unknown[];
      if (role[0] === 'sentinel') {
        this.stickyError = `${this.options.target.endpoint} is a Redis Sentinel, not a redis-server: point --data-plane at the data node`;
        this.options.log('error', 'redis adapter pointed at a sentinel', { endpoint: this.options.target.endpoint });
        return;
      }
      const current = ((await this.command.config('GET', 'notify-keyspace-events')) as string[])[1] ?? '';
      const wanted = [...new Set([...current, ...'Eg$lshzxet'])].join('');
      if (!current.includes('E') || !current.includes('g') || !current.includes('$')) await this.command.config('SET', 'notify-keyspace-events', wanted);
      this.connectionError = null;
      this.options.log('info', 'redis connected', { endpoint: this.options.target.endpoint, role: role[0] });
      await this.poll();
    } catch (error) {
      this.noteConnectionError(error as Error);
    }
  }

  /** One keyevent: read the key's value at once, atomically with the role, and journal it. */
  private onWrite(channel: string, key: string): void {
    if (this.role === 'replica' && !this.pendingApply.has(key)) return;
    void this.command
      .multi()
      .call('ROLE')
      .type(key)
      .get(key)
      .dumpBuffer(key)
      .exec()
      .then((results: ExecResult) => this.journalRead(channel, key, results))
      .catch((error: Error) => {
        this.raceLost += 1;
        this.options.log('warn', 'journal read failed: a write may be missing from the journal', { key: key.slice(0, 100), error: error.message });
      });
  }

  private journalRead(channel: string, key: string, results: ExecResult): void {
    if (!results) return;
    const role = results[0]?.[1] as unknown[] | undefined;
    const pending = this.pendingApply.get(key)?.shift();
    if (this.pendingApply.get(key)?.length === 0) this.pendingApply.delete(key);
    if (role?.[0] !== 'master') {
      // A replica: a write that came down its replication link (journaled by the
      // primary's agent), or, while its link is not yet connected, a local write made
      // just before REPLICAOF whose value is gone. The fence makes that second window
      // empty in practice (no write is accepted after it), so it is counted and shown.
      const wasPrimary = this.role === 'primary';
      if (role?.[0] === 'slave') this.role = 'replica';
      if (wasPrimary && pending === undefined && role?.[3] !== 'connected') {
        this.raceLost += 1;
        this.options.log('warn', 'a write was made just before REPLICAOF and its value could not be read', { key: key.slice(0, 100), event: channel });
      }
      return;
    }
    const value = valueOf(results[1]?.[1], results[2]?.[1], results[3]?.[1]);
    if (key.length > keyLengthMax || (value !== null && value.length > valueLengthMax)) {
      this.oversize += 1;
      return;
    }
    this.clock = hlcTick(this.clock, this.options.nowMs());
    const hlc = pending ?? this.clock;
    const before = this.journal.stats().dropped;
    this.journal.record({ key, value, hlc });
    if (this.journal.stats().dropped > before && this.stickyError === null) {
      this.stickyError = 'write journal full: the oldest writes were dropped and cannot be reconciled';
      this.options.log('error', 'redis write journal overflowed', { ...this.journal.stats() });
    }
  }

  /** Reads role, replication lag, fence refusals and key count; re-asserts a fence Redis forgot. */
  private async poll(): Promise<void> {
    if (this.polling || this.closed || this.command.status !== 'ready') return;
    this.polling = true;
    try {
      const results = (await this.command.pipeline().info('replication').info('errorstats').config('GET', 'min-replicas-to-write').dbsize().exec()) as ExecResult;
      const [replication, errorstats, toWrite, size] = (results ?? []).map(([error, value]) => {
        if (error) throw error;
        return value;
      });
      const info = parseInfo(String(replication));
      this.role = info.get('role') === 'master' ? 'primary' : info.get('role') === 'slave' ? 'replica' : 'unknown';
      this.masterLink = this.role === 'replica'
        ? { endpoint: `${info.get('master_host')}:${info.get('master_port')}`, up: info.get('master_link_status') === 'up', syncing: info.get('master_sync_in_progress') === '1' }
        : null;
      this.connectedReplicas = this.role === 'primary' ? Number(info.get('connected_slaves') ?? 0) : 0;
      if (this.connectedReplicas > 0) this.hadReplicas = true;
      this.lagBytes = this.role === 'primary' ? replicaLagBytes(info) : null;
      this.refused = Number(/errorstat_NOREPLICAS:count=(\d+)/.exec(String(errorstats))?.[1] ?? 0);
      this.keyCount = Number(size);
      const fenced = Number((toWrite as string[])[1]) === fenceReplicasRequired;
      if (this.heldFence && (this.settled() || this.options.nowMs() >= this.heldFence.untilMs)) {
        this.options.log(this.settled() ? 'info' : 'warn', 'redis fence lifted after the held unfence', { role: this.role, replicas: this.connectedReplicas, partitionId: this.heldFence.partitionId });
        this.heldFence = null;
        if (this.fences.size === 0) await this.liftFenceSetting();
      }
      if ((this.fences.size > 0 || this.heldFence) && !fenced) {
        this.options.log('warn', 'redis lost the fence setting (restarted?); fencing again', { endpoint: this.options.target.endpoint });
        await this.enforceFence();
      }
      if (this.options.nowMs() - this.digestAtMs >= statusDigestRefreshMs) void this.refreshStatusDigest();
    } catch (error) {
      this.noteConnectionError(error as Error);
    } finally {
      this.polling = false;
    }
  }

  private async refreshStatusDigest(): Promise<void> {
    if (this.digesting || this.keyCount > statusDigestKeysMax) return;
    this.digesting = true;
    this.digestAtMs = this.options.nowMs();
    try {
      this.digestRoot = (await this.scanDigest(digestBucketCountDefault)).root;
    } catch {
      // The next poll tries again; the connection error is already recorded.
    } finally {
      this.digesting = false;
    }
  }

  /** Values of `keys` (null where a key is gone), one pipeline. */
  private async readValues(keys: readonly string[]): Promise<(string | null)[]> {
    const pipeline = this.command.pipeline();
    for (const key of keys) pipeline.type(key).get(key).dumpBuffer(key);
    const results = ((await pipeline.exec()) ?? []) as [Error | null, unknown][];
    return keys.map((_, index) => valueOf(results[index * 3]?.[1], results[index * 3 + 1]?.[1], results[index * 3 + 2]?.[1]));
  }

  /**
   * Calls `visit` once with every key and value of the database, a SCAN batch at a
   * time. SCAN may return a key twice (while Redis rehashes), and the digest XORs
   * keys, so repeats are dropped.
   */
  private async scanAll(visit: (key: string, value: string) => void): Promise<void> {
    let cursor = '0';
    const seen = new Set<string>();
    for (let step = 0; step < 10_000_000; step += 1) {
      const [next, scanned] = await this.command.scan(cursor, 'COUNT', scanBatchKeys);
      const keys = scanned.filter((key) => !seen.has(key));
      for (const key of keys) seen.add(key);
      const values = await this.readValues(keys);
      keys.forEach((key, index) => {
        const value = values[index];
        if (value !== null && value !== undefined) visit(key, value);
      });
      cursor = next;
      if (cursor === '0') return;
    }
  }

  async changedSince(since: Hlc | null): Promise<VersionedEntry[]> {
    // The journal lives in the agent: what it collected stays collectable when Redis is
    // down or has thrown its data away.
    if (since !== null) return this.journal.changedSince(since);
    this.throwIfUnusable();
    // Everything: every key as it is now, at its journaled version, or at the zero
    // version of this node when the journal never saw it written; tombstones from the journal.
    const entries: VersionedEntry[] = [];
    const seen = new Set<string>();
    await this.scanAll((key, value) => {
      seen.add(key);
      entries.push({ key, value, hlc: this.journal.latest(key)?.hlc ?? hlcZero(this.options.nodeId) });
    });
    for (const key of this.journal.keys()) {
      const latest = this.journal.latest(key)!;
      if (!seen.has(key) && latest.value === null) entries.push(latest);
    }
    return entries;
  }

  async digest(bucketCount: number): Promise<Digest> {
    this.throwIfUnusable();
    await this.settle();
    return this.scanDigest(bucketCount);
  }

  private async scanDigest(bucketCount: number): Promise<Digest> {
    const accumulator = new DigestAccumulator(bucketCount);
    await this.scanAll((key, value) => accumulator.add(key, value, digestHlc));
    return accumulator.snapshot();
  }

  /** Whether the role is one the data can be trusted in: an in-sync replica, or a primary not cut off from its replicas. */
  private settled(): boolean {
    if (this.role === 'replica') return this.masterLink !== null && this.masterLink.up && !this.masterLink.syncing;
    return this.role === 'primary' && !(this.hadReplicas && this.connectedReplicas === 0);
  }

  /**
   * Waits (at most `roleSettleWaitMs`) for the role to settle. Right after a heal the
   * old primary is still a primary until Sentinel demotes it, then resyncs: its data
   * then is neither side's, and a digest or an apply there would only fail verification.
   */
  private async settle(): Promise<void> {
    const deadline = this.options.nowMs() + roleSettleWaitMs;
    for (;;) {
      await this.poll();
      if (this.settled() || this.options.nowMs() >= deadline) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  async apply(entries: readonly ResolvedEntry[]): Promise<ApplyOutcome> {
    this.throwIfUnusable();
    await this.settle();
    if (this.role === 'replica') return this.applyOnReplica();
    if (this.role !== 'primary') throw new Error(`redis at ${this.options.target.endpoint} has no known role (${this.connectionError ?? 'not connected'})`);
    if (!this.settled()) {
      // An old primary not yet demoted: what it holds is about to be thrown away, and
      // lifting its fence to write would let a client's write in to be lost with it.
      throw new Error(`redis at ${this.options.target.endpoint} is a primary cut off from every replica (an old primary awaiting demotion): not applying here; its own writes are in the journal`);
    }
    const writes = entries.filter((entry) => {
      const local = this.journal.latest(entry.key);
      return !local || compareHlc(local.hlc, entry.supersedes) <= 0;
    });
    for (const entry of entries) if (compareHlc(entry.supersedes, this.clock) > 0) this.clock = { ...entry.supersedes, nodeId: this.options.nodeId };
    if (writes.length === 0) return { applied: 0, skipped: entries.length };
    for (const entry of writes) this.pendingApply.set(entry.key, [...(this.pendingApply.get(entry.key) ?? []), entry.hlc]);
    // A fenced primary refuses every write, the agent's too: lift the fence for the
    // writes only. A client write slipping in meanwhile is acknowledged on the side
    // that keeps its data (the partition has healed), so it is not lost.
    const fenced = this.fences.size > 0 || this.heldFence !== null;
    if (fenced) await this.liftFenceSetting();
    try {
      const pipeline = this.command.pipeline();
      for (const entry of writes) {
        if (entry.value === null) pipeline.del(entry.key);
        else if (entry.value.startsWith(dumpValuePrefix)) pipeline.restore(entry.key, 0, Buffer.from(entry.value.slice(dumpValuePrefix.length), 'base64'), 'REPLACE');
        else pipeline.set(entry.key, entry.value);
      }
      const results = ((await pipeline.exec()) ?? []) as [Error | null, unknown][];
      const failed = results.find(([error]) => error !== null)?.[0];
      if (failed) throw new Error(`redis refused a resolved write: ${failed.message}`);
    } finally {
      if (fenced) await this.enforceFence();
    }
    return { applied: writes.length, skipped: entries.length - writes.length };
  }

  /**
   * On a replica nothing is written: the primary's agent gets the same resolved
   * values and replication carries them here. A replica cut off from its primary
   * cannot vouch for that, so it fails, and the run retries or escalates.
   */
  private applyOnReplica(): ApplyOutcome {
    if (this.masterLink && !this.masterLink.up) {
      throw new Error(`redis at ${this.options.target.endpoint} is a replica whose link to its primary ${this.masterLink.endpoint} is down: the resolved writes cannot reach it`);
    }
    return { applied: 0, skipped: 0 };
  }

  private throwIfUnusable(): void {
    if (this.stickyError?.includes('Sentinel')) throw new Error(this.stickyError);
    if (this.command.status !== 'ready') throw new Error(this.connectionError ?? `redis at ${this.options.target.endpoint} is not connected`);
  }

  async setFence(partitionId: string, mode: FenceMode | null): Promise<void> {
    const lifted = this.fences.get(partitionId);
    if (mode === null) this.fences.delete(partitionId);
    else this.fences.set(partitionId, mode);
    if (this.fences.size > 0) return this.fenced(partitionId, mode);
    await this.poll();
    if (lifted === 'read-only' && this.role === 'primary' && !this.settled()) {
      // The old primary is back but not yet demoted: keep refusing writes until it is.
      this.heldFence = { partitionId, mode: lifted, untilMs: this.options.nowMs() + fenceHoldMaxMs };
      this.options.log('info', 'redis unfence held until Sentinel demotes this old primary or its replicas return', { partitionId });
      return;
    }
    if (this.heldFence) return;
    await this.liftFenceSetting();
    this.options.log('info', 'redis fence lifted', { partitionId });
  }

  private async fenced(partitionId: string, mode: FenceMode | null): Promise<void> {
    await this.enforceFence();
    this.options.log('info', mode === null ? 'redis fence narrowed' : 'redis fenced', { partitionId, mode, fencesHeld: this.fences.size });
  }

  /** Puts the fence setting up (idempotent), remembering what it replaces. */
  private async enforceFence(): Promise<void> {
    const pairs = new Map<string, string>();
    const raw = (await this.command.config('GET', 'min-replicas-*')) as string[];
    for (let index = 0; index + 1 < raw.length; index += 2) pairs.set(raw[index]!, raw[index + 1]!);
    const current = { toWrite: pairs.get('min-replicas-to-write') ?? '0', maxLag: pairs.get('min-replicas-max-lag') ?? '10' };
    if (Number(current.toWrite) !== fenceReplicasRequired) this.savedReplicaSettings = current;
    // min-replicas-max-lag 0 turns the check off; keep it on while fenced.
    await this.command.config('SET', 'min-replicas-to-write', String(fenceReplicasRequired), 'min-replicas-max-lag', Number(current.maxLag) > 0 ? current.maxLag : '10');
  }

  /** Restores the settings the fence replaced (Redis' defaults when a previous agent left the fence up). */
  private async liftFenceSetting(): Promise<void> {
    const saved = this.savedReplicaSettings ?? { toWrite: '0', maxLag: '10' };
    const current = ((await this.command.config('GET', 'min-replicas-to-write')) as string[])[1];
    if (Number(current) !== fenceReplicasRequired) return;
    await this.command.config('SET', 'min-replicas-to-write', saved.toWrite, 'min-replicas-max-lag', saved.maxLag);
  }

  /** What the status line shows. */
  state(): RedisAdapterState {
    return {
      role: this.role,
      endpoint: this.options.target.endpoint,
      lagBytes: this.lagBytes,
      error: this.stickyError ?? this.connectionError ?? (this.raceLost > 0 ? `${this.raceLost} writes made just before REPLICAOF could not be journaled` : null),
      keyCount: this.keyCount,
      writesRefused: this.refused,
      fence: strictestFence(this.fences) ?? (this.heldFence ? { partitionId: this.heldFence.partitionId, mode: this.heldFence.mode } : null),
      digestRoot: this.digestRoot,
      journal: this.journal.stats(),
      journalRaceLost: this.raceLost,
      journalOversize: this.oversize,
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.pollTimer);
    this.command.disconnect();
    this.subscriber.disconnect();
  }
}
