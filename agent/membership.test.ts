/**
 * Proves the agent's membership over the in-memory transport with the fault-injecting
 * layer, on a virtual clock, running core's peer monitor:
 * - peers that hear each other stay reachable under every detector mode;
 * - with phi+indirect, a cut link is concluded `link-cut` (others still reach the peer),
 *   a crashed peer `peer-down`, and the isolated side's own probes go unanswered
 *   (`inconclusive`) and lower its health; probe requests and answers travel as signed
 *   datagrams through the same faulty transport; healing restores reachability;
 * - a one-way cut is seen only by the receiving side;
 * - the fixed rule still honours the configured interval and missed-heartbeat count;
 * - a peer never heard is left alone during the join grace;
 * - tampered, malformed, stale (replayed) and re-sent datagrams are counted against the
 *   address and link they came from, never against the node they name, and leave that
 *   node's replay window and liveness alone; only a contradiction (two signed datagrams
 *   under one number) names its signer; an exact duplicate within the sequence window
 *   is dropped silently;
 * - the codec tags each packet type, round-trips it, and signs the tag with the body.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type DetectorMode, buildProfile } from '../core/detectors/detector-profiles';
import { checksPerInterval } from '../core/detectors/peer-monitor';
import { createPrng } from '../sim/prng';
import { agentDetectorProfile, profileForInterval, resolveDetectorChoice } from './detector-settings';
import { decodeHeartbeat, decodePacket, encodeHeartbeat, encodePacket, isMembershipPacket, packetTypes } from './heartbeat-codec';
import { replayWindowSize } from '../core/replay-window';
import { Membership } from './membership';
import { FaultInjectingTransport } from './transport/fault-injecting-transport';
import { MemoryNetwork, MemoryTransport } from './transport/transport';

const key = 'k'.repeat(32);
const intervalMs = 100;
const checkMs = intervalMs / checksPerInterval;

function cluster(ids: string[], mode: DetectorMode = 'phi+indirect', options: { joinGraceMs?: number; missedHeartbeats?: number } = {}) {
  const network = new MemoryNetwork();
  const endpoints = new Map(ids.map((id, index) => [id, { host: '127.0.0.1', port: 9000 + index }]));
  const members = new Map<string, { membership: Membership; transport: FaultInjectingTransport }>();
  const profile =
    mode === 'fixed'
      ? agentDetectorProfile({ profile: 'local', detector: 'fixed', heartbeatIntervalMs: intervalMs, missedHeartbeats: options.missedHeartbeats ?? 3 })
      : buildProfile('local', mode, { heartbeatIntervalMs: intervalMs });
  ids.forEach((id, index) => {
    const transport = new FaultInjectingTransport(new MemoryTransport(network, endpoints.get(id)!), (peer) => endpoints.get(peer));
    const membership = new Membership({
      clusterId: 'c',
      selfId: id,
      incarnation: 1,
      clusterKey: key,
      peers: ids.filter((peer) => peer !== id).map((peer) => ({ id: peer, endpoint: endpoints.get(peer)! })),
      transport,
      profile,
      startedAtMs: 0,
      joinGraceMs: options.joinGraceMs ?? 0,
      random: createPrng(7, index),
    });
    members.set(id, { membership, transport });
  });
  let nowMs = 0;
  const crashed = new Set<string>();
  for (const id of ids) members.get(id)!.transport.onMessage((bytes, from) => {
    if (!crashed.has(id)) members.get(id)!.membership.receive(bytes, from, nowMs);
  });
  /** Advances virtual time by `ms` in check steps, letting deliveries (microtasks) run after each. */
  const run = async (ms: number) => {
    for (let elapsed = 0; elapsed < ms; elapsed += checkMs) {
      nowMs += checkMs;
      for (const [id, member] of members) if (!crashed.has(id)) member.membership.check(nowMs, nowMs);
      await new Promise((resolve) => setImmediate(resolve));
    }
  };
  const view = (observer: string, peer: string) =>
    members.get(observer)!.membership.observations(nowMs).find((observation) => observation.peerId === peer)!;
  const hears = (observer: string, peer: string) => view(observer, peer).reachable;
  const cut = (node: string, rules: Array<{ peerId: string; dropOutbound: boolean; dropInbound: boolean }>) =>
    members.get(node)!.transport.setRules(rules);
  return { members, run, hears, view, cut, crashed, endpoints, now: () => nowMs };
}

