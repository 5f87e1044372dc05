// Proves, for every catalog-like scenario (isolate one, split halves, three-way split,
// bridge, one-way, flaky, fenced minority, emergency) under both resolvers, with
// concurrent writes on every side and some links slowed so that their messages arrive
// only after reconciliation, that all replicas converge and no acknowledged write is
// lost except those the resolver overwrote and listed: reconciliation is final, a late
// message cannot bring a discarded version back. Also proves the checker itself
// catches a lost, rolled-back or silently overwritten write.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type AcknowledgedWrite, checkConsistency } from '../../core/consistency-checker';
import { compareHlc, hlcFloor } from '../../core/hlc';
import type { NodeId } from '../../core/protocol';
import { type ConflictResolver, lastWriterWins, preferMajoritySide } from '../../core/reconcile/resolver';
import type { KvStore } from './kv-store';
import { reconcileInProcess } from './reconcile-in-process';
import { type SimulatedCluster, createSimulatedCluster } from './simulated-cluster';

const nodes = ['a', 'b', 'c', 'd', 'e'];

/** A small seeded generator (mulberry32), so a failing run can be replayed from its seed. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Scenario {
  name: string;
  /** Cuts links for the partition (may be called repeatedly by flaky scenarios). */
  cut: (cluster: SimulatedCluster, random: () => number) => void;
  /** Majority side for prefer-majority-side, or null. */
  majority: NodeId[] | null;
  /** Fences to apply during the split. */
  fences?: { nodeIds: NodeId[]; mode: 'read-only' | 'critical-only' }[];
  /** Re-cut before every write round (flaky links). */
  flaky?: boolean;
}

const scenarios: Scenario[] = [
  { name: 'isolate one', cut: (c) => c.network.partition([['a', 'b', 'c', 'd'], ['e']]), majority: ['a', 'b', 'c', 'd'] },
  { name: 'split halves', cut: (c) => c.network.partition([['a', 'b', 'c'], ['d', 'e']]), majority: ['a', 'b', 'c'] },
  { name: 'three-way split, no majority', cut: (c) => c.network.partition([['a', 'b'], ['c', 'd'], ['e']]), majority: null },
  {
    name: 'bridge (a and e cannot talk, both reach the rest)',
    cut: (c) => {
      c.network.cutOneWay('a', 'e');
      c.network.cutOneWay('e', 'a');
    },
    majority: nodes,
  },
  { name: 'one-way (a is not heard)', cut: (c) => ['b', 'c', 'd', 'e'].forEach((to) => c.network.cutOneWay('a', to)), majority: ['b', 'c', 'd', 'e'] },
  {
    name: 'flaky links',
    cut: (c, random) => {
      c.network.heal();
      for (const from of nodes) for (const to of nodes) if (from !== to && random() < 0.3) c.network.cutOneWay(from, to);
    },
    majority: null,
    flaky: true,
  },
  {
    name: 'split halves, minority fenced read-only',
    cut: (c) => c.network.partition([['a', 'b', 'c'], ['d', 'e']]),
    majority: ['a', 'b', 'c'],
    fences: [{ nodeIds: ['d', 'e'], mode: 'read-only' }],
  },
  {
    name: 'no majority, emergency critical-only',
    cut: (c) => c.network.partition([['a', 'b'], ['c', 'd'], ['e']]),
    majority: null,
    fences: [{ nodeIds: nodes, mode: 'critical-only' }],
  },
];

function write(store: KvStore, key: string, value: string, critical: boolean, acknowledged: AcknowledgedWrite[]): void {
  const result = store.put(key, value, { critical });
  if (result.ok) acknowledged.push({ nodeId: store.nodeId, key, value, hlc: result.hlc });
}

