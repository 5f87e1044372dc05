/**
 * Proves that replication datagrams round-trip, never exceed the datagram limit however
 * many entries are queued (packing takes as many as fit, in order), that an entry too
 * large for any datagram is reported rather than sent, and that a flipped byte or a
 * wrong key is refused with the claimed sender named for blame.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { VersionedEntry } from '../core/reconcile/resolver';
import { decodeReplication, packReplication, replicationEntriesPerDatagramMax } from './replication-codec';
import { datagramBytesMax } from './transport/udp-transport';

const key = 'test-cluster-key-0123456789';
const head = { clusterId: 'demo', from: 'node-1', incarnation: 1_700_000_000_000, sequence: 42, sentAtMs: 1_700_000_000_123 };
const entry = (index: number, value: string | null = `node-1#${index}`): VersionedEntry => ({
  key: `demo-${index}`,
  value,
  hlc: { wallMs: 1_700_000_000_000 + index, logical: index % 3, nodeId: 'node-1' },
});

test('round trip keeps envelope and entries (tombstones included)', () => {
  const entries = [entry(1), entry(2, null), entry(3, 'ünïcødé "quoted"')];
  const packed = packReplication(key, head, entries);
  assert.equal(packed.taken, 3);
  const decoded = decodeReplication(key, packed.packet!);
  assert.ok(decoded.ok);
  assert.deepEqual(decoded.packet.envelope, head);
  assert.deepEqual(decoded.packet.entries, entries);
});

test('packing fills datagrams up to the limit and never past it', () => {
  let queue = Array.from({ length: 1000 }, (_, index) => entry(index));
  let datagrams = 0;
  while (queue.length > 0) {
    const packed = packReplication(key, { ...head, sequence: datagrams }, queue);
    assert.ok(packed.packet !== null && packed.packet.length <= datagramBytesMax, `datagram ${datagrams} is ${packed.packet?.length} bytes`);
    assert.ok(packed.taken >= 1 && packed.taken <= replicationEntriesPerDatagramMax);
    queue = queue.slice(packed.taken);
    datagrams++;
  }
  // About 50 bytes per entry: roughly 27 entries per datagram.
  assert.ok(datagrams >= 30 && datagrams <= 45, `${datagrams} datagrams for 1000 entries`);
});

test('an entry too large for one datagram is reported, not sent', () => {
  const packed = packReplication(key, head, [entry(1, 'x'.repeat(2000)), entry(2)]);
  assert.deepEqual(packed, { packet: null, taken: 1 });
});

test('a flipped byte or another key is refused, naming the claimed sender', () => {
  const packet = packReplication(key, head, [entry(1)]).packet!;
  const flipped = Uint8Array.from(packet);
  const at = flipped.length - 5;
  flipped[at] = flipped[at]! ^ 0x01;
  const tampered = decodeReplication(key, flipped);
  assert.equal(tampered.ok, false);
  const foreign = decodeReplication('some-other-key-0123456789', packet);
  assert.deepEqual(foreign, { ok: false, reason: 'bad-signature', claimedFrom: 'node-1' });
  assert.deepEqual(decodeReplication(key, Uint8Array.of(0x10)), { ok: false, reason: 'malformed' });
});
