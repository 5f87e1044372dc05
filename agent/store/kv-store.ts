/**
 * The reference replicated key-value store that runs beside each agent, so that a
 * demo cluster has real data to diverge and reconcile. In memory: a map of versioned
 * entries stamped by a hybrid logical clock, a bounded log of the writes this node
 * accepted, and an incrementally maintained digest. Replication to peers goes
 * through an injected transport; fences decide which client writes are accepted.
 *
 * Replicated writes merge last-writer-wins on HLC, with one exception that makes a
 * reconciliation final: where it kept a version older than one it discarded, the key
 * keeps a floor (the newest discarded version's HLC) and a replicated version at or
 * before the floor is refused. Floors live beside the entries and share their fate:
 * this store is in memory, so an agent restart loses both (and the node is refilled by
 * the next reconciliation, whose entries carry the floors again).
 */
import { DigestAccumulator, type Digest, digestBucketCountDefault, digestOf } from '../../core/digest';
import { type Hlc, compareHlc, hlcReceive, hlcTick, hlcZero, maxHlc } from '../../core/hlc';
import type { FenceMode } from '../../core/policy/cluster-policy';
import type { NodeId } from '../../core/protocol';
import { keyLengthMax, valueBytesMax } from '../../core/reconcile/data-plane-commands';
import { type ResolvedEntry, settlesFloor } from '../../core/reconcile/plan-reconciliation';
import type { VersionedEntry } from '../../core/reconcile/resolver';
import type { ApplyOutcome, DataPlaneAdapter } from './data-plane-adapter';

/** Local writes remembered in the write log; the oldest are dropped first. */
export const writeLogMaxDefault = 100_000;
/** Most keys one store holds; a write of a new key past this is refused. */
export const storeKeysMaxDefault = 2_000_000;

/** The version of seeded data: older than every write, the same on every replica. */
export const seedHlc: Hlc = { wallMs: 0, logical: 0, nodeId: 'seed' };

/** Sends this node's accepted writes to its peers. Fire and forget: lost messages are what reconciliation repairs. */
export interface ReplicationTransport {
  /** Sends `entries` (written on `from`) to every peer the transport can reach. */
  broadcast(from: NodeId, entries: readonly VersionedEntry[]): void;
}

/** A transport that sends nothing, for a single node or a test that replicates by hand. */
export const noReplication: ReplicationTransport = { broadcast: () => undefined };

/** Why a client write was refused (`too-large`: the value is past `valueBytesMax`, so it could not be replicated). */
export type WriteRefusal = 'fenced-read-only' | 'emergency-critical-only' | 'invalid' | 'too-large' | 'full' | 'clock';

/** The outcome of a client write: acknowledged with its version, or refused (an expected condition, not an exception). */
export type WriteResult = { ok: true; hlc: Hlc } | { ok: false; code: WriteRefusal; message: string };

/** One entry in the write log. */
export interface WriteLogEntry {
  /** Key written. */
  key: string;
  /** Version given to the write. */
  hlc: Hlc;
}

/** Construction options. */
export interface KvStoreOptions {
  /** This node. */
  nodeId: NodeId;
  /** Physical clock (ms since epoch); a fake one in tests. */
  nowMs: () => number;
  /** Replication to peers; `noReplication` by default. */
  transport?: ReplicationTransport;
  /** Digest buckets maintained incrementally. */
  bucketCount?: number;
  /** Write log size. */
  writeLogMax?: number;
  /** Key capacity. */
  keysMax?: number;
}

/** The reference store of one node. */
export class KvStore {
  /** This node. */
  readonly nodeId: NodeId;
  private readonly nowMs: () => number;
  private transport: ReplicationTransport;
  private readonly entriesByKey = new Map<string, VersionedEntry>();
  /**
   * Per-key floors left by reconciliations that kept an older version (see
   * `settlesFloor`). A floor is dropped once the key holds a newer version, since
   * last-writer-wins then refuses everything older anyway; so at most one per key.
   */
  private readonly floors = new Map<string, Hlc>();
  private readonly accumulator: DigestAccumulator;
  private readonly fences = new Map<string, FenceMode>();
  private readonly writeLog: WriteLogEntry[] = [];
  private readonly writeLogMax: number;
  private readonly keysMax: number;
  private clock: Hlc;
  private accepted = 0;
  private refused = 0;
  private refusedClock = 0;
  private refusedBelowFloor = 0;

  constructor(options: KvStoreOptions) {
    this.nodeId = options.nodeId;
    this.nowMs = options.nowMs;
    this.transport = options.transport ?? noReplication;
    this.accumulator = new DigestAccumulator(options.bucketCount ?? digestBucketCountDefault);
    this.writeLogMax = options.writeLogMax ?? writeLogMaxDefault;
    this.keysMax = options.keysMax ?? storeKeysMaxDefault;
    this.clock = hlcZero(options.nodeId);
  }

