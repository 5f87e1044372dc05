/**
 * The Redis adapter's write journal: every write the local Redis acknowledged while
 * it was a primary, with its value read at once and a hybrid logical timestamp
 * (core/hlc.ts) stamped by the agent. Redis keeps no per-key versions and throws its
 * whole dataset away on `REPLICAOF`, so this in-agent copy is what reconciliation
 * collects from an old primary after Sentinel has already demoted it. Bounded by
 * entries and bytes; past a bound the oldest entries go and are counted.
 */
import { type Hlc, compareHlc } from '../../../core/hlc';
import { utf8Bytes } from '../../../core/reconcile/plan-reconciliation';
import type { VersionedEntry } from '../../../core/reconcile/resolver';

/** Entries the journal keeps by default (about 10 minutes of 150 writes a second). */
export const journalEntriesMaxDefault = 100_000;
/** Bytes of keys and values the journal keeps by default. */
export const journalBytesMaxDefault = 64 * 1024 * 1024;

/** Bounds of a journal. */
export interface WriteJournalLimits {
  entriesMax: number;
  bytesMax: number;
}

/** The journal's counters. */
export interface WriteJournalStats {
  /** Entries held. */
  entries: number;
  /** Bytes of keys and values held. */
  bytes: number;
  /** Entries recorded since start. */
  recorded: number;
  /** Oldest entries dropped to stay within the bounds. */
  dropped: number;
  /** HLC of the newest dropped entry: changes at or before it may be missing. */
  droppedThrough: Hlc | null;
}

const entryBytes = (entry: VersionedEntry) => utf8Bytes(entry.key) + (entry.value === null ? 0 : utf8Bytes(entry.value)) + 32;

/** An append-only, bounded journal of versioned writes, oldest first. */
export class WriteJournal {
  private entries: VersionedEntry[] = [];
  private head = 0;
  private bytes = 0;
  private recorded = 0;
  private dropped = 0;
  private droppedThrough: Hlc | null = null;
  private readonly latestByKey = new Map<string, VersionedEntry>();

  constructor(private readonly limits: WriteJournalLimits = { entriesMax: journalEntriesMaxDefault, bytesMax: journalBytesMaxDefault }) {}

  /** Appends one version; entries arrive in HLC order (one clock stamps them all). */
  record(entry: VersionedEntry): void {
    this.entries.push(entry);
    this.bytes += entryBytes(entry);
    this.recorded += 1;
    const latest = this.latestByKey.get(entry.key);
    if (!latest || compareHlc(entry.hlc, latest.hlc) > 0) this.latestByKey.set(entry.key, entry);
    while (this.size() > this.limits.entriesMax || (this.bytes > this.limits.bytesMax && this.size() > 1)) this.dropOldest();
    if (this.head > 1024 && this.head * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.head);
      this.head = 0;
    }
  }

  private size(): number {
    return this.entries.length - this.head;
  }

  private dropOldest(): void {
    const oldest = this.entries[this.head]!;
    this.head += 1;
    this.bytes -= entryBytes(oldest);
    this.dropped += 1;
    this.droppedThrough = oldest.hlc;
    if (this.latestByKey.get(oldest.key) === oldest) this.latestByKey.delete(oldest.key);
  }

  /** Every version at or after `since` (null: every version held), oldest first. */
  changedSince(since: Hlc | null): VersionedEntry[] {
    const held = this.entries.slice(this.head);
    return since === null ? held : held.filter((entry) => compareHlc(entry.hlc, since) >= 0);
  }

  /** The newest version of `key` the journal holds, if any. */
  latest(key: string): VersionedEntry | undefined {
    return this.latestByKey.get(key);
  }

  /** Keys with a version in the journal. */
  keys(): IterableIterator<string> {
    return this.latestByKey.keys();
  }

  stats(): WriteJournalStats {
    return { entries: this.size(), bytes: this.bytes, recorded: this.recorded, dropped: this.dropped, droppedThrough: this.droppedThrough };
  }
}
