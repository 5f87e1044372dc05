// Proves the agent's detection loop on a fake clock: heartbeats keep peers reachable,
// silence makes them unreachable (at once with phi, after probes with phi+indirect),
// a prober's ack concludes "link cut" once a late grace has passed (a late datagram keeps
// the peer and its delay is reported), a direct answer cancels the suspicion, and a
// stalled observer discounts itself; a peer never heard is left alone during the join grace.
// Sleeping through the checks `idleChecksAhead` calls idle changes nothing (seeded runs
// against a monitor that runs every check), and a heartbeat check cannot be skipped.
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
    if (t % intervalMs === 0) for (const peer of ['c', 'd']) monitor.heard(peer, t, t);
    if (t % intervalMs === 0 && t < silentAfterMs) monitor.heard('b', t, t);
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
  const reachable = (nowMs: number) => monitor.observations(nowMs).find((observation) => observation.peerId === 'b')!.reachable;
  // Late is not lost: the link-cut conclusion waits one interval for a late datagram before it counts.
  assert.equal(reachable(atMs + checkMs), true);
  const graceEndsMs = atMs + checkMs + 250;
  for (let t = atMs + 2 * checkMs; t <= graceEndsMs + checkMs; t += checkMs) monitor.check(t, t, createPrng(2));
  assert.equal(reachable(graceEndsMs + checkMs), false);
  // One link-cut does not make the link lossy: heard again, it is back at once.
  monitor.heard('b', 6_000, 6_000);
  assert.equal(reachable(6_000), true);
});

test('phi+indirect: a late datagram during the grace keeps the peer, and its delay is reported', () => {
  const { monitor, atMs } = run('phi+indirect', 5_000, 6_000);
  monitor.proberAnswered('b', 'c', 'ack');
  monitor.proberAnswered('b', 'd', 'ack');
  monitor.check(atMs + checkMs, atMs + checkMs, createPrng(2));
  assert.equal(monitor.lastConclusion('b'), 'link-cut');
  // Sent 300 ms before it arrived, where the link's fastest was about 0 ms: late, not lost.
  monitor.heard('b', atMs + checkMs + 100, atMs + checkMs - 200);
  for (let t = atMs + 2 * checkMs; t <= atMs + 8 * checkMs; t += checkMs) monitor.check(t, t, createPrng(2));
  const view = monitor.observations(atMs + 8 * checkMs).find((observation) => observation.peerId === 'b')!;
  assert.equal(view.reachable, true);
  assert.equal(monitor.lastConclusion('b'), 'alive');
  assert.ok((view.delayMs ?? 0) >= 5, `delay ${view.delayMs}`);
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
    if (t % intervalMs === 0) for (const peer of ['c', 'd']) monitor.heard(peer, t, t);
    monitor.check(t, t, random);
  }
  assert.ok(monitor.observations(1_999).every((observation) => observation.reachable), 'b, late to start, is presumed reachable');
  assert.equal(monitor.health(1_999).discounted, false, 'a slow start is no mass loss');
  for (let t = 2_000; t <= 2_250; t += checkMs) {
    if (t % intervalMs === 0) for (const peer of ['c', 'd']) monitor.heard(peer, t, t);
    monitor.check(t, t, random);
  }
  const view = new Map(monitor.observations(2_250).map((observation) => [observation.peerId, observation.reachable]));
  assert.deepEqual([...view], [['b', false], ['c', true], ['d', true]]);
});

