/**
 * Proves, with three memberships on real UDP sockets on loopback and a real clock,
 * what an attacker without the cluster key can and cannot do with datagrams sent from
 * a port no peer uses:
 * - six datagrams with a bad signature claiming to come from b, and six of b's own
 *   heartbeats captured off the wire and replayed once b's sequence has moved on,
 *   sent to a and to c, accuse nobody: they are counted against the attacker's
 *   address, no contradiction is recorded, and fed through the classifier with the
 *   observers' reports they change no verdict (b stays unaccused, the cluster whole),
 *   while the untrusted traffic is listed with its source;
 * - they do not disturb b's replay window (b's genuine heartbeats are still heard,
 *   and none of them is taken for a replay), and once b is gone, replaying its
 *   heartbeats does not make it heard.
 * Bounded: a few seconds; every wait has a deadline.
 */
import assert from 'node:assert/strict';
import { type Socket, createSocket } from 'node:dgram';
import { after, test } from 'node:test';
import { type ObservedEvidence, classifyPartition } from '../core/classify-partition';
import { buildProfile } from '../core/detectors/detector-profiles';
import { checksPerInterval } from '../core/detectors/peer-monitor';
import { type Evidence, isAccusingEvidenceKind } from '../core/protocol';
import { createMatrix, setCell } from '../core/reachability';
import { replayWindowSize } from '../core/replay-window';
import { decodePacket, encodePacket, packetTypes } from './heartbeat-codec';
import { Membership } from './membership';
import { type Endpoint, endpointKey } from './transport/transport';
import { UdpTransport } from './transport/udp-transport';

const clusterKey = 'k'.repeat(32);
const heartbeatIntervalMs = 40;
const ids = ['a', 'b', 'c'];
/** Datagrams of each kind the attacker sends to each target, as in the attack report. */
const attackDatagrams = 6;
/** Bound on every wait (ms). */
const waitMs = 15_000;

const closers: Array<() => Promise<void> | void> = [];
after(async () => {
  for (const close of closers.reverse()) await close();
});