  /** Replaces the replication transport (the agent wires the real one after start). */
  setTransport(transport: ReplicationTransport): void {
    this.transport = transport;
  }

  /** The current version of `key` (a tombstone has value null), or undefined if never written. */
  get(key: string): VersionedEntry | undefined {
    return this.entriesByKey.get(key);
  }

  /** The effective fence: read-only wins over critical-only; null when unfenced. */
  fenceMode(): FenceMode | null {
    const modes = [...this.fences.values()];
    if (modes.includes('read-only')) return 'read-only';
    return modes.includes('critical-only') ? 'critical-only' : null;
  }

  /** The fence in force and the partition that put it up (with several, the strictest), or null when unfenced. */
  activeFence(): { partitionId: string; mode: FenceMode } | null {
    const mode = this.fenceMode();
    if (mode === null) return null;
    for (const [partitionId, fenceMode] of this.fences) if (fenceMode === mode) return { partitionId, mode };
    return null;
  }

  /** Sets or lifts (mode null) the fence of one partition. Several partitions may fence at once. */
  setFence(partitionId: string, mode: FenceMode | null): void {
    if (mode === null) this.fences.delete(partitionId);
    else this.fences.set(partitionId, mode);
  }

  /**
   * Loads `keys` as data every replica already agrees on (a demo store's existing
   * data set): the same value at the zero version (`seedHlc`) everywhere, so the
   * replicas' digests match and no change since a partition began includes them.
   * Not replicated and not counted as writes; a key already present is left alone.
   * Returns how many keys were added.
   */
  seed(keys: readonly string[], value: string): number {
    let added = 0;
    for (const key of keys) {
      if (this.entriesByKey.has(key) || this.entriesByKey.size >= this.keysMax) continue;
      this.store({ key, value, hlc: seedHlc });
      added++;
    }
    return added;
  }

  /** A client write. Acknowledged writes are replicated to peers the transport reaches. */
  put(key: string, value: string, options: { critical?: boolean } = {}): WriteResult {
    return this.write(key, value, options.critical ?? false);
  }

  /** A client delete, stored as a tombstone so that it takes part in reconciliation. */
  delete(key: string, options: { critical?: boolean } = {}): WriteResult {
    return this.write(key, null, options.critical ?? false);
  }

  private refusal(key: string, value: string | null, critical: boolean): WriteResult | null {
    if (key.length === 0 || key.length > keyLengthMax) return { ok: false, code: 'invalid', message: `key length must be 1..${keyLengthMax}` };
    const valueBytes = value === null ? 0 : Buffer.byteLength(value, 'utf8');
    if (valueBytes > valueBytesMax) {
      return { ok: false, code: 'too-large', message: `value is ${valueBytes} bytes of UTF-8; at most ${valueBytesMax} (valueBytesMax) are stored and replicated` };
    }
    const fence = this.fenceMode();
    if (fence === 'read-only') return { ok: false, code: 'fenced-read-only', message: 'this node is on a minority side and read-only' };
    if (fence === 'critical-only' && !critical) {
      return { ok: false, code: 'emergency-critical-only', message: 'emergency mode: only critical writes are accepted' };
    }
    if (!this.entriesByKey.has(key) && this.entriesByKey.size >= this.keysMax) return { ok: false, code: 'full', message: `more than ${this.keysMax} keys` };
    return null;
  }

  private write(key: string, value: string | null, critical: boolean): WriteResult {
    const refused = this.refusal(key, value, critical);
    if (refused !== null) {
      this.refused++;
      return refused;
    }
    this.clock = hlcTick(this.clock, this.nowMs());
    const floor = this.floors.get(key);
    // apply() already moved the clock past every floor; this holds even if it could not (drift).
    if (floor !== undefined && compareHlc(this.clock, floor) <= 0) this.clock = hlcTick({ ...floor, nodeId: this.nodeId }, floor.wallMs);
    const entry: VersionedEntry = { key, value, hlc: this.clock };
    this.store(entry);
    this.accepted++;
    this.log({ key, hlc: entry.hlc });
    this.transport.broadcast(this.nodeId, [entry]);
    return { ok: true, hlc: entry.hlc };
  }

  private log(entry: WriteLogEntry): void {
    if (this.writeLog.length >= this.writeLogMax) this.writeLog.splice(0, Math.ceil(this.writeLogMax / 10));
    this.writeLog.push(entry);
  }

  private store(entry: VersionedEntry): void {
    const previous = this.entriesByKey.get(entry.key);
    if (previous !== undefined) this.accumulator.remove(previous.key, previous.value, previous.hlc);
    const floor = this.floors.get(entry.key);
    if (floor !== undefined && compareHlc(entry.hlc, floor) > 0) this.floors.delete(entry.key);
    this.entriesByKey.set(entry.key, entry);
    this.accumulator.add(entry.key, entry.value, entry.hlc);
  }