/** One seeded run: the same arrivals to a monitor that runs every check and one that skips the idle ones. */
function compareSkipping(seed: number, mode: 'phi' | 'phi+indirect') {
  const scenario = createPrng(seed, 1);
  const everyPeer = ['b', 'c', 'd', 'e', 'f', 'g'];
  const silentAfterMs = new Map(everyPeer.map((peer) => [peer, scenario() < 0.4 ? 1_000 + scenario() * 4_000 : Number.POSITIVE_INFINITY]));
  const backAtMs = new Map(everyPeer.map((peer) => [peer, silentAfterMs.get(peer)! + 1_000 + scenario() * 2_000]));
  const phaseMs = new Map(everyPeer.map((peer) => [peer, scenario() * intervalMs]));
  const options = { selfId: 'a', peers: ['a', ...everyPeer], profile: buildProfile('local', mode), startedAtMs: 0, joinGraceMs: 500 };
  const every = createPeerMonitor(options);
  const skipping = createPeerMonitor(options);
  const everyRandom = createPrng(seed, 2);
  const skippingRandom = createPrng(seed, 2);
  let skipped = 0;
  let nextBusySlot = 0;
  let checksRun = 0;
  let changes = 0;
  const untilMs = 8_000;
  const slots = untilMs / checkMs;
  for (let slot = 0; slot < slots; slot += 1) {
    const atMs = slot * checkMs;
    // Arrivals since the previous slot, the same to both; each may make an earlier check busy.
    for (const peer of everyPeer) {
      const heardAtMs = Math.floor((atMs - phaseMs.get(peer)!) / intervalMs) * intervalMs + phaseMs.get(peer)!;
      const silent = heardAtMs >= silentAfterMs.get(peer)! && heardAtMs < backAtMs.get(peer)!;
      if (heardAtMs <= atMs - checkMs || heardAtMs > atMs || silent || scenario() < 0.05) continue;
      every.heard(peer, heardAtMs);
      skipping.heard(peer, heardAtMs);
      nextBusySlot = Math.min(nextBusySlot, slot + skipping.idleChecksAhead(atMs, checkMs));
    }
    const expected = every.check(atMs, atMs, everyRandom);
    if (expected.changed) changes += 1;
    if (slot < nextBusySlot) {
      assert.deepEqual(expected, { heartbeatTargets: [], probesStarted: [], conclusions: [], changed: false }, `seed ${seed}: check ${slot} was called idle but did something`);
      skipped += 1;
      continue;
    }
    const actual = skipping.check(atMs, atMs, skippingRandom, skipped);
    assert.deepEqual(actual, expected, `seed ${seed}: check ${slot} after ${skipped} skipped`);
    checksRun += 1;
    skipped = 0;
    // The probers' answers, the same to both.
    for (const probe of expected.probesStarted) {
      for (const prober of probe.probers) {
        const outcome = scenario() < 0.5 ? 'ack' : 'nack';
        every.proberAnswered(probe.target, prober, outcome);
        skipping.proberAnswered(probe.target, prober, outcome);
      }
    }
    nextBusySlot = slot + 1 + skipping.idleChecksAhead(atMs + checkMs, checkMs);
  }
  assert.deepEqual(skipping.observations(untilMs), every.observations(untilMs), `seed ${seed}: final views`);
  assert.deepEqual(skipping.health(untilMs), every.health(untilMs), `seed ${seed}: health`);
  return { checksRun, slots, changes };
}


test('skipping the checks idleChecksAhead calls idle gives the same heartbeats, probes and verdicts (seeded)', () => {
  let checksRun = 0;
  let slots = 0;
  let changes = 0;
  for (const mode of ['phi', 'phi+indirect'] as const) {
    for (let seed = 1; seed <= 40; seed += 1) {
      const run = compareSkipping(seed, mode);
      checksRun += run.checksRun;
      slots += run.slots;
      changes += run.changes;
    }
  }
  // The runs did skip checks, and peers were lost and found again.
  assert.ok(checksRun < slots * 0.6, `${checksRun} of ${slots} checks run`);
  assert.ok(changes > 40, `${changes} verdict changes`);
});

test('a healthy cluster needs about one check per heartbeat interval', () => {
  const monitor = createPeerMonitor({ selfId: 'a', peers, profile: buildProfile('local', 'phi'), startedAtMs: 0 });
  const random = createPrng(5);
  let run = 0;
  let skipped = 0;
  let nextBusyMs = 0;
  for (let t = 0; t < 10_000; t += checkMs) {
    if (t % intervalMs === 0) for (const peer of ['b', 'c', 'd']) monitor.heard(peer, t);
    if (t < nextBusyMs) {
      skipped += 1;
      continue;
    }
    monitor.check(t, t, random, skipped);
    run += 1;
    skipped = 0;
    nextBusyMs = t + checkMs * (1 + monitor.idleChecksAhead(t + checkMs, checkMs));
  }
  assert.ok(run <= 10_000 / intervalMs + 2, `${run} checks run in 10 s at ${intervalMs} ms heartbeats`);
});

test('a heartbeat check cannot be skipped', () => {
  const monitor = createPeerMonitor({ selfId: 'a', peers, profile: buildProfile('local', 'phi'), startedAtMs: 0 });
  for (const peer of ['b', 'c', 'd']) monitor.heard(peer, 0);
  monitor.check(0, 0, createPrng(1));
  assert.equal(monitor.idleChecksAhead(checkMs, checkMs), checksPerInterval - 1);
  assert.throws(() => monitor.check(checkMs * checksPerInterval + checkMs, checkMs * checksPerInterval + checkMs, createPrng(1), checksPerInterval), RangeError);
});
