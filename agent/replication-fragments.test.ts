/**
 * Proves that an entry too large for one datagram is cut into signed fragments, none
 * past the datagram limit, that reassemble (in any order) into the same entry; that
 * the largest entry the store accepts (a 512-character key of the worst JSON escapes
 * and a value of `valueBytesMax` bytes) fits `fragmentsPerEntryMax`, which itself fits
 * the replay window and one flush; that a flipped byte, another key or a fragment
 * whose sequence is not its group plus its index is refused; and that reassembly is
 * bounded: an incomplete entry expires after `reassemblyTimeoutMs`, a sender past its
 * entries in progress or the byte budget loses its oldest, and a fragment that
 * contradicts its entry drops it. The reserved bytes return to zero each time.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { replayWindowSize } from '../core/replay-window';
import { keyLengthMax, valueBytesMax } from '../core/reconcile/data-plane-commands';
import type { VersionedEntry } from '../core/reconcile/resolver';
import { replicationDatagramsPerFlushMax } from './replication';
import { signPacket } from './replication-codec';
import { type DecodedFragment, decodeEntryBlob, decodeReplicationFragment, fragmentsPerEntryMax, packFragments } from './replication-fragments';
import { FragmentReassembly, reassemblyTimeoutMs } from './replication-reassembly';
import { datagramBytesMax } from './transport/udp-transport';

const key = 'test-cluster-key-0123456789';
const head = { clusterId: 'demo', from: 'node-1', incarnation: 1_700_000_000_000, sequence: 1000, sentAtMs: 1_700_000_000_123 };
const large = (value: string | null, entryKey = 'big'): VersionedEntry => ({ key: entryKey, value, hlc: { wallMs: 1_700_000_000_000, logical: 7, nodeId: 'node-1' } });

function decodeAll(packets: readonly Uint8Array[]): DecodedFragment[] {
  return packets.map((packet) => {
    const decoded = decodeReplicationFragment(key, packet);
    assert.ok(decoded.ok, 'every fragment verifies');
    return decoded.fragment;
  });
}

function reassemble(fragments: readonly DecodedFragment[], reassembly = new FragmentReassembly(), nowMs = 0) {
  let result = null;
  for (const fragment of fragments) {
    const outcome = reassembly.add('node-1', fragment, nowMs);
    if (outcome.kind === 'complete') result = decodeEntryBlob(outcome.blob, 'node-1');
  }
  return result;
}

test('a large entry goes in fragments under the datagram limit and comes back whole, in any order', () => {
  const entry = large('é'.repeat(10_000) + '"\\\u0001 ünïcødé');
  const packets = packFragments(key, head, entry)!;
  assert.ok(packets.length >= 2 && packets.every((packet) => packet.length <= datagramBytesMax), `${packets.length} fragments`);
  const fragments = decodeAll(packets);
  assert.deepEqual(fragments.map((fragment) => fragment.envelope.sequence), fragments.map((_, index) => head.sequence + index));
  const reassembly = new FragmentReassembly();
  assert.deepEqual(reassemble([...fragments].reverse(), reassembly), entry);
  assert.deepEqual(reassembly.stats(), { completed: 1, expired: 0, evicted: 0, inProgress: 0, reservedBytes: 0 });
});

test('the largest accepted entry fits the fragment limit, which fits the replay window and one flush', () => {
  assert.ok(fragmentsPerEntryMax <= replayWindowSize && fragmentsPerEntryMax <= replicationDatagramsPerFlushMax);
  const worstKey = '\u0001'.repeat(keyLengthMax);
  const value = '€'.repeat(Math.floor(valueBytesMax / 3)) + 'x'.repeat(valueBytesMax % 3);
  assert.equal(Buffer.byteLength(value), valueBytesMax);
  const packets = packFragments(key, { ...head, clusterId: 'c'.repeat(64), from: 'n'.repeat(64), sequence: Number.MAX_SAFE_INTEGER - 100 }, large(value, worstKey));
  assert.ok(packets !== null && packets.length <= fragmentsPerEntryMax, `${packets?.length} fragments`);
  assert.ok(packets.every((packet) => packet.length <= datagramBytesMax));
  process.stdout.write(`# a maximal entry (${valueBytesMax} value bytes, worst key) takes ${packets.length} fragments\n`);
});

test('a flipped byte, another key or a sequence that is not group + index is refused', () => {
  const packets = packFragments(key, head, large('x'.repeat(5000)))!;
  const flipped = Uint8Array.from(packets[1]!);
  flipped[flipped.length - 3] = flipped[flipped.length - 3]! ^ 0x01;
  assert.deepEqual(decodeReplicationFragment(key, flipped), { ok: false, reason: 'bad-signature', claimedFrom: 'node-1' });
  assert.deepEqual(decodeReplicationFragment('another-key-0123456789', packets[0]!), { ok: false, reason: 'bad-signature', claimedFrom: 'node-1' });
  assert.deepEqual(decodeReplicationFragment(key, Uint8Array.of(0x11, 1, 2)), { ok: false, reason: 'malformed' });
  // Validly signed, but fragment 0 of group 1000 claims sequence 1001 (same length, so only that differs).
  const text = Buffer.from(packets[0]!).toString('latin1');
  assert.ok(text.includes('"s":1000,'));
  const rest = Buffer.from(text.replace('"s":1000,', '"s":1001,'), 'latin1').subarray(33);
  const resigned = Buffer.concat([Buffer.of(0x11), signPacket(key, 0x11, rest), rest]);
  assert.deepEqual(decodeReplicationFragment(key, resigned), { ok: false, reason: 'malformed', claimedFrom: 'node-1' });
});

test('an incomplete entry expires after the timeout and frees its bytes', () => {
  const fragments = decodeAll(packFragments(key, head, large('y'.repeat(4000)))!);
  const reassembly = new FragmentReassembly();
  assert.equal(reassemble(fragments.slice(1), reassembly, 0), null);
  assert.ok(reassembly.stats().reservedBytes > 4000);
  // The missing fragment arrives too late: the entry is gone, and the fragment starts a new one that never completes.
  assert.equal(reassembly.add('node-1', fragments[0]!, reassemblyTimeoutMs).kind, 'pending');
  assert.equal(reassembly.stats().expired, 1);
  reassembly.sweep(2 * reassemblyTimeoutMs);
  assert.deepEqual(reassembly.stats(), { completed: 0, expired: 2, evicted: 0, inProgress: 0, reservedBytes: 0 });
});

test('a sender past its entries in progress, or the byte budget, loses its oldest entry', () => {
  const entries = Array.from({ length: 6 }, (_, index) => decodeAll(packFragments(key, { ...head, sequence: 1000 + index * 100 }, large('z'.repeat(3000), `k${index}`))!));
  const perSender = new FragmentReassembly(1024 * 1024, 4);
  for (const fragments of entries) perSender.add('node-1', fragments[0]!, 0);
  assert.deepEqual({ ...perSender.stats(), reservedBytes: 0 }, { completed: 0, expired: 0, evicted: 2, inProgress: 4, reservedBytes: 0 });
  assert.equal(reassemble(entries[0]!.slice(1), perSender), null, 'the evicted entry cannot complete');
  assert.equal(reassemble(entries[5]!.slice(1), perSender)?.key, 'k5', 'a recent entry still completes');
  const byBytes = new FragmentReassembly(7000, 16);
  byBytes.add('node-1', entries[0]![0]!, 0);
  byBytes.add('node-2', entries[1]![0]!, 0);
  byBytes.add('node-3', entries[2]![0]!, 0);
  assert.equal(byBytes.stats().evicted, 1);
  assert.ok(byBytes.stats().reservedBytes <= 7000);
});

test('a fragment that contradicts its entry drops it', () => {
  const fragments = decodeAll(packFragments(key, head, large('w'.repeat(4000)))!);
  const reassembly = new FragmentReassembly();
  reassembly.add('node-1', fragments[0]!, 0);
  assert.equal(reassembly.add('node-1', { ...fragments[1]!, totalBytes: fragments[1]!.totalBytes + 1 }, 0).kind, 'inconsistent');
  assert.deepEqual(reassembly.stats(), { completed: 0, expired: 0, evicted: 0, inProgress: 0, reservedBytes: 0 });
});