describe('membership with the peer monitor', () => {
  for (const mode of ['fixed', 'phi', 'phi+indirect'] as const) {
    it(`keeps every peer reachable while heartbeats flow (${mode})`, async () => {
      const c = cluster(['a', 'b', 'c', 'd'], mode);
      await c.run(20 * intervalMs);
      for (const x of ['a', 'b', 'c', 'd']) for (const y of ['a', 'b', 'c', 'd']) if (x !== y) assert.equal(c.hears(x, y), true, `${x} hears ${y}`);
    });
  }

  it('phi+indirect: a cut link is concluded link-cut within a few intervals, and heals', async () => {
    const c = cluster(['a', 'b', 'c', 'd']);
    await c.run(20 * intervalMs);
    c.cut('a', [{ peerId: 'b', dropOutbound: true, dropInbound: true }]);
    let detectedAfterMs = 0;
    while (c.hears('a', 'b') && detectedAfterMs < 20 * intervalMs) {
      await c.run(checkMs);
      detectedAfterMs += checkMs;
    }
    assert.equal(c.hears('a', 'b'), false);
    assert.ok(detectedAfterMs <= 3 * intervalMs, `detected after ${detectedAfterMs} ms`);
    await c.run(4 * intervalMs);
    assert.equal(c.view('a', 'b').probe, 'link-cut', 'c and d still reach b: the link is cut, b is up');
    assert.equal(c.view('b', 'a').probe, 'link-cut');
    assert.equal(c.hears('a', 'c'), true, 'an uncut link stays up');
    assert.equal(c.hears('c', 'b'), true);
    c.cut('a', []);
    await c.run(3 * intervalMs);
    assert.equal(c.hears('a', 'b'), true);
    assert.equal(c.hears('b', 'a'), true);
  });

  it('phi+indirect: a crashed peer is peer-down; the isolated side is inconclusive and discounts itself', async () => {
    const c = cluster(['a', 'b', 'c', 'd', 'e']);
    await c.run(20 * intervalMs);
    c.crashed.add('e');
    await c.run(6 * intervalMs);
    for (const observer of ['a', 'b', 'c', 'd']) {
      assert.equal(c.hears(observer, 'e'), false);
      assert.equal(c.view(observer, 'e').probe, 'peer-down', `${observer} about e`);
    }
    c.cut('a', ['b', 'c', 'd', 'e'].map((peerId) => ({ peerId, dropOutbound: true, dropInbound: true })));
    await c.run(6 * intervalMs);
    assert.equal(c.hears('b', 'a'), false);
    assert.equal(c.view('b', 'a').probe, 'peer-down', 'nobody b asked reaches a');
    assert.equal(c.view('a', 'b').probe, 'inconclusive', 'nobody answers the isolated node');
    assert.equal(c.members.get('a')!.membership.health(c.now()).discounted, true);
    assert.equal(c.members.get('b')!.membership.health(c.now()).discounted, false);
  });

  it('phi+indirect: a one-way cut is seen only by the receiving side', async () => {
    const c = cluster(['a', 'b', 'c', 'd']);
    await c.run(20 * intervalMs);
    c.cut('a', [{ peerId: 'b', dropOutbound: true, dropInbound: false }]);
    await c.run(6 * intervalMs);
    assert.equal(c.hears('b', 'a'), false, 'b no longer hears a');
    assert.equal(c.view('b', 'a').probe, 'link-cut');
    assert.equal(c.hears('a', 'b'), true, 'a still hears b');
  });

  it('fixed: honours the interval and the missed-heartbeat count', async () => {
    const c = cluster(['a', 'b', 'c'], 'fixed', { missedHeartbeats: 5 });
    await c.run(10 * intervalMs);
    c.cut('a', [{ peerId: 'b', dropOutbound: true, dropInbound: true }]);
    await c.run(4 * intervalMs);
    assert.equal(c.hears('a', 'b'), true, 'four silent intervals are fewer than five');
    await c.run(2 * intervalMs);
    assert.equal(c.hears('a', 'b'), false);
    assert.equal(c.view('a', 'b').probe, undefined, 'the fixed rule does not probe');
  });

  it('leaves a peer never heard alone during the join grace', async () => {
    const c = cluster(['a', 'b', 'c', 'd'], 'phi+indirect', { joinGraceMs: 10 * intervalMs });
    c.crashed.add('d');
    await c.run(8 * intervalMs);
    assert.equal(c.hears('a', 'd'), true);
    await c.run(6 * intervalMs);
    assert.equal(c.hears('a', 'd'), false);
  });

  /** Evidence as `kind:named:link:source:count`, sorted. */
  const described = (items: ReturnType<Membership['takeEvidence']>) =>
    items.map((item) => `${item.kind}:${item.peerId ?? '-'}:${item.linkPeerId ?? '-'}:${item.source ?? '-'}:${item.count}`).sort();

  it('counts tampered, malformed, stale and re-sent datagrams against their link; only a contradiction names its signer; exact duplicates are harmless', () => {
    const c = cluster(['a', 'b', 'c']);
    const a = c.members.get('a')!.membership;
    const fromB = c.endpoints.get('b')!;
    const head = (sequence: number) => ({ clusterId: 'c', from: 'b', incarnation: 1, sequence, sentAtMs: 0 });
    const genuine = encodeHeartbeat(key, head(5));
    a.receive(genuine, fromB, 10);
    a.receive(genuine, fromB, 11);
    assert.deepEqual(a.takeEvidence(), [], 'an exact duplicate within the window is not evidence');
    const tampered = Uint8Array.from(genuine);
    tampered[tampered.length - 2] = (tampered[tampered.length - 2] ?? 0) ^ 0xff;
    a.receive(tampered, fromB, 12);
    a.receive(encodePacket(key, head(5), { type: 'ping', probeId: 1, relayFor: null }), fromB, 13);
    a.receive(encodeHeartbeat(key, head(5 + replayWindowSize + 1)), fromB, 14);
    a.receive(genuine, fromB, 15);
    a.receive(encodeHeartbeat(key, head(4)), fromB, 15);
    a.receive(encodeHeartbeat(key, { ...head(9), from: 'c' }), fromB, 16);
    a.receive(new Uint8Array([1, 2, 3]), fromB, 17);
    assert.deepEqual(described(a.takeEvidence()), [
      'bad-signature:-:b:127.0.0.1:9001:1',
      'contradiction:b:-:-:1',
      'forged-sender:c:b:127.0.0.1:9001:1',
      'malformed:-:b:127.0.0.1:9001:1',
      'replay:b:b:127.0.0.1:9001:2',
    ]);
    assert.deepEqual(a.takeEvidence(), [], 'evidence is handed over once');
  });

  it('a datagram from an address no peer uses is counted against that address, never against the node it names', () => {
    const c = cluster(['a', 'b', 'c']);
    const a = c.members.get('a')!.membership;
    const stranger = { host: '127.0.0.1', port: 40_000 };
    const head = (sequence: number) => ({ clusterId: 'c', from: 'b', incarnation: 1, sequence, sentAtMs: 0 });
    a.receive(encodeHeartbeat(key, head(100)), c.endpoints.get('b')!, 1);
    for (let index = 0; index < 6; index += 1) a.receive(encodeHeartbeat('x'.repeat(32), head(200 + index)), stranger, 2);
    for (let index = 0; index < 6; index += 1) a.receive(encodeHeartbeat(key, head(10 + index)), stranger, 3);
    a.receive(encodeHeartbeat(key, { ...head(1), from: 'nobody' }), stranger, 4);
    assert.deepEqual(described(a.takeEvidence()), ['bad-signature:b:-:127.0.0.1:40000:6', 'forged-sender:-:-:127.0.0.1:40000:1', 'replay:b:-:127.0.0.1:40000:6']);
    a.receive(encodeHeartbeat(key, head(101)), c.endpoints.get('b')!, 5);
    assert.deepEqual(a.takeEvidence(), [], "b's next genuine heartbeat is admitted: the bad ones left its window alone");
    assert.equal(c.view('a', 'b').lastHeardAtMs, 5, 'only genuine heartbeats count as hearing b');
  });

  it('a newer incarnation resets the window; an older one is a replay', () => {
    const c = cluster(['a', 'b']);
    const a = c.members.get('a')!.membership;
    const fromB = c.endpoints.get('b')!;
    a.receive(encodeHeartbeat(key, { clusterId: 'c', from: 'b', incarnation: 2, sequence: 100, sentAtMs: 0 }), fromB, 1);
    a.receive(encodeHeartbeat(key, { clusterId: 'c', from: 'b', incarnation: 3, sequence: 1, sentAtMs: 0 }), fromB, 2);
    a.receive(encodeHeartbeat(key, { clusterId: 'c', from: 'b', incarnation: 2, sequence: 101, sentAtMs: 0 }), fromB, 3);
    assert.deepEqual(described(a.takeEvidence()), ['replay:b:b:127.0.0.1:9001:1']);
  });
});

