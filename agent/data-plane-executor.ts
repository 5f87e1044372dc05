/**
 * Carries out the control server's data-plane commands (fence, unfence, collect
 * changes, apply resolved values, report a digest) against any `DataPlaneAdapter`,
 * and shapes the replies the server's reconciliation driver reads. An adapter in the
 * house style: parse with zod, call the data plane, map the result to a `Reply`.
 */
import { compareHlc } from '../core/hlc';
import { type NodeId, type Reply, describeZodError } from '../core/protocol';
import { type DataPlaneCommand, type DataPlaneReply, DataPlaneCommandSchema, syncBatchEntriesMax } from '../core/reconcile/data-plane-commands';
import { type WireEntry, decodeHlcOrThrow, fromWireResolvedEntry, toWireDigest, toWireEntry } from '../core/reconcile/data-plane-wire';
import type { DataPlaneAdapter } from './store/data-plane-adapter';

/**
 * Most bytes of entries (as JSON) in one collect-changes reply. The server accepts
 * Socket.IO messages up to 1 MiB; half of that leaves room for the envelope and keeps
 * one reply from holding the link for long.
 */
export const collectPageBytesMax = 512 * 1024;

/** Page limits of collect-changes replies. */
export interface CollectPageLimits {
  /** Most entries per reply (default `syncBatchEntriesMax`). */
  entriesMax: number;
  /** Most JSON bytes of entries per reply (default `collectPageBytesMax`); one entry is always sent. */
  bytesMax: number;
}

const defaultLimits: CollectPageLimits = { entriesMax: syncBatchEntriesMax, bytesMax: collectPageBytesMax };

/**
 * One page of changes: every version strictly after `since` (or all, when null), oldest
 * first, cut at the page limits. The server asks again with `since` set to the last
 * returned entry's HLC until `last` is true; HLCs are unique per write, so pages never
 * repeat or skip an entry. (The first page's `since` is a floor, `hlcFloor(start)`,
 * which no write carries, so "strictly after" loses nothing there.)
 */
export async function collectPage(adapter: DataPlaneAdapter, since: string | null, limits: CollectPageLimits = defaultLimits): Promise<{ entries: WireEntry[]; last: boolean }> {
  const sinceHlc = since === null ? null : decodeHlcOrThrow(since);
  const changed = await adapter.changedSince(sinceHlc);
  const after = sinceHlc === null ? changed : changed.filter((entry) => compareHlc(entry.hlc, sinceHlc) > 0);
  after.sort((a, b) => compareHlc(a.hlc, b.hlc));
  const entries: WireEntry[] = [];
  let bytes = 0;
  for (const entry of after) {
    if (entries.length >= limits.entriesMax) break;
    const wire = toWireEntry(entry);
    const entryBytes = Buffer.byteLength(JSON.stringify(wire)) + 1;
    if (entries.length > 0 && bytes + entryBytes > limits.bytesMax) break;
    bytes += entryBytes;
    entries.push(wire);
  }
  return { entries, last: entries.length === after.length };
}

async function run(adapter: DataPlaneAdapter, nodeId: NodeId, command: DataPlaneCommand, limits: CollectPageLimits): Promise<DataPlaneReply | null> {
  switch (command.type) {
    case 'fence':
      await adapter.setFence(command.partitionId, command.mode);
      return null;
    case 'unfence':
      await adapter.setFence(command.partitionId, null);
      return null;
    case 'collect-changes': {
      const page = await collectPage(adapter, command.since, limits);
      return { type: 'changes', runId: command.runId, nodeId, entries: page.entries, last: page.last };
    }
    case 'apply-resolved': {
      const outcome = await adapter.apply(command.entries.map(fromWireResolvedEntry));
      return { type: 'applied', runId: command.runId, nodeId, applied: outcome.applied, skipped: outcome.skipped };
    }
    case 'report-digest':
      return { type: 'digest', runId: command.runId, nodeId, digest: toWireDigest(await adapter.digest(command.bucketCount)) };
  }
}

/**
 * Validates and carries out one data-plane command. Fence and unfence reply with null
 * data; the others with their `DataPlaneReply`. An invalid command is refused naming
 * the field; a failing data plane is an `unavailable` reply, never a thrown error.
 */
export async function executeDataPlaneCommand(
  adapter: DataPlaneAdapter,
  nodeId: NodeId,
  input: unknown,
  limits: CollectPageLimits = defaultLimits,
): Promise<Reply<DataPlaneReply | null>> {
  const parsed = DataPlaneCommandSchema.safeParse(input);
  if (!parsed.success) return { ok: false, code: 'invalid_input', message: describeZodError(parsed.error) };
  try {
    return { ok: true, data: await run(adapter, nodeId, parsed.data, limits) };
  } catch (error) {
    return { ok: false, code: 'unavailable', message: `data plane failed: ${(error as Error).message}`.slice(0, 500) };
  }
}
