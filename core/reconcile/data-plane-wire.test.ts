/**
 * Proves that entries, resolved entries and digests survive the trip to wire form and
 * back unchanged, that the wire form passes the data-plane schemas, and that a
 * malformed HLC is refused rather than silently decoded.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { digestOf } from '../digest';
import { ApplyResolvedCommandSchema, DataPlaneReplySchema } from './data-plane-commands';
import { decodeHlcOrThrow, fromWireEntry, fromWireResolvedEntry, toWireDigest, toWireEntry, toWireResolvedEntry } from './data-plane-wire';
import type { ResolvedEntry } from './plan-reconciliation';
import type { VersionedEntry } from './resolver';

const entries: VersionedEntry[] = [
  { key: 'a', value: 'one', hlc: { wallMs: 1_700_000_000_000, logical: 0, nodeId: 'node-1' } },
  { key: 'b', value: null, hlc: { wallMs: 1_700_000_000_001, logical: 7, nodeId: 'node-2' } },
];

test('entries round-trip and match the reply schema', () => {
  const wire = entries.map(toWireEntry);
  assert.deepEqual(wire.map(fromWireEntry), entries);
  const reply = DataPlaneReplySchema.safeParse({ type: 'changes', runId: 'r', nodeId: 'node-1', entries: wire, last: true });
  assert.ok(reply.success);
});

test('resolved entries round-trip and match the apply command schema', () => {
  const resolved: ResolvedEntry[] = entries.map((entry) => ({ ...entry, supersedes: { ...entry.hlc, logical: entry.hlc.logical + 1 } }));
  const wire = resolved.map(toWireResolvedEntry);
  assert.deepEqual(wire.map(fromWireResolvedEntry), resolved);
  assert.ok(ApplyResolvedCommandSchema.safeParse({ type: 'apply-resolved', runId: 'r', entries: wire, last: true }).success);
});

test('digest wire form matches the reply schema and equals the digest', () => {
  const digest = digestOf(entries, 16);
  const wire = toWireDigest(digest);
  assert.deepEqual(wire, digest);
  assert.ok(DataPlaneReplySchema.safeParse({ type: 'digest', runId: 'r', nodeId: 'node-1', digest: wire }).success);
});

test('a malformed HLC is refused', () => {
  assert.throws(() => decodeHlcOrThrow('yesterday'), RangeError);
});