function runScenario(scenario: Scenario, resolver: ConflictResolver, seed: number) {
  const random = seededRandom(seed);
  const cluster = createSimulatedCluster(nodes, { skewMs: [0, 40, -30, 15, -5] });
  const acknowledged: AcknowledgedWrite[] = [];
  for (let index = 0; index < 30; index++) write(cluster.storeOf('a'), `base-${index}`, 'v0', false, acknowledged);
  cluster.network.deliverAll();
  cluster.clock.advance(1000);
  const partitionStartMs = cluster.clock.nowMs();
  scenario.cut(cluster, random);
  for (const fence of scenario.fences ?? []) for (const nodeId of fence.nodeIds) cluster.storeOf(nodeId).setFence('p1', fence.mode);
  for (let round = 0; round < 40; round++) {
    if (scenario.flaky === true) scenario.cut(cluster, random);
    const slowFrom = nodes[Math.floor(random() * nodes.length)]!;
    const slowTo = nodes[Math.floor(random() * nodes.length)]!;
    if (slowFrom !== slowTo && random() < 0.3) cluster.network.delayLink(slowFrom, slowTo);
    for (const store of cluster.stores) {
      const shared = `shared-${Math.floor(random() * 12)}`;
      write(store, shared, `${store.nodeId}-${round}`, random() < 0.3, acknowledged);
      write(store, `own-${store.nodeId}-${round}`, 'x', random() < 0.3, acknowledged);
      if (random() < 0.2) write(store, `base-${Math.floor(random() * 30)}`, `${store.nodeId}-${round}`, false, acknowledged);
      cluster.clock.advance(Math.floor(random() * 5));
    }
    if (random() < 0.7) cluster.network.deliverAll();
  }
  cluster.network.deliverAll();
  cluster.network.heal();
  for (const store of cluster.stores) store.setFence('p1', null);
  cluster.clock.advance(1000);
  const beforeReconciliation = new Map(cluster.stores.map((store) => [store.nodeId, store.snapshot()]));
  const since = hlcFloor(partitionStartMs - 500);
  const result = reconcileInProcess(cluster.stores, {
    partitionId: 'p1',
    since,
    resolver,
    majorityNodes: scenario.majority,
    nowMs: cluster.clock.nowMs,
  });
  // Messages sent during the split on slowed links arrive only now, after reconciliation.
  cluster.network.releaseDelayed();
  cluster.network.deliverAll();
  const replicas = new Map(cluster.stores.map((store) => [store.nodeId, store.snapshot()]));
  const verdict = checkConsistency({ acknowledged, replicas, beforeReconciliation, overwritten: result.overwritten, since });
  return { verdict, result, acknowledged, cluster, beforeReconciliation, since };
}

for (const scenario of scenarios) {
  for (const resolver of [lastWriterWins, preferMajoritySide]) {
    test(`${scenario.name} · ${resolver.name}`, () => {
      for (const seed of [1, 2, 3]) {
        const { verdict, result } = runScenario(scenario, resolver, seed);
        const context = `seed ${seed}: ${JSON.stringify({ lost: verdict.lostWrites.slice(0, 3), divergent: verdict.divergentKeys.slice(0, 3) })}`;
        assert.equal(result.run.phase, 'completed', context);
        assert.equal(verdict.converged, true, context);
        assert.equal(verdict.lostWriteCount, 0, context);
        assert.deepEqual(verdict.falselyListed, [], context);
        const fenced = scenario.fences?.find((fence) => fence.mode === 'read-only');
        if (fenced !== undefined) {
          // Slowed links inside the majority make stale copies there, so conflicts may exist, but never with a minority write.
          const minorityLosers = result.overwritten.filter((version) => fenced.nodeIds.includes(version.lost.hlc.nodeId));
          assert.deepEqual(minorityLosers, [], 'a fenced minority cannot write, so none of its versions is discarded');
        }
      }
    });
  }
}

