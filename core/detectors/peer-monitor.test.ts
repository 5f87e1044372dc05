// Proves the agent's detection loop on a fake clock: heartbeats keep peers reachable,
// silence makes them unreachable (at once with phi, after probes with phi+indirect),
// a prober's ack concludes "link cut", a direct answer cancels the suspicion, and a
// stalled observer discounts itself; a peer never heard is left alone during the join grace.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createPrng } from '../../sim/prng';
import { buildProfile } from './detector-profiles';
import { checksPerInterval, createPeerMonitor } from './peer-monitor';

const peers = ['a', 'b', 'c', 'd'];
const intervalMs = 250;
const checkMs = intervalMs / checksPerInterval;

function run(mode: 'phi' | 'phi+indirect', silentAfterMs: number, untilMs: number) {
  const monitor = createPeerMonitor({ selfId: 'a', peers, profile: buildProfile('local', mode), startedAtMs: 0 });
  const random = createPrng(1);
  const started: string[] = [];
  for (let t = 0; t <= untilMs; t += checkMs) {
    if (t % intervalMs === 0) for (const peer of ['c', 'd']) monitor.heard(peer, t);
    if (t % intervalMs === 0 && t < silentAfterMs) monitor.heard('b', t);
    const result = monitor.check(t, t, random);
    for (const probe of result.probesStarted) started.push(`${t}:${probe.target}:${probe.probers.join(',')}`);
    if (started.length > 0) return { monitor, started, atMs: t };
  }
  return { monitor, started, atMs: untilMs };
}

test('phi: a silent peer becomes unreachable within two intervals, others stay', () => {
  const { monitor } = run('phi', 5_000, 5_500);
  const view = new Map(monitor.observations(5_500).map((observation) => [observation.peerId, observation.reachable]));
  assert.deepEqual([...view], [['b', false], ['c', true], ['d', true]]);
});

test('phi+indirect: silence starts a probe; a prober ack concludes link-cut', () => {
  const { monitor, started, atMs } = run('phi+indirect', 5_000, 6_000);
  assert.equal(started.length, 1, started.join(' '));
  assert.ok(atMs > 5_000 && atMs < 5_250, `probe started at ${atMs}`); // last heartbeat 4750, phi 3 ≈ 3 deviations past I
  const [, target, probers] = started[0]!.split(':');
  assert.equal(target, 'b');
  assert.deepEqual(probers!.split(',').sort(), ['c', 'd']);
  monitor.proberAnswered('b', 'c', 'ack');
  monitor.proberAnswered('b', 'd', 'nack');
  const result = monitor.check(atMs + checkMs, atMs + checkMs, createPrng(2));
  assert.deepEqual(result.conclusions, [{ target: 'b', conclusion: 'link-cut' }]);
  assert.equal(monitor.observations(atMs + checkMs).find((observation) => observation.peerId === 'b')!.reachable, false);
  monitor.heard('b', 5_600);
  assert.equal(monitor.observations(5_600).find((observation) => observation.peerId === 'b')!.reachable, true);
});

test('phi+indirect: a direct answer during the probe cancels the suspicion', () => {
  const { monitor, started, atMs } = run('phi+indirect', 5_000, 6_000);
  assert.equal(started.length, 1);
  monitor.heard('b', atMs + 20);
  assert.equal(monitor.lastConclusion('b'), 'alive');
  monitor.check(5_700, 5_700, createPrng(3));
  assert.equal(monitor.observations(5_700).find((observation) => observation.peerId === 'b')!.reachable, true);
});

test('a stalled observer discounts itself', () => {
  const monitor = createPeerMonitor({ selfId: 'a', peers, profile: buildProfile('local', 'phi'), startedAtMs: 0 });
  monitor.check(0, 0, createPrng(1));
  assert.equal(monitor.health(0).discounted, false);
  monitor.check(3_000, 62.5, createPrng(1));
  assert.equal(monitor.health(3_000).discounted, true);
  assert.ok(monitor.health(3_000).missedDeadlines > 0);
  // The late check declares nobody: the heartbeats may be waiting unread behind the stall.
  assert.ok(monitor.observations(3_000).every((observation) => observation.reachable));
});

test('evidence is aggregated per origin and kind, then drained; it is never a sign of life', () => {
  const monitor = createPeerMonitor({ selfId: 'a', peers, profile: buildProfile('local', 'phi'), startedAtMs: 0 });
  monitor.recordEvidence({ kind: 'bad-signature', source: '10.0.0.9:4000', linkPeerId: 'b' }, 10);
  monitor.recordEvidence({ kind: 'bad-signature', source: '10.0.0.9:4000', linkPeerId: 'b' }, 20);
  monitor.recordEvidence({ kind: 'replay', source: '10.0.0.7:5000', namedId: 'c' }, 30);
  assert.deepEqual(monitor.drainEvidence(), [
    { kind: 'bad-signature', source: '10.0.0.9:4000', linkPeerId: 'b', count: 2, lastAtMs: 20 },
    { kind: 'replay', source: '10.0.0.7:5000', peerId: 'c', count: 1, lastAtMs: 30 },
  ]);
  assert.deepEqual(monitor.drainEvidence(), []);
  assert.ok(monitor.observations(40).every((observation) => observation.lastHeardAtMs === null));
});

test('join grace: a peer never heard is not judged until the grace ends, then it is', () => {
  const monitor = createPeerMonitor({ selfId: 'a', peers, profile: buildProfile('local', 'phi'), startedAtMs: 0, joinGraceMs: 2_000 });
  const random = createPrng(4);
  for (let t = 0; t < 2_000; t += checkMs) {
    if (t % intervalMs === 0) for (const peer of ['c', 'd']) monitor.heard(peer, t);
    monitor.check(t, t, random);
  }
  assert.ok(monitor.observations(1_999).every((observation) => observation.reachable), 'b, late to start, is presumed reachable');
  assert.equal(monitor.health(1_999).discounted, false, 'a slow start is no mass loss');
  for (let t = 2_000; t <= 2_250; t += checkMs) {
    if (t % intervalMs === 0) for (const peer of ['c', 'd']) monitor.heard(peer, t);
    monitor.check(t, t, random);
  }
  const view = new Map(monitor.observations(2_250).map((observation) => [observation.peerId, observation.reachable]));
  assert.deepEqual([...view], [['b', false], ['c', true], ['d', true]]);
});
