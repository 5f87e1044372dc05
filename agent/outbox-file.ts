/**
 * The durable outbox: reports are appended to segment files and synced to disk
 * before `append` resolves, and leave only when the server acknowledged them, so
 * a crash, a restart or a long control-plane outage loses nothing that fits the
 * bound. When the bound is reached the oldest report is dropped (the newest state
 * matters most), counted, and the count survives restarts.
 *
 * On disk, in `directory`:
 *   segment-<first id, 16 digits>.log  one record per line: `<sha256 prefix> <json>`
 *   state.json                          `{ ackedThrough, dropped }`, replaced atomically
 * Live entries are those with id > ackedThrough. A torn last record (crash in the
 * middle of a write) fails its checksum and is cut off when the outbox is opened.
 * Entries are also held in memory; the bounds below bound both.
 */
import { createHash } from 'node:crypto';
import { type FileHandle, mkdir, open, readFile, readdir, rename, rm, truncate } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { AgentReportSchema, type AgentReport } from '../core/protocol';
import { type Outbox, type OutboxEntry, outboxEntriesMax } from './outbox';

/** Default bound on the bytes of waiting reports (on disk and in memory). */
export const outboxBytesMax = 64 * 1024 * 1024;
/** A segment file is closed and a new one started past this size. */
export const outboxSegmentBytesMax = 4 * 1024 * 1024;
/** Hex digits of SHA-256 kept per record: enough to catch torn or corrupted writes. */
const checksumHexLength = 16;

const StateSchema = z.object({ ackedThrough: z.number().int().nonnegative(), dropped: z.number().int().nonnegative() });
const RecordSchema = z.object({ id: z.number().int().positive(), report: AgentReportSchema });

/** Where and how big. */
export interface FileOutboxOptions {
  /** Directory owned by this outbox (created if missing); one agent per directory. */
  directory: string;
  /** Most reports kept waiting. */
  entriesMax?: number;
  /** Most bytes of reports kept waiting. */
  bytesMax?: number;
  /** Size past which a new segment file is started. */
  segmentBytesMax?: number;
}

interface Segment {
  file: string;
  firstId: number;
  lastId: number;
  bytes: number;
}

interface LiveEntry extends OutboxEntry {
  bytes: number;
}

const checksum = (json: string) => createHash('sha256').update(json).digest('hex').slice(0, checksumHexLength);
const segmentName = (firstId: number) => `segment-${String(firstId).padStart(16, '0')}.log`;

export class FileOutbox implements Outbox {
  private entries: LiveEntry[] = [];
  private liveBytes = 0;
  private segments: Segment[] = [];
  private handle: FileHandle | null = null;
  private chain: Promise<unknown> = Promise.resolve();
  private stateDirty = false;
  private closed = false;
  /** Reports appended by this process since it opened the outbox. */
  appendedCount = 0;

  private constructor(
    private readonly directory: string,
    private readonly entriesMax: number,
    private readonly bytesMax: number,
    private readonly segmentBytesMax: number,
    private ackedThrough: number,
    private dropped: number,
    private nextId: number,
  ) {}

  /** Opens (or creates) the outbox in `options.directory`, recovering what a crash left. */
  static async open(options: FileOutboxOptions): Promise<FileOutbox> {
    await mkdir(options.directory, { recursive: true });
    const state = await readState(options.directory);
    const outbox = new FileOutbox(
      options.directory,
      options.entriesMax ?? outboxEntriesMax,
      options.bytesMax ?? outboxBytesMax,
      options.segmentBytesMax ?? outboxSegmentBytesMax,
      state.ackedThrough,
      state.dropped,
      state.ackedThrough + 1,
    );
    await outbox.recover();
    return outbox;
  }

  private async recover(): Promise<void> {
    const names = (await readdir(this.directory)).filter((name) => /^segment-\d{16}\.log$/.test(name)).sort();
    for (const [index, name] of names.entries()) {
      const file = path.join(this.directory, name);
      const { records, validBytes, totalBytes } = parseSegment(await readFile(file, 'utf8'));
      if (validBytes < totalBytes && index === names.length - 1) await truncate(file, validBytes);
      if (records.length === 0) {
        await rm(file, { force: true });
        continue;
      }
      this.segments.push({ file, firstId: records[0]!.id, lastId: records.at(-1)!.id, bytes: validBytes });
      for (const record of records) {
        this.nextId = Math.max(this.nextId, record.id + 1);
        if (record.id <= this.ackedThrough) continue;
        this.entries.push({ id: record.id, report: record.report, bytes: record.bytes });
        this.liveBytes += record.bytes;
      }
    }
    await this.deleteAcknowledgedSegments();
  }

  /** Runs `task` after every earlier operation: one writer, in order. */
  private serial<T>(task: () => Promise<T>): Promise<T> {
    const run = this.chain.then(task, task);
    this.chain = run.catch(() => undefined);
    return run;
  }

