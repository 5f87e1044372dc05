// The cluster service on in-memory stores and a fake clock, with the real
// partition tracker and lifecycle orchestrator: reports become a partition
// (saved before it is pushed), the lifecycle fences the minority, a heal runs the
// recovery and the partition closes once verified; a restarted service restores
// the open partition's lifecycle. No sleeps: the clock moves when told to.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AgentReport } from '../core/protocol';
import type { PartitionSummary } from '../core/realtime-contract';
import { ClusterRegistry } from './cluster-registry';
import { ClusterService } from './cluster-service';
import { MemoryClusterStore } from './cluster-store';
import { MemoryPartitionStore } from './db/memory-partition-store';
import type { PartitionStore } from './db/partition-repository';
import { Emitter } from './events';
import { createLogger } from './logger';
import { LifecycleRunner } from './recovery/orchestrator';
import { recoveryFixture, settle } from './recovery/test-fixtures';
import type { ServerEvents } from './server-events';

const nodes = ['a', 'b', 'c', 'd', 'e'];
const intervalMs = 100;
const options = { staleAfterMs: 3000, healStableMs: 400, openStableIntervals: 2, evaluateIntervalMs: 1000 };

/** One in-memory "database": partitions opened by the service are known to the lifecycle and recovery stores too. */
function sharedPartitions(fixture: ReturnType<typeof recoveryFixture>): PartitionStore {
  const partitions = new MemoryPartitionStore();
  return Object.assign(Object.create(partitions) as MemoryPartitionStore, {
    open: async (...args: Parameters<PartitionStore['open']>) => {
      const opened = await partitions.open(...args);
      fixture.store.add(opened);
      fixture.recoveryStore.addPartition(opened.id, opened.clusterId, { type: opened.type, sides: opened.components, majorityIndex: 0, divergenceMax: 0 });
      return opened;
    },
    findActive: async (clusterId: string) => {
      const active = await partitions.findActive(clusterId);
      return active ? ((await fixture.store.findSummary(active.id)) ?? active) : null;
    },
    findLifecycle: async (id: string) => fixture.store.partitions.get(id)?.lifecycle ?? null,
  });
}

function build(fixture = recoveryFixture(), stores = { clusters: new MemoryClusterStore(), partitions: sharedPartitions(fixture) }) {
  const registry = new ClusterRegistry();
  const events = new Emitter<ServerEvents>();
  const lifecycle = new LifecycleRunner({
    ...fixture.deps,
    connectedNodes: (clusterId) => registry.connectedNodes(clusterId),
    writesAccepted: (clusterId) => registry.writesAccepted(clusterId),
    clusterIds: () => registry.ids(),
    partitionChanged: (summary) => events.emit('partitionSaved', summary),
  });
  fixture.events.on('effects', (effects) => lifecycle.handle(effects));
  const pushed: PartitionSummary[] = [];
  const written: AgentReport[] = [];
  const writer = {
    full: false,
    write: async (report: AgentReport) => {
      const duplicate = written.some((seen) => seen.agentId === report.agentId && seen.incarnation === report.incarnation && seen.sequence === report.sequence);
      if (!duplicate) written.push(report);
      return { duplicate };
    },
  };
  const service = new ClusterService({
    registry,
    ...stores,
    writer,
    broadcaster: { clusterUpdated: () => undefined, partitionChanged: (summary) => void pushed.push(summary) },
    options: { ...options, nowMs: () => fixture.clock.nowMs() },
    logger: createLogger('silent'),
    membership: { load: async () => undefined, isMember: (_, nodeId) => nodes.includes(nodeId), admit: () => undefined, noteUnknown: () => undefined },
    lifecycle,
  });
  events.on('partitionSaved', (summary) => service.partitionChanged(summary));
  return { fixture, stores, registry, lifecycle, service, pushed, written, writer };
}

