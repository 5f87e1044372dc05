/**
 * Proves, over the in-memory transport twin and the agent's fault-injecting layer, that
 * each accepted write reaches every peer's store; that a fault rule cutting the cluster
 * in two cuts replication too, so writes made on each side stay on that side and the
 * replicas measurably diverge; that after healing, data-plane commands alone (fence,
 * paged collect-changes, apply-resolved, report-digest) bring every replica to the same
 * digest with no write lost; that a fenced store refuses writes; and that malformed,
 * forged, replayed or contradictory replication datagrams are refused and counted as
 * evidence against the link they came from, a contradiction alone naming its signer,
 * and a forged one from an unrelated address leaves the named peer's window alone;
 * and that values too large for one datagram, up to `valueBytesMax`, replicate in
 * fragments (a cut loses them like any write), while a larger one is refused with a
 * reason instead of being stored unreplicated.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { compareHlc } from '../core/hlc';
import { valueBytesMax } from '../core/reconcile/data-plane-commands';
import { divergenceRatio } from '../core/reconcile/divergence';
import { packReplication, replicationPacketType } from './replication-codec';
import { type TestNode, healCluster, reconcileThroughCommands, splitCluster, startDataPlaneCluster, testClusterKey, waitFor } from './testing/data-plane-cluster';
import { MemoryNetwork, MemoryTransport } from './transport/transport';

const started: TestNode[][] = [];
after(async () => {
  for (const nodes of started) for (const node of nodes) await node.dataPlane.close();
});

async function memoryCluster(count: number, collectLimits?: { entriesMax: number; bytesMax: number }): Promise<TestNode[]> {
  const network = new MemoryNetwork();
  const raw = Array.from({ length: count }, (_, index) => new MemoryTransport(network, { host: 'memory', port: index + 1 }));
  const nodes = await startDataPlaneCluster(raw, { collectLimits });
  started.push(nodes);
  return nodes;
}

const snapshots = (nodes: readonly TestNode[]) => nodes.map((node) => node.dataPlane.store.snapshot());
const keyCounts = (nodes: readonly TestNode[]) => nodes.map((node) => node.dataPlane.store.stats().keys);

test('writes replicate to every peer, and a cut stops them until reconciliation converges the stores', async () => {
  const nodes = await memoryCluster(3, { entriesMax: 7, bytesMax: 64 * 1024 });
  const [one, two, three] = nodes as [TestNode, TestNode, TestNode];
  for (let index = 0; index < 30; index++) nodes[index % 3]!.dataPlane.store.put(`k${index}`, `v${index}`);
  await waitFor(() => keyCounts(nodes).every((count) => count === 30), 3000, 'replication of 30 writes');
  assert.equal(divergenceRatio(snapshots(nodes)), 0);

  const splitAtMs = Date.now();
  splitCluster(nodes, ['node-1', 'node-2']);
  for (let index = 0; index < 40; index++) {
    one.dataPlane.store.put(`side-a-${index}`, 'a');
    three.dataPlane.store.put(`side-b-${index}`, 'b');
    // The same key on both sides: a conflict the resolver must decide.
    one.dataPlane.store.put(`both-${index % 10}`, `a${index}`);
    three.dataPlane.store.put(`both-${index % 10}`, `b${index}`);
  }
  await waitFor(() => two.dataPlane.store.stats().keys === 30 + 40 + 10, 3000, 'replication inside side A');
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(two.dataPlane.store.get('side-b-0'), undefined, 'a write on side B must not cross the cut');
  assert.equal(three.dataPlane.store.get('side-a-0'), undefined, 'a write on side A must not cross the cut');
  const divergence = divergenceRatio(snapshots(nodes));
  // 90 of the 120 keys differ (40 + 40 one-sided, 10 conflicting): 0.75.
  assert.equal(divergence, 90 / 120);
  assert.ok(one.transport.droppedCount > 0 && three.transport.droppedCount > 0, 'the fault layer dropped replication datagrams');
  process.stdout.write(`# divergence while split: ${divergence} (keys per node ${keyCounts(nodes).join(', ')})\n`);

  healCluster(nodes);
  const before = snapshots(nodes);
  const result = await reconcileThroughCommands(nodes, splitAtMs, 25);
  assert.ok(result.collectCalls > nodes.length, 'collect-changes paged (7 entries per page)');
  assert.equal(result.keysCompared, 90);
  assert.equal(result.conflicts, 10);
  assert.equal(new Set(result.roots.values()).size, 1, `digests agree: ${[...result.roots.values()].join(' ')}`);
  assert.equal(divergenceRatio(snapshots(nodes)), 0);
  // No write lost: every key's surviving version is the latest any replica held.
  for (const [key, version] of one.dataPlane.store.snapshot()) {
    for (const replica of before) {
      const held = replica.get(key);
      if (held) assert.ok(compareHlc(version.hlc, held.hlc) >= 0, `${key} kept an older version`);
    }
  }
  process.stdout.write(`# reconciled through commands: ${result.collectCalls} collect calls, ${result.keysCompared} keys, ${result.conflicts} conflicts\n`);
});

test('a fence command makes the store refuse writes, counted in the status; unfence lifts it', async () => {
  const nodes = await memoryCluster(2);
  const node = nodes[0]!;
  const fenced = await node.dataPlane.execute({ type: 'fence', partitionId: 'p-1', mode: 'read-only' });
  assert.deepEqual(fenced, { ok: true, data: null });
  assert.equal(node.dataPlane.store.put('k', 'v').ok, false);
  assert.deepEqual(node.dataPlane.status().fence, { partitionId: 'p-1', mode: 'read-only' });
  assert.equal(node.dataPlane.status().writesRefused, 1);
  await node.dataPlane.execute({ type: 'unfence', partitionId: 'p-1' });
  assert.equal(node.dataPlane.store.put('k', 'v').ok, true);
  assert.deepEqual({ ...node.dataPlane.status(), digestRoot: 'x' }, { keyCount: 1, writesAccepted: 1, writesRefused: 1, fence: null, digestRoot: 'x', store: { kind: 'reference', role: 'primary', endpoint: 'in-agent', lagBytes: null, error: null } });
  const invalid = await node.dataPlane.execute({ type: 'collect-changes', runId: 'r', since: 'not-an-hlc' });
  assert.equal(invalid.ok, false);
  assert.equal(!invalid.ok && invalid.code, 'invalid_input');
});

test('bad replication datagrams are refused and counted against their link; only a contradiction names its signer', async () => {
  const nodes = await memoryCluster(3);
  const [one, two] = nodes as [TestNode, TestNode];
  const head = { clusterId: 'test', from: 'node-2', incarnation: 1, sequence: 1, sentAtMs: Date.now() };
  const entry = { key: 'x', value: 'forged', hlc: { wallMs: Date.now(), logical: 0, nodeId: 'node-2' } };
  const good = packReplication(testClusterKey, head, [entry]).packet!;
  const wrongKey = packReplication('another-key-0123456789', { ...head, sequence: 2 }, [entry]).packet!;
  const claimsThree = packReplication(testClusterKey, { ...head, from: 'node-3', sequence: 3 }, [entry]).packet!;
  const sameNumberOtherBytes = packReplication(testClusterKey, head, [{ ...entry, value: 'other' }]).packet!;
  const garbage = Uint8Array.of(replicationPacketType, 1, 2, 3);
  const fromTwo = two.transport.local;
  const stranger = { host: '127.0.0.1', port: 40_000 };
  const forgedHigh = packReplication('another-key-0123456789', { ...head, sequence: 1_000_000 }, [{ ...entry, value: 'evil' }]).packet!;
  one.dataPlane.receive(forgedHigh, stranger, Date.now());
  for (const packet of [good, good, wrongKey, claimsThree, sameNumberOtherBytes, garbage]) one.dataPlane.receive(packet, fromTwo, Date.now());
  const source = `${fromTwo.host}:${fromTwo.port}`;
  const kinds = one.dataPlane.takeEvidence().map((item) => `${item.kind}:${item.peerId ?? '-'}:${item.linkPeerId ?? '-'}:${item.source ?? '-'}:${item.count}`).sort();
  assert.deepEqual(kinds, [
    'bad-signature:node-2:-:127.0.0.1:40000:1',
    `bad-signature:node-2:node-2:${source}:1`,
    'contradiction:node-2:-:-:1',
    `forged-sender:node-3:node-2:${source}:1`,
    `malformed:-:node-2:${source}:1`,
  ]);
  assert.equal(one.dataPlane.store.get('x')?.value, 'forged', 'the one valid datagram was applied (and its duplicate ignored)');
  assert.equal(one.dataPlane.replicator.stats().datagramsRefused, 5);
});

test('large values replicate in fragments up to valueBytesMax; a larger one is refused with its reason', async () => {
  const nodes = await memoryCluster(3);
  const [one, , three] = nodes as [TestNode, TestNode, TestNode];
  const maximal = '€'.repeat(Math.floor(valueBytesMax / 3)) + 'x'.repeat(valueBytesMax % 3);
  const values = new Map([['two-kb', 'a'.repeat(2048)], ['forty-kb', 'é'.repeat(20_000)], ['maximal', maximal]]);
  for (const [key, value] of values) assert.ok(one.dataPlane.store.put(key, value).ok);
  one.dataPlane.store.put('small', 's');
  await waitFor(() => nodes.every((node) => [...values.keys()].every((key) => node.dataPlane.store.get(key)?.value === values.get(key))), 3000, 'large values on every peer');
  assert.equal(divergenceRatio(snapshots(nodes)), 0);
  const sent = one.dataPlane.replicator.stats();
  assert.equal(sent.entriesFragmented, 2 * values.size, 'three large entries to each of two peers');
  assert.equal(sent.oversizeDropped, 0);
  assert.ok(sent.fragmentsSent > 2 * 60, `${sent.fragmentsSent} fragments`);
  assert.deepEqual({ ...three.dataPlane.replicator.reassemblyStats(), completed: 0 }, { completed: 0, expired: 0, evicted: 0, inProgress: 0, reservedBytes: 0 });

  const tooLarge = one.dataPlane.store.put('too-large', `${maximal}x`);
  assert.deepEqual(tooLarge, { ok: false, code: 'too-large', message: `value is ${valueBytesMax + 1} bytes of UTF-8; at most ${valueBytesMax} (valueBytesMax) are stored and replicated` });
  assert.equal(one.dataPlane.store.get('too-large'), undefined, 'a refused write is not stored either');

  splitCluster(nodes, ['node-1', 'node-2']);
  assert.ok(one.dataPlane.store.put('cut-off', 'c'.repeat(5000)).ok);
  await waitFor(() => nodes[1]!.dataPlane.store.get('cut-off') !== undefined, 3000, 'fragments inside the side');
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(three.dataPlane.store.get('cut-off'), undefined, 'fragments do not cross the cut');
  healCluster(nodes);
});