  append(report: AgentReport): Promise<void> {
    return this.serial(async () => {
      if (this.closed) throw new Error('outbox closed');
      const id = this.nextId;
      const json = JSON.stringify({ id, report });
      const line = `${checksum(json)} ${json}\n`;
      const bytes = Buffer.byteLength(line);
      const segment = await this.writableSegment(id);
      await this.handle!.appendFile(line);
      await this.handle!.datasync();
      segment.lastId = id;
      segment.bytes += bytes;
      this.nextId += 1;
      this.appendedCount += 1;
      this.entries.push({ id, report, bytes });
      this.liveBytes += bytes;
      if (this.enforceBound()) await this.persistState();
    });
  }

  /** Drops the oldest entries until within bounds; true when anything was dropped. */
  private enforceBound(): boolean {
    let droppedAny = false;
    while (this.entries.length > 1 && (this.entries.length > this.entriesMax || this.liveBytes > this.bytesMax)) {
      const oldest = this.entries.shift()!;
      this.liveBytes -= oldest.bytes;
      this.dropped += 1;
      this.ackedThrough = Math.max(this.ackedThrough, oldest.id);
      droppedAny = true;
    }
    return droppedAny;
  }

  private async writableSegment(id: number): Promise<Segment> {
    const current = this.segments.at(-1);
    if (current && this.handle && current.bytes < this.segmentBytesMax) return current;
    await this.handle?.close();
    if (current && current.bytes < this.segmentBytesMax) {
      this.handle = await open(current.file, 'a');
      return current;
    }
    const segment: Segment = { file: path.join(this.directory, segmentName(id)), firstId: id, lastId: id - 1, bytes: 0 };
    this.handle = await open(segment.file, 'a');
    this.segments.push(segment);
    return segment;
  }

  async peek(): Promise<OutboxEntry | null> {
    const first = this.entries[0];
    return first ? { id: first.id, report: first.report } : null;
  }

  async peekBatch(limit: number): Promise<OutboxEntry[]> {
    return this.entries.slice(0, limit).map(({ id, report }) => ({ id, report }));
  }

  /**
   * Removes an acknowledged entry. Removal is persisted as "everything up to the
   * oldest waiting entry is acknowledged" with group commit: after a crash a few
   * acknowledged reports may be sent again, which the server answers as duplicates.
   */
  remove(id: number): Promise<void> {
    const index = this.entries.findIndex((entry) => entry.id === id);
    if (index < 0) return Promise.resolve();
    const [removed] = this.entries.splice(index, 1);
    this.liveBytes -= removed!.bytes;
    const ackedThrough = (this.entries[0]?.id ?? this.nextId) - 1;
    if (ackedThrough <= this.ackedThrough) return Promise.resolve();
    this.ackedThrough = ackedThrough;
    this.stateDirty = true;
    return this.serial(async () => {
      if (!this.stateDirty || this.closed) return;
      await this.persistState();
      await this.deleteAcknowledgedSegments();
    });
  }

  private async persistState(): Promise<void> {
    this.stateDirty = false;
    const file = path.join(this.directory, 'state.json');
    const temporary = `${file}.tmp`;
    const handle = await open(temporary, 'w');
    try {
      await handle.writeFile(JSON.stringify({ ackedThrough: this.ackedThrough, dropped: this.dropped }));
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, file);
  }

  private async deleteAcknowledgedSegments(): Promise<void> {
    while (this.segments.length > 1 && this.segments[0]!.lastId <= this.ackedThrough) {
      await rm(this.segments.shift()!.file, { force: true });
    }
  }

  depth(): number {
    return this.entries.length;
  }

  droppedCount(): number {
    return this.dropped;
  }

  /** Bytes of reports waiting. */
  bytes(): number {
    return this.liveBytes;
  }

  close(): Promise<void> {
    return this.serial(async () => {
      if (this.closed) return;
      if (this.stateDirty) await this.persistState();
      this.closed = true;
      await this.handle?.close();
      this.handle = null;
    });
  }
}

async function readState(directory: string): Promise<z.infer<typeof StateSchema>> {
  try {
    return StateSchema.parse(JSON.parse(await readFile(path.join(directory, 'state.json'), 'utf8')));
  } catch {
    return { ackedThrough: 0, dropped: 0 };
  }
}

/** Parses records up to the first damaged one; `validBytes` is where the damage starts. */
function parseSegment(text: string): { records: { id: number; report: AgentReport; bytes: number }[]; validBytes: number; totalBytes: number } {
  const records: { id: number; report: AgentReport; bytes: number }[] = [];
  let offset = 0;
  while (offset < text.length) {
    const end = text.indexOf('\n', offset);
    if (end < 0) break;
    const line = text.slice(offset, end);
    const json = line.slice(checksumHexLength + 1);
    if (line.slice(0, checksumHexLength) !== checksum(json)) break;
    let record: z.infer<typeof RecordSchema>;
    try {
      record = RecordSchema.parse(JSON.parse(json));
    } catch {
      break;
    }
    if (records.length > 0 && record.id <= records.at(-1)!.id) break;
    const bytes = Buffer.byteLength(line) + 1;
    records.push({ id: record.id, report: record.report, bytes });
    offset = end + 1;
  }
  return { records, validBytes: Buffer.byteLength(text.slice(0, offset)), totalBytes: Buffer.byteLength(text) };
}
