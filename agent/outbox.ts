/**
 * Where reports wait until the control server acknowledges them. Bounded: when
 * full, the oldest entry is dropped (the newest state matters most) and counted.
 */
import type { AgentReport } from '../core/protocol';

/** One waiting report. */
export interface OutboxEntry {
  /** Position in the outbox; increases with every append. */
  id: number;
  report: AgentReport;
}

/** The outbox boundary: an in-memory twin here, a durable on-disk one for production. */
export interface Outbox {
  append(report: AgentReport): Promise<void>;
  /** The oldest entry, or null when empty. */
  peek(): Promise<OutboxEntry | null>;
  /** Up to `limit` oldest entries, oldest first (sent together, acknowledged in order). */
  peekBatch(limit: number): Promise<OutboxEntry[]>;
  /** Removes an acknowledged entry. */
  remove(id: number): Promise<void>;
  /** Entries waiting. */
  depth(): number;
  /** Entries dropped because the outbox was full. */
  droppedCount(): number;
  close(): Promise<void>;
}

/** Default bound of the outbox, in entries. */
export const outboxEntriesMax = 10_000;

export class MemoryOutbox implements Outbox {
  private entries: OutboxEntry[] = [];
  private nextId = 1;
  private dropped = 0;

  constructor(private readonly entriesMax: number = outboxEntriesMax) {}

  async append(report: AgentReport): Promise<void> {
    this.entries.push({ id: this.nextId, report });
    this.nextId += 1;
    while (this.entries.length > this.entriesMax) {
      this.entries.shift();
      this.dropped += 1;
    }
  }

  async peek(): Promise<OutboxEntry | null> {
    return this.entries[0] ?? null;
  }

  async peekBatch(limit: number): Promise<OutboxEntry[]> {
    return this.entries.slice(0, limit);
  }

  async remove(id: number): Promise<void> {
    this.entries = this.entries.filter((entry) => entry.id !== id);
  }

  depth(): number {
    return this.entries.length;
  }

  droppedCount(): number {
    return this.dropped;
  }

  async close(): Promise<void> {}
}
