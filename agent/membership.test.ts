/**
 * Proves the agent's detector loop over the in-memory transport: peers that hear
 * each other stay reachable; a fault rule cuts a peer within the fixed rule's
 * deadline and healing restores it; tampered, replayed and forged heartbeats are
 * not taken as heartbeats but recorded as evidence against the right peer.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createMissedHeartbeatDetector } from '../core/detectors/missed-heartbeat-detector';
import { decodeHeartbeat, encodeHeartbeat } from './heartbeat-codec';
import { Membership } from './membership';
import { FaultInjectingTransport } from './transport/fault-injecting-transport';
import { MemoryNetwork, MemoryTransport } from './transport/transport';

const key = 'k'.repeat(32);
const intervalMs = 100;

function cluster(ids: string[]) {
  const network = new MemoryNetwork();
  const endpoints = new Map(ids.map((id, index) => [id, { host: '127.0.0.1', port: 9000 + index }]));
  const members = new Map<string, { membership: Membership; transport: FaultInjectingTransport }>();
  for (const id of ids) {
    const transport = new FaultInjectingTransport(new MemoryTransport(network, endpoints.get(id)!), (peer) => endpoints.get(peer));
    const membership = new Membership({
      clusterId: 'c',
      selfId: id,
      incarnation: 1,
      clusterKey: key,
      peers: ids.filter((peer) => peer !== id).map((peer) => ({ id: peer, endpoint: endpoints.get(peer)! })),
      transport,
      startedAtMs: 0,
      joinGraceMs: 0,
      detectorFactory: (atMs) => createMissedHeartbeatDetector({ heartbeatIntervalMs: intervalMs, missedHeartbeatsMax: 3 }, atMs),
    });
    members.set(id, { membership, transport });
  }
  let nowMs = 0;
  for (const id of ids) members.get(id)!.transport.onMessage((bytes, from) => members.get(id)!.membership.receive(bytes, from, nowMs));
  /** Advances virtual time by whole intervals, letting deliveries (microtasks) run. */
  const run = async (intervals: number) => {
    for (let i = 0; i < intervals; i += 1) {
      nowMs += intervalMs;
      for (const member of members.values()) member.membership.tick(nowMs);
      await new Promise((resolve) => setImmediate(resolve));
    }
  };
  const hears = (observer: string, peer: string) =>
    members.get(observer)!.membership.observations(nowMs).find((observation) => observation.peerId === peer)!.reachable;
  return { members, run, hears, endpoints, now: () => nowMs };
}

describe('membership', () => {
  it('keeps every peer reachable while heartbeats flow', async () => {
    const c = cluster(['a', 'b', 'c']);
    await c.run(10);
    for (const [x, y] of [['a', 'b'], ['b', 'c'], ['c', 'a']] as const) assert.equal(c.hears(x, y), true);
  });

  it('detects a cut link within the fixed rule and recovers on heal', async () => {
    const c = cluster(['a', 'b', 'c']);
    await c.run(3);
    c.members.get('a')!.transport.setRules([{ peerId: 'b', dropOutbound: true, dropInbound: true }]);
    await c.run(5);
    assert.equal(c.hears('a', 'b'), false);
    assert.equal(c.hears('b', 'a'), false);
    assert.equal(c.hears('a', 'c'), true, 'an uncut link stays up');
    c.members.get('a')!.transport.setRules([]);
    await c.run(2);
    assert.equal(c.hears('a', 'b'), true);
    assert.equal(c.hears('b', 'a'), true);
  });

  it('a one-way cut is seen only by the receiving side', async () => {
    const c = cluster(['a', 'b']);
    await c.run(2);
    c.members.get('a')!.transport.setRules([{ peerId: 'b', dropOutbound: true, dropInbound: false }]);
    await c.run(5);
    assert.equal(c.hears('b', 'a'), false, 'b no longer hears a');
    assert.equal(c.hears('a', 'b'), true, 'a still hears b');
  });

  it('records tampered, replayed and forged heartbeats as evidence, not as heartbeats', () => {
    const c = cluster(['a', 'b', 'c']);
    const a = c.members.get('a')!.membership;
    const fromB = c.endpoints.get('b')!;
    const genuine = encodeHeartbeat(key, { clusterId: 'c', from: 'b', incarnation: 1, sequence: 5, sentAtMs: 0 });
    a.receive(genuine, fromB, 10);
    const tampered = Uint8Array.from(genuine);
    tampered[tampered.length - 2] = (tampered[tampered.length - 2] ?? 0) ^ 0xff;
    a.receive(tampered, fromB, 11);
    a.receive(genuine, fromB, 12);
    const claimsC = encodeHeartbeat(key, { clusterId: 'c', from: 'c', incarnation: 1, sequence: 1, sentAtMs: 0 });
    a.receive(claimsC, fromB, 13);
    a.receive(new Uint8Array([1, 2, 3]), fromB, 14);
    const evidence = a.takeEvidence().map((item) => `${item.peerId}:${item.kind}:${item.count}`).sort();
    assert.deepEqual(evidence, ['b:bad-signature:1', 'b:malformed:1', 'b:replay:1', 'c:forged-sender:1']);
    assert.deepEqual(a.takeEvidence(), [], 'evidence is handed over once');
  });
});

describe('heartbeat codec', () => {
  it('round-trips and refuses a packet signed with another key', () => {
    const heartbeat = { clusterId: 'c', from: 'a', incarnation: 3, sequence: 9, sentAtMs: 1234 };
    const packet = encodeHeartbeat(key, heartbeat);
    assert.deepEqual(decodeHeartbeat(key, packet), { ok: true, heartbeat });
    const other = decodeHeartbeat('x'.repeat(32), packet);
    assert.equal(other.ok, false);
    assert.equal(!other.ok && other.reason, 'bad-signature');
  });
});