let sequence = 0;
/** One round of reports: every agent reports every peer, reachable unless `cut` separates them. */
async function round(world: ReturnType<typeof build>, cut: string[] = []) {
  const nowMs = world.fixture.clock.nowMs();
  sequence += 1;
  for (const agentId of nodes) {
    const observations = nodes
      .filter((peerId) => peerId !== agentId)
      .map((peerId) => ({ peerId, reachable: cut.includes(agentId) === cut.includes(peerId), lastHeardAtMs: null, sinceMs: 0, suspicion: 0 }));
    const report = { clusterId: 'c1', agentId, incarnation: 1, sequence, sentAtMs: nowMs, heartbeatIntervalMs: intervalMs, observations, evidence: [] };
    await world.service.ingest(report, { agentId, clusterId: 'c1' });
  }
  // On a loaded machine a measured evaluation cost may space the next one past this round.
  world.service.evaluations.runScheduled();
  await settle();
  world.fixture.clock.advance(intervalMs);
}

async function rounds(world: ReturnType<typeof build>, count: number, cut: string[] = []) {
  for (let index = 0; index < count; index += 1) await round(world, cut);
}

async function helloAll(world: ReturnType<typeof build>) {
  for (const agentId of nodes) await world.service.hello({ clusterId: 'c1', agentId, address: `10.0.0.${agentId.charCodeAt(0)}:7000`, incarnation: 1, peers: nodes.filter((peer) => peer !== agentId) });
  world.fixture.clock.advance(options.staleAfterMs); // right after a start the view is not yet trusted
}

test('a split becomes a saved partition whose lifecycle fences the minority; a heal recovers and closes it', async () => {
  const world = build();
  await helloAll(world);
  await rounds(world, 5);
  assert.equal(world.service.findCluster('c1')?.activePartition, null, 'a whole cluster has no partition');
  assert.deepEqual(await world.stores.partitions.list({ limit: 10 }), []);

  await rounds(world, 5, ['d', 'e']);
  const [opened] = await world.stores.partitions.list({ limit: 10 });
  assert.ok(opened, 'the partition is saved');
  assert.deepEqual([opened.type, opened.components, opened.nodeIds, opened.endedAtMs], ['complete', [['a', 'b', 'c'], ['d', 'e']], nodes, null], 'both ends of every cut link are involved');
  assert.equal(world.lifecycle.find(opened.id)?.state, 'DegradedOperation');
  assert.deepEqual(world.fixture.commands, [{ nodeIds: ['d', 'e'], command: { type: 'fence', partitionId: opened.id, mode: 'read-only' } }]);
  assert.equal(world.service.findCluster('c1')?.activePartition?.id, opened.id);
  assert.ok(world.pushed.some((summary) => summary.id === opened.id && summary.state === 'DegradedOperation'), 'pushed in its lifecycle state');
  assert.deepEqual((await world.fixture.alerts.list({ limit: 10 })).map((alert) => alert.rule), ['partition']);

  await rounds(world, 8);
  const healed = await world.stores.partitions.findWithEvents(opened.id);
  assert.deepEqual(healed?.events.map((event) => event.kind), ['detected', 'healed']);
  // The recorded agents return no digests, so the phased stage fails its verification and recovery waits for an operator.
  const runsOf = async () => (await world.fixture.recovery.list({ partitionId: opened.id, limit: 10 })).map((run) => [run.strategy, run.status]);
  assert.deepEqual(await runsOf(), [['manual', 'pending-approval'], ['phased', 'failed']]);
  const [pending] = await world.fixture.recovery.list({ partitionId: opened.id, status: ['pending-approval'], limit: 1 });
  assert.ok(pending);
  await world.fixture.recovery.approve(pending.id, 'olga', 'checked the plan');
  await settle();
  assert.deepEqual(await runsOf(), [['manual', 'succeeded'], ['phased', 'failed']]);
  assert.deepEqual(world.fixture.drives.at(-1), nodes, 'approved, every replica is reconciled');
  assert.equal(world.service.findCluster('c1')?.activePartition?.id, opened.id, 'a heal alone does not end the partition');

  world.fixture.clock.advance(31_000);
  await world.lifecycle.feed(opened.id, 'c1', { type: 'tick' });
  const closed = world.pushed.at(-1);
  assert.deepEqual([closed?.id, closed?.outcome, closed?.state], [opened.id, 'recovered', 'Normal']);
  assert.equal(world.service.findCluster('c1')?.activePartition, null, 'the view drops the ended partition');
  assert.equal(world.lifecycle.find(opened.id), null);
  assert.equal(world.written.length, 18 * nodes.length, 'every report was written once');
});