async function until<T>(what: string, check: () => T | null | undefined | false): Promise<T> {
  const deadline = Date.now() + waitMs;
  while (Date.now() < deadline) {
    const value = check();
    if (value) return value;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

interface Member {
  membership: Membership;
  transport: UdpTransport;
  timer: NodeJS.Timeout;
  /** Evidence taken from the membership so far. */
  evidence: Evidence[];
}

async function startCluster() {
  const transports = await Promise.all(ids.map(() => UdpTransport.bind({ host: '127.0.0.1', port: 0 })));
  const endpointOf = new Map(ids.map((id, index) => [id, transports[index]!.local]));
  const profile = buildProfile('local', 'phi+indirect', { heartbeatIntervalMs });
  const startedAtMs = Date.now();
  /** b's heartbeats as a received them, bytes untouched: what a listener on the wire captures. */
  const capturedFromB: Array<{ bytes: Uint8Array; sequence: number }> = [];
  const members = new Map<string, Member>();
  ids.forEach((id, index) => {
    const transport = transports[index]!;
    const membership = new Membership({
      clusterId: 'c',
      selfId: id,
      incarnation: startedAtMs,
      clusterKey,
      peers: ids.filter((peer) => peer !== id).map((peer) => ({ id: peer, endpoint: endpointOf.get(peer)! })),
      transport,
      profile,
      startedAtMs,
      joinGraceMs: 0,
    });
    transport.onMessage((bytes, from) => {
      if (id === 'a' && endpointKey(from) === endpointKey(endpointOf.get('b')!) && bytes[0] === packetTypes.heartbeat) {
        const decoded = decodePacket(clusterKey, bytes);
        if (decoded.ok) capturedFromB.push({ bytes: Uint8Array.from(bytes), sequence: decoded.packet.envelope.sequence });
      }
      membership.receive(bytes, from, Date.now());
    });
    const timer = setInterval(() => membership.check(Date.now()), heartbeatIntervalMs / checksPerInterval);
    const member: Member = { membership, transport, timer, evidence: [] };
    members.set(id, member);
    closers.push(async () => {
      clearInterval(timer);
      await transport.close().catch(() => undefined);
    });
  });
  const collect = () => {
    for (const member of members.values()) member.evidence.push(...member.membership.takeEvidence());
  };
  const observedAt = (observer: string, peer: string) =>
    members.get(observer)!.membership.observations(Date.now()).find((observation) => observation.peerId === peer)!;
  return { members, endpointOf, capturedFromB, collect, observedAt, startedAtMs };
}

async function attackerSocket(): Promise<{ socket: Socket; source: string; send: (to: Endpoint, bytes: Uint8Array) => Promise<void> }> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
  closers.push(() => new Promise<void>((resolve) => socket.close(() => resolve())));
  const { port } = socket.address();
  const send = (to: Endpoint, bytes: Uint8Array) =>
    new Promise<void>((resolve, reject) => socket.send(bytes, to.port, to.host, (error) => (error ? reject(error) : resolve())));
  return { socket, source: `127.0.0.1:${port}`, send };
}

test('forged and replayed datagrams from an unrelated port accuse nobody, change no verdict and do not count as hearing', async () => {
  const cluster = await startCluster();
  const { members, endpointOf, capturedFromB } = cluster;
  await until('every member hears every peer', () =>
    ids.every((observer) => ids.every((peer) => peer === observer || cluster.observedAt(observer, peer).lastHeardAtMs !== null)));
  await until(`${attackDatagrams} heartbeats of b captured`, () => capturedFromB.length >= attackDatagrams);
  const captured = capturedFromB.slice(0, attackDatagrams);
  const capturedMax = Math.max(...captured.map((item) => item.sequence));
  // Wait until b's sequence has left the captured ones behind the replay window, as 115 s later would.
  await until("b's sequence past the replay window", () => capturedFromB.some((item) => item.sequence - capturedMax > replayWindowSize));
  cluster.collect();
  for (const member of members.values()) member.evidence.length = 0;

  const attacker = await attackerSocket();
  const forged = (sequence: number) =>
    encodePacket('not-the-cluster-key-0123456789ab', { clusterId: 'c', from: 'b', incarnation: cluster.startedAtMs + 1, sequence, sentAtMs: Date.now() }, { type: 'heartbeat' });
  for (const target of ['a', 'c']) {
    for (let index = 0; index < attackDatagrams; index += 1) await attacker.send(endpointOf.get(target)!, forged(1_000_000 + index));
    for (const item of captured) await attacker.send(endpointOf.get(target)!, item.bytes);
  }
  const counted = (observer: string) => members.get(observer)!.evidence.filter((item) => item.source === attacker.source).reduce((sum, item) => sum + item.count, 0);
  await until('the attack counted at a and c', () => {
    cluster.collect();
    return counted('a') >= 2 * attackDatagrams && counted('c') >= 2 * attackDatagrams;
  });
  const heardBAfterAttack = cluster.observedAt('a', 'b').lastHeardAtMs!;
  await until("b's genuine heartbeats still heard after the attack", () => cluster.observedAt('a', 'b').lastHeardAtMs! > heardBAfterAttack);
  cluster.collect();

  for (const observer of ['a', 'c']) {
    const evidence = members.get(observer)!.evidence;
    assert.deepEqual(evidence.filter((item) => isAccusingEvidenceKind(item.kind)), [], `${observer}: no contradiction`);
    const fromAttacker = evidence.filter((item) => item.source === attacker.source);
    assert.deepEqual(
      fromAttacker.map((item) => `${item.kind}:${item.peerId}:${item.linkPeerId ?? 'no link'}:${item.count}`).sort(),
      [`bad-signature:b:no link:${attackDatagrams}`, `replay:b:no link:${attackDatagrams}`],
      `${observer}: counted against the attacker's address, naming b, on no peer's link`,
    );
    assert.deepEqual(evidence.filter((item) => item.source !== attacker.source), [], `${observer}: b's genuine traffic raised nothing (its window was not disturbed)`);
    for (const peer of ids) if (peer !== observer) assert.equal(cluster.observedAt(observer, peer).reachable, true, `${observer} still hears ${peer}`);
  }

  // The server's view: every member's observations, and the evidence a and c reported.
  const nowMs = Date.now();
  const matrix = createMatrix(ids);
  for (const observer of ids) {
    for (const observation of members.get(observer)!.membership.observations(nowMs)) {
      setCell(matrix, observer, observation.peerId, { reachable: observation.reachable, reportedAtMs: nowMs, sinceMs: observation.sinceMs, suspicion: observation.suspicion });
    }
  }
  const reported: ObservedEvidence[] = ['a', 'c'].flatMap((observer) => members.get(observer)!.evidence.map((item) => ({ ...item, observerId: observer })));
  const quiet = classifyPartition(matrix, { nowMs, staleAfterMs: 5_000 });
  const attacked = classifyPartition(matrix, { nowMs, staleAfterMs: 5_000, evidence: reported });
  assert.equal(attacked.type, quiet.type);
  assert.equal(attacked.partitioned, false);
  assert.deepEqual(attacked.byzantine, { nodes: [], links: [] });
  assert.deepEqual(
    attacked.untrustedTraffic.map((group) => `${group.observerId}:${group.source}:${group.linkPeerId}:${group.namedIds.join(',')}:${group.count}`).sort(),
    [`a:${attacker.source}:null:b:${2 * attackDatagrams}`, `c:${attacker.source}:null:b:${2 * attackDatagrams}`],
  );

  // With b gone, its replayed heartbeats must not pass for b.
  const b = members.get('b')!;
  clearInterval(b.timer);
  await b.transport.close();
  await new Promise((resolve) => setTimeout(resolve, 4 * heartbeatIntervalMs));
  const lastHeard = cluster.observedAt('a', 'b').lastHeardAtMs;
  for (const item of captured) await attacker.send(endpointOf.get('a')!, item.bytes);
  await until('the replays counted at a', () => {
    cluster.collect();
    return members.get('a')!.evidence.filter((item) => item.source === attacker.source && item.kind === 'replay').reduce((sum, item) => sum + item.count, 0) >= 2 * attackDatagrams;
  });
  assert.equal(cluster.observedAt('a', 'b').lastHeardAtMs, lastHeard, 'a replay is not a sign of life');
});

test('observations carry the heartbeats\' loss and one-way delay, measured on real UDP', async () => {
  const cluster = await startCluster();
  // Loss needs two intervals watched; every heartbeat arrives on loopback.
  await until('a reports loss and delay of b', () => {
    const observation = cluster.observedAt('a', 'b');
    return typeof observation.lossRatio === 'number' && typeof observation.transitMs === 'number';
  });
  const observation = cluster.observedAt('a', 'b');
  assert.ok(observation.transitMs! >= 0 && observation.transitMs! < 1000, `delay ${observation.transitMs} ms on loopback`);
  assert.ok(observation.lossRatio! >= 0 && observation.lossRatio! <= 1);
});
