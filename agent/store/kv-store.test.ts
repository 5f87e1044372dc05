// Proves the reference store: writes stamped by an advancing HLC, replication merged
// last-writer-wins, fences enforced (read-only; critical-only in emergency), guarded
// apply keeping newer writes, a floor left by an apply that kept an older version
// (refusing late copies at or before it, even when the clock could not follow it),
// changedSince, and a digest that tracks every change.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { digestOf } from '../../core/digest';
import { compareHlc, hlcFloor } from '../../core/hlc';
import { createSimulatedCluster } from './simulated-cluster';

test('replicated writes converge; later writer wins', () => {
  const cluster = createSimulatedCluster(['a', 'b']);
  const [a, b] = cluster.stores as [typeof cluster.stores[0], typeof cluster.stores[0]];
  assert.ok(a.put('k', 'from-a').ok);
  cluster.clock.advance(1);
  assert.ok(b.put('k', 'from-b').ok);
  cluster.network.deliverAll();
  assert.equal(a.get('k')?.value, 'from-b');
  assert.equal(b.get('k')?.value, 'from-b');
  assert.equal(a.digest().root, b.digest().root);
});

test('fences: read-only refuses all writes; critical-only accepts critical ones; lifting restores', () => {
  const { stores } = createSimulatedCluster(['a']);
  const store = stores[0]!;
  store.setFence('p1', 'read-only');
  assert.deepEqual(store.put('k', 'v').ok, false);
  assert.equal(store.put('k', 'v', { critical: true }).ok, false);
  store.setFence('p2', 'critical-only');
  store.setFence('p1', null);
  const refused = store.put('k', 'v');
  assert.equal(!refused.ok && refused.code, 'emergency-critical-only');
  assert.ok(store.put('k', 'v', { critical: true }).ok);
  store.setFence('p2', null);
  assert.ok(store.put('k', 'w').ok);
  assert.equal(store.stats().writesAccepted, 2);
});

test('apply keeps a write newer than the resolution and takes older ones', () => {
  const cluster = createSimulatedCluster(['a']);
  const store = cluster.stores[0]!;
  const old = store.put('old', 'x');
  cluster.clock.advance(10);
  const fresh = store.put('fresh', 'y');
  assert.ok(old.ok && fresh.ok);
  const resolvedHlc = { wallMs: old.hlc.wallMs + 5, logical: 0, nodeId: 'b' };
  const outcome = store.apply([
    { key: 'old', value: 'resolved', hlc: resolvedHlc, supersedes: resolvedHlc },
    { key: 'fresh', value: 'resolved', hlc: resolvedHlc, supersedes: resolvedHlc },
  ]);
  assert.deepEqual(outcome, { applied: 1, skipped: 1 });
  assert.equal(store.get('old')?.value, 'resolved');
  assert.equal(store.get('fresh')?.value, 'y');
  const next = store.put('after', 'z');
  assert.ok(next.ok && compareHlc(next.hlc, resolvedHlc) > 0, 'the clock moved past applied versions');
});

test('an apply that keeps an older version leaves a floor: late copies at or before it are refused', () => {
  const cluster = createSimulatedCluster(['a']);
  const store = cluster.stores[0]!;
  const now = cluster.clock.nowMs();
  const kept = { wallMs: now - 100, logical: 0, nodeId: 'b' };
  // The discarded version came from a node whose clock ran 2 minutes ahead: past the drift limit.
  const discarded = { wallMs: now + 120_000, logical: 3, nodeId: 'c' };
  assert.deepEqual(store.apply([{ key: 'k', value: 'kept', hlc: kept, supersedes: discarded }]), { applied: 1, skipped: 0 });
  assert.deepEqual(store.floorOf('k'), discarded);
  const late = store.receive([
    { key: 'k', value: 'discarded', hlc: discarded },
    { key: 'k', value: 'older', hlc: { ...discarded, logical: 1 } },
  ]);
  assert.deepEqual(late, { applied: 0, ignored: 2, belowFloor: 2 });
  assert.equal(store.get('k')?.value, 'kept');
  const write = store.put('k', 'new');
  assert.ok(write.ok && compareHlc(write.hlc, discarded) > 0, 'a local write orders after the floor even though the clock refused it');
  assert.equal(store.floorOf('k'), undefined);
  assert.equal(store.stats().refusedBelowFloor, 2);
});

test('changedSince and digest track writes, deletes and replication', () => {
  const cluster = createSimulatedCluster(['a', 'b']);
  const [a, b] = cluster.stores as [typeof cluster.stores[0], typeof cluster.stores[0]];
  a.put('before', '1');
  cluster.clock.advance(100);
  const since = hlcFloor(cluster.clock.nowMs());
  a.put('after', '2');
  a.delete('before');
  cluster.network.deliverAll();
  assert.deepEqual(b.changedSince(since).map((entry) => [entry.key, entry.value]).sort(), [['after', '2'], ['before', null]]);
  assert.equal(b.digest().root, digestOf(b.changedSince(null)).root);
  assert.equal(b.digest(16).root, digestOf(a.changedSince(null), 16).root);
  assert.equal(a.writesSince(since).length, 2);
});

test('writes across a cut link are lost to the peer until reconciliation', () => {
  const cluster = createSimulatedCluster(['a', 'b']);
  cluster.network.partition([['a'], ['b']]);
  cluster.stores[0]!.put('k', 'v');
  cluster.network.deliverAll();
  cluster.network.heal();
  cluster.network.deliverAll();
  assert.equal(cluster.stores[1]!.get('k'), undefined);
  assert.equal(cluster.network.droppedCount(), 1);
});