test('a restarted service loads saved clusters and nodes and restores the open partition’s lifecycle', async () => {
  const first = build();
  await helloAll(first);
  await rounds(first, 5, ['d', 'e']);
  const [opened] = await first.stores.partitions.list({ limit: 10 });
  assert.ok(opened);
  await first.service.stop();

  const second = build(first.fixture, first.stores);
  assert.equal(await second.service.loadClusters(), 1);
  const cluster = second.service.findCluster('c1');
  assert.deepEqual([...(cluster?.nodes.keys() ?? [])].sort(), nodes);
  assert.equal(cluster?.nodes.get('a')?.address, '10.0.0.97:7000');
  assert.equal(cluster?.activePartition?.id, opened.id);
  assert.equal(second.lifecycle.find(opened.id)?.state, 'DegradedOperation', 'the saved lifecycle goes on');
  assert.deepEqual(second.service.connectedNodes('c1'), [], 'nobody has said hello to this process yet');
});

test('reports that are malformed or speak for another agent are refused, counted and not written', async () => {
  const world = build();
  await helloAll(world);
  await assert.rejects(world.service.ingest({ clusterId: 'c1' }, { agentId: 'a', clusterId: 'c1' }), { code: 'invalid_input' });
  const report = { clusterId: 'c1', agentId: 'b', incarnation: 1, sequence: 1, sentAtMs: world.fixture.clock.nowMs(), heartbeatIntervalMs: intervalMs, observations: [], evidence: [] };
  await assert.rejects(world.service.ingest(report, { agentId: 'a', clusterId: 'c1' }), { code: 'forbidden' });
  assert.deepEqual([world.service.refusedCount, world.service.acceptedCount, world.written.length], [2, 0, 0]);
  assert.deepEqual(await world.service.ingest(report, { agentId: 'b', clusterId: 'c1' }).then((result) => result.duplicate), false);
  assert.deepEqual(await world.service.ingest(report, { agentId: 'b', clusterId: 'c1' }).then((result) => result.duplicate), true);
  assert.equal(world.service.acceptedCount, 2);
});

test('while the write queue is full a report is refused as unavailable before it is parsed or verified, and taken once there is room', async () => {
  const world = build();
  await helloAll(world);
  world.writer.full = true;
  let verified = 0;
  const expected = { agentId: 'b', clusterId: 'c1', verify: () => void (verified += 1) };
  const report = { clusterId: 'c1', agentId: 'b', incarnation: 1, sequence: 1, sentAtMs: world.fixture.clock.nowMs(), heartbeatIntervalMs: intervalMs, observations: [], evidence: [] };
  await assert.rejects(world.service.ingest(report, expected), { code: 'unavailable' });
  await assert.rejects(world.service.ingest({ clusterId: 'c1' }, expected), { code: 'unavailable' }, 'shed before the parse');
  assert.deepEqual([verified, world.written.length, world.service.refusedCount], [0, 0, 2]);
  world.writer.full = false;
  assert.equal((await world.service.ingest(report, expected)).duplicate, false);
  assert.deepEqual([verified, world.written.length, world.service.acceptedCount], [1, 1, 1]);
});