describe('detector settings', () => {
  it('picks the profile from the interval unless named, and the interval from the profile unless given', () => {
    assert.equal(profileForInterval(100), 'local');
    assert.equal(profileForInterval(500), 'lan');
    assert.equal(profileForInterval(5000), 'wan');
    assert.deepEqual(resolveDetectorChoice({}), { profile: 'wan', heartbeatIntervalMs: 5000 });
    assert.deepEqual(resolveDetectorChoice({ profile: 'lan' }), { profile: 'lan', heartbeatIntervalMs: 500 });
    assert.deepEqual(resolveDetectorChoice({ profile: 'demo', heartbeatIntervalMs: 100 }), { profile: 'demo', heartbeatIntervalMs: 100 });
    const fixed = agentDetectorProfile({ profile: 'wan', detector: 'fixed', heartbeatIntervalMs: 2000, missedHeartbeats: 4 });
    assert.deepEqual(fixed.fixed, { heartbeatIntervalMs: 2000, missedHeartbeatsMax: 4 });
  });
});

describe('membership codec', () => {
  const head = { clusterId: 'c', from: 'a', incarnation: 3, sequence: 9, sentAtMs: 1234 };

  it('round-trips every packet type behind its tag and refuses another key', () => {
    const messages = [
      { type: 'heartbeat' },
      { type: 'ping', probeId: 4, relayFor: null },
      { type: 'ping', probeId: 4, relayFor: 'b' },
      { type: 'ack', probeId: 4, relayFor: 'b' },
      { type: 'ping-request', probeId: 5, target: 'c' },
      { type: 'probe-answer', target: 'c', outcome: 'nack' },
    ] as const;
    const tags = [packetTypes.heartbeat, packetTypes.ping, packetTypes.ping, packetTypes.ack, packetTypes.pingRequest, packetTypes.probeAnswer];
    messages.forEach((message, index) => {
      const packet = encodePacket(key, head, message);
      assert.equal(packet[0], tags[index]);
      assert.equal(isMembershipPacket(packet), true);
      const decoded = decodePacket(key, packet);
      assert.ok(decoded.ok);
      assert.deepEqual(decoded.packet.envelope, head);
      assert.deepEqual(decoded.packet.message, message);
    });
    const heartbeat = encodeHeartbeat(key, head);
    assert.deepEqual(decodeHeartbeat(key, heartbeat), { ok: true, heartbeat: head });
    const other = decodeHeartbeat('x'.repeat(32), heartbeat);
    assert.equal(!other.ok && other.reason, 'bad-signature');
    assert.equal(isMembershipPacket(Uint8Array.of(0x10, 1, 2)), false, 'tags from 0x10 belong to other subsystems');
  });

  it('signs the tag: relabelling a packet breaks its signature', () => {
    const ping = encodePacket(key, head, { type: 'ping', probeId: 1, relayFor: null });
    const relabelled = Uint8Array.from(ping);
    relabelled[0] = packetTypes.ack;
    const decoded = decodePacket(key, relabelled);
    assert.equal(!decoded.ok && decoded.reason, 'bad-signature');
    assert.equal(!decoded.ok && decoded.claimedFrom, 'a');
  });
});
