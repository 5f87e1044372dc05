/**
 * Reassembles fragmented replication entries (see `replication-fragments.ts`), bounded
 * in memory and in time: at most `reassemblyBytesMax` bytes reserved over all senders
 * (each entry reserves its announced size at its first fragment), at most
 * `reassemblyEntriesPerSenderMax` entries in progress per sender, and an entry whose
 * fragments have not all arrived within `reassemblyTimeoutMs` of its first is dropped.
 * Past a bound the oldest entry in progress is evicted. Dropped and evicted entries are
 * counted; reconciliation repairs them like any lost datagram. No timers: the time
 * comes in with each fragment, and stale entries are swept then.
 */
import type { DecodedFragment } from './replication-fragments';

/** Bytes reserved by entries in progress, over every sender. Sixteen maximal entries. */
export const reassemblyBytesMax = 16 * 70 * 1024;
/** Entries in progress per sender; a sender cannot take the whole budget by starting many. */
export const reassemblyEntriesPerSenderMax = 4;
/** How long an entry's fragments may take to arrive, from its first (ms). */
export const reassemblyTimeoutMs = 2000;

/** What one fragment did. */
export type ReassemblyOutcome =
  | { kind: 'complete'; blob: Buffer }
  | { kind: 'pending' }
  /** The fragment disagrees with its entry (count, size, or bytes past the announced size); the entry is dropped. */
  | { kind: 'inconsistent' };

/** Counters, for stats and tests. */
export interface ReassemblyStats {
  completed: number;
  /** Entries dropped because their fragments did not all arrive in time. */
  expired: number;
  /** Entries evicted to stay within the bounds. */
  evicted: number;
  /** Entries in progress now. */
  inProgress: number;
  /** Bytes reserved now. */
  reservedBytes: number;
}

interface Pending {
  sender: string;
  count: number;
  totalBytes: number;
  chunks: (Uint8Array | undefined)[];
  received: number;
  receivedBytes: number;
  startedAtMs: number;
}

export class FragmentReassembly {
  /** Entries in progress, in order of their first fragment (a Map keeps insertion order). */
  private readonly pending = new Map<string, Pending>();
  private reservedBytes = 0;
  private readonly counters = { completed: 0, expired: 0, evicted: 0 };

  constructor(
    private readonly bytesMax: number = reassemblyBytesMax,
    private readonly perSenderMax: number = reassemblyEntriesPerSenderMax,
    private readonly timeoutMs: number = reassemblyTimeoutMs,
  ) {}

  /** Adds one verified, admitted fragment from `sender`. */
  add(sender: string, fragment: DecodedFragment, nowMs: number): ReassemblyOutcome {
    this.sweep(nowMs);
    const id = `${sender}\u0000${fragment.envelope.incarnation}\u0000${fragment.group}`;
    let entry = this.pending.get(id);
    if (entry !== undefined && (entry.count !== fragment.count || entry.totalBytes !== fragment.totalBytes)) {
      this.drop(id, entry);
      return { kind: 'inconsistent' };
    }
    if (entry === undefined) entry = this.start(id, sender, fragment, nowMs);
    if (entry.chunks[fragment.index] !== undefined) return { kind: 'pending' };
    entry.chunks[fragment.index] = fragment.chunk;
    entry.received += 1;
    entry.receivedBytes += fragment.chunk.length;
    if (entry.receivedBytes > entry.totalBytes) {
      this.drop(id, entry);
      return { kind: 'inconsistent' };
    }
    if (entry.received < entry.count) return { kind: 'pending' };
    this.drop(id, entry);
    if (entry.receivedBytes !== entry.totalBytes) return { kind: 'inconsistent' };
    this.counters.completed += 1;
    return { kind: 'complete', blob: Buffer.concat(entry.chunks as Uint8Array[]) };
  }

  private start(id: string, sender: string, fragment: DecodedFragment, nowMs: number): Pending {
    const mine = [...this.pending].filter(([, entry]) => entry.sender === sender);
    for (const [oldId, old] of mine.slice(0, Math.max(0, mine.length - this.perSenderMax + 1))) this.evict(oldId, old);
    for (const [oldId, old] of this.pending) {
      if (this.reservedBytes + fragment.totalBytes <= this.bytesMax) break;
      this.evict(oldId, old);
    }
    const entry: Pending = { sender, count: fragment.count, totalBytes: fragment.totalBytes, chunks: new Array<undefined>(fragment.count), received: 0, receivedBytes: 0, startedAtMs: nowMs };
    this.pending.set(id, entry);
    this.reservedBytes += entry.totalBytes;
    return entry;
  }

  private evict(id: string, entry: Pending): void {
    this.drop(id, entry);
    this.counters.evicted += 1;
  }

  private drop(id: string, entry: Pending): void {
    if (this.pending.delete(id)) this.reservedBytes -= entry.totalBytes;
  }

  /** Drops entries older than the timeout (oldest first, so the sweep stops at the first young one). */
  sweep(nowMs: number): void {
    for (const [id, entry] of this.pending) {
      if (nowMs - entry.startedAtMs < this.timeoutMs) break;
      this.drop(id, entry);
      this.counters.expired += 1;
    }
  }

  /** Forgets every entry in progress. */
  clear(): void {
    this.pending.clear();
    this.reservedBytes = 0;
  }

  stats(): ReassemblyStats {
    return { ...this.counters, inProgress: this.pending.size, reservedBytes: this.reservedBytes };
  }
}