test('a datagram from before the heal, delivered after prefer-majority-side reconciled, is refused', () => {
  // e's clock runs 5 s ahead, so its minority write is the latest by HLC yet must lose.
  const cluster = createSimulatedCluster(nodes, { skewMs: [0, 0, 0, 0, 5000] });
  const e = cluster.storeOf('e');
  cluster.storeOf('a').put('k', 'before');
  cluster.network.deliverAll();
  cluster.clock.advance(1000);
  const partitionStartMs = cluster.clock.nowMs();
  for (const to of ['a', 'b', 'c', 'd']) cluster.network.delayLink('e', to);
  const minority = e.put('k', 'minority');
  cluster.network.partition([['a', 'b', 'c'], ['d', 'e']]);
  cluster.clock.advance(10);
  const majority = cluster.storeOf('a').put('k', 'majority');
  cluster.network.deliverAll();
  assert.ok(minority.ok && majority.ok && compareHlc(minority.hlc, majority.hlc) > 0, 'the minority write is the later one');
  cluster.network.heal();
  const result = reconcileInProcess(cluster.stores, {
    partitionId: 'p1',
    since: hlcFloor(partitionStartMs - 500),
    resolver: preferMajoritySide,
    majorityNodes: ['a', 'b', 'c'],
    nowMs: cluster.clock.nowMs,
  });
  assert.equal(result.run.phase, 'completed');
  assert.deepEqual(result.overwritten.map((version) => version.lost.value), ['minority']);
  assert.equal(cluster.network.releaseDelayed(), 4, "e's datagram to each peer was held back");
  assert.equal(cluster.network.deliverAll(), 4);
  for (const store of cluster.stores) {
    assert.equal(store.get('k')?.value, 'majority', `${store.nodeId} must keep the reconciled version`);
    assert.equal(store.floorOf('k') !== undefined && compareHlc(store.floorOf('k')!, minority.hlc) >= 0, true, `${store.nodeId} holds the floor`);
  }
  assert.equal(cluster.stores.reduce((sum, store) => sum + store.stats().refusedBelowFloor, 0), 4);
  assert.equal(new Set(cluster.stores.map((store) => store.digest().root)).size, 1);
  // b held the kept version and never received e's write; the floor entry moved its clock, so its next write orders after the floor and replicates everywhere.
  const after = cluster.storeOf('b').put('k', 'after');
  cluster.network.deliverAll();
  assert.ok(after.ok && compareHlc(after.hlc, minority.hlc) > 0);
  for (const store of cluster.stores) assert.equal(store.get('k')?.value, 'after', `${store.nodeId} takes the write made after reconciliation`);
  assert.ok(cluster.stores.every((store) => store.floorOf('k') === undefined), 'a newer version makes the floor redundant');
});

test('the checker catches a missing write, a rollback and a silent overwrite', () => {
  const { result, acknowledged, cluster, beforeReconciliation, since } = runScenario(scenarios[1]!, lastWriterWins, 7);
  const replicas = new Map(cluster.stores.map((store) => [store.nodeId, store.snapshot()]));
  const victim = acknowledged[acknowledged.length - 1]!;
  const withoutVictim = new Map([...replicas].map(([nodeId, contents]) => {
    const copy = new Map(contents);
    copy.delete(victim.key);
    return [nodeId, copy];
  }));
  const missing = checkConsistency({ acknowledged, replicas: withoutVictim, beforeReconciliation, overwritten: result.overwritten, since });
  assert.ok(missing.lostWrites.some((write) => write.key === victim.key && write.loss === 'missing'));

  const rolledBack = new Map([...replicas].map(([nodeId, contents]) => {
    const copy = new Map(contents);
    copy.set(victim.key, { key: victim.key, value: 'old', hlc: { ...victim.hlc, wallMs: victim.hlc.wallMs - 1 } });
    return [nodeId, copy];
  }));
  const rollback = checkConsistency({ acknowledged, replicas: rolledBack, beforeReconciliation, overwritten: result.overwritten, since });
  assert.ok(rollback.lostWrites.some((write) => write.loss === 'rolled-back'));

  assert.ok(result.overwritten.length > 0, 'split halves with shared keys must produce conflicts');
  const unlisted = checkConsistency({ acknowledged, replicas, beforeReconciliation, overwritten: [], since });
  assert.ok(unlisted.lostWrites.some((write) => write.loss === 'overwritten-unlisted'));
  assert.equal(unlisted.ok, false);

  const diverged = new Map(replicas);
  diverged.set('e', new Map());
  assert.equal(checkConsistency({ acknowledged: [], replicas: diverged, beforeReconciliation, overwritten: [], since }).converged, false);
});