  /** Advances the clock past `remote`; false (and counted) when the remote clock is too far ahead. */
  private observe(remote: Hlc): boolean {
    const received = hlcReceive(this.clock, remote, this.nowMs());
    if (!received.ok) {
      this.refusedClock++;
      return false;
    }
    this.clock = received.clock;
    return true;
  }

  /**
   * Merges writes replicated from a peer: last writer wins on HLC, except that a
   * version at or before its key's floor is refused (counted in `belowFloor`): a
   * reconciliation already discarded it. Fences do not apply (they govern clients).
   */
  receive(entries: readonly VersionedEntry[]): { applied: number; ignored: number; belowFloor: number } {
    let applied = 0;
    let belowFloor = 0;
    for (const entry of entries) {
      const floor = this.floors.get(entry.key);
      if (floor !== undefined && compareHlc(entry.hlc, floor) <= 0) {
        belowFloor++;
        continue;
      }
      if (!this.observe(entry.hlc)) continue;
      const local = this.entriesByKey.get(entry.key);
      if (local !== undefined && compareHlc(local.hlc, entry.hlc) >= 0) continue;
      this.store(entry);
      applied++;
    }
    this.refusedBelowFloor += belowFloor;
    return { applied, ignored: entries.length - applied, belowFloor };
  }

  /**
   * Applies resolved values from reconciliation, keeping any version newer than an
   * entry's `supersedes`. An entry that keeps an older version than one it discarded
   * leaves the key a floor at `supersedes`, so that the decision is final.
   */
  apply(entries: readonly ResolvedEntry[]): ApplyOutcome {
    let applied = 0;
    let skipped = 0;
    for (const resolved of entries) {
      this.observe(resolved.supersedes);
      const local = this.entriesByKey.get(resolved.key);
      if (local !== undefined && compareHlc(local.hlc, resolved.supersedes) > 0) {
        skipped++;
        continue;
      }
      if (local === undefined || compareHlc(local.hlc, resolved.hlc) !== 0) {
        this.store({ key: resolved.key, value: resolved.value, hlc: resolved.hlc });
      }
      if (settlesFloor(resolved)) this.setFloor(resolved.key, resolved.supersedes);
      applied++;
    }
    return { applied, skipped };
  }

  private setFloor(key: string, supersedes: Hlc): void {
    const existing = this.floors.get(key);
    this.floors.set(key, existing === undefined ? supersedes : maxHlc(existing, supersedes));
  }

  /** The floor of `key` (replicated versions at or before it are refused), or undefined when it has none. */
  floorOf(key: string): Hlc | undefined {
    return this.floors.get(key);
  }

  /** Every version written at or after `since` (null: all), in no particular order. */
  changedSince(since: Hlc | null): VersionedEntry[] {
    const changed: VersionedEntry[] = [];
    for (const entry of this.entriesByKey.values()) if (since === null || compareHlc(entry.hlc, since) >= 0) changed.push(entry);
    return changed;
  }

  /** Digest of the whole key space; O(buckets) for the maintained bucket count, O(keys) for another. */
  digest(bucketCount: number = this.accumulator.bucketCount): Digest {
    if (bucketCount === this.accumulator.bucketCount) return this.accumulator.snapshot();
    return digestOf(this.entriesByKey.values(), bucketCount);
  }

  /** Local writes accepted at or after `since`, from the bounded write log. */
  writesSince(since: Hlc): WriteLogEntry[] {
    return this.writeLog.filter((entry) => compareHlc(entry.hlc, since) >= 0);
  }

  /** Counters for reports and the divergence ledger. */
  stats(): { keys: number; writesAccepted: number; writesRefused: number; remoteClockRefusals: number; floors: number; refusedBelowFloor: number; fence: FenceMode | null } {
    return {
      keys: this.entriesByKey.size,
      writesAccepted: this.accepted,
      writesRefused: this.refused,
      remoteClockRefusals: this.refusedClock,
      floors: this.floors.size,
      refusedBelowFloor: this.refusedBelowFloor,
      fence: this.fenceMode(),
    };
  }

  /** A snapshot of every entry, for tests and checkers. */
  snapshot(): Map<string, VersionedEntry> {
    return new Map(this.entriesByKey);
  }
}

/** The store as a data-plane adapter. */
export function createStoreAdapter(store: KvStore): DataPlaneAdapter {
  return {
    changedSince: async (since) => store.changedSince(since),
    digest: async (bucketCount) => store.digest(bucketCount),
    apply: async (entries) => store.apply(entries),
    setFence: async (partitionId, mode) => store.setFence(partitionId, mode),
  };
}
