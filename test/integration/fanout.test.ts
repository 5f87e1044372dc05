/**
 * Proves the fan-out between instances, on a real PostgreSQL (the default) and on
 * a real Redis (server/realtime/fanout.ts, server/instance-sync.ts), as the
 * server's restricted database role: a cluster snapshot far above NOTIFY's
 * 8000-byte limit (a 300-node cluster view) published by the leader's instance
 * sync reaches a dashboard client connected to another instance whole (on
 * PostgreSQL through the adapter's attachments table), and the other instance
 * keeps it as the leader's latest; an older one does not replace it. A command
 * sent to an agent's room on another instance gets the agent's answer back, a
 * large one (a page of changes) included.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Server } from 'socket.io';
import { io as connect, type Socket } from 'socket.io-client';
import type { ClusterSnapshot } from '../../core/realtime-contract';
import { clusterRoom } from '../../core/realtime-contract';
import { ClusterState } from '../../server/cluster-view';
import { applyMigrations } from '../../server/db/database';
import { prepareRuntimeRole } from '../../server/db/runtime-role';
import { InstanceSync } from '../../server/instance-sync';
import { LeaderGate, startElection } from '../../server/leadership';
import { createLogger } from '../../server/logger';
import { type Fanout, attachFanout } from '../../server/realtime/fanout';
import { type TestDatabase, createTestDatabase } from '../helpers/database';
import { waitFor } from '../helpers/server-harness';

const logger = createLogger('silent');
const nodesInView = 300;
/** The project's machines run Redis here; its channels are named after the test's fresh database, so runs never meet. */
const redisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A real cluster view of `nodesInView` nodes, as the leader would push it. */
function bigSnapshot(seq: number): ClusterSnapshot {
  const cluster = new ClusterState('big', 'Big cluster', false, () => true);
  for (let index = 0; index < nodesInView; index += 1) cluster.node(`node-${index}`).address = `10.0.${Math.floor(index / 250)}.${index % 250}:7946`;
  return { ...cluster.snapshot(1_000_000, 3000), seq };
}

interface Instance {
  io: Server;
  url: string;
  fanout: Fanout;
  sync: InstanceSync;
  gate: LeaderGate;
  close(): Promise<void>;
}

for (const kind of ['postgres', 'redis'] as const) describe(`fan-out between instances through ${kind === 'postgres' ? 'PostgreSQL' : 'Redis'}`, () => {
  let database: TestDatabase;
  let runtimeUrl: string;
  const instances: Instance[] = [];
  const clients: Socket[] = [];

  async function startInstance(name: string): Promise<Instance> {
    const httpServer = createServer();
    const io = new Server(httpServer, { maxHttpBufferSize: 1024 * 1024 });
    const fanout = attachFanout(io, { kind, databaseUrl: runtimeUrl, redisUrl, logger });
    io.on('connection', (socket) => socket.on('cluster:subscribe', (clusterId: string) => void socket.join(clusterRoom(clusterId))));
    const gate = new LeaderGate(name, logger);
    // The real election: the first instance leads, and each lists the other (a lone instance publishes nothing).
    const election = startElection({ gate, url: runtimeUrl, selfUrl: `http://${name}`, pollMs: 100, logger });
    await election.firstRound;
    // Only the snapshot path runs here: the deps it never touches are left out.
    const unused = undefined as never;
    const sync = new InstanceSync({
      io,
      fanout: kind,
      gate,
      getService: unused,
      partitions: unused,
      lifecycle: unused,
      alerts: unused,
      rememberNonce: unused,
      local: {
        clusterUpdated: (snapshot) => io.local.to(clusterRoom(snapshot.clusterId)).emit('cluster:update', snapshot),
        partitionChanged: (partition) => io.local.to(clusterRoom(partition.clusterId)).emit('partition:changed', partition),
      },
      localAgents: () => [],
      handleRecovery: unused,
      agentReady: unused,
      agentGone: unused,
      staleAfterMs: 3000,
      logger,
      nowMs: () => Date.now(),
    });
    await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', () => resolve()));
    return {
      io,
      url: `http://127.0.0.1:${(httpServer.address() as AddressInfo).port}`,
      fanout,
      sync,
      gate,
      async close() {
        await election.stop();
        await new Promise<void>((resolve) => io.close(() => resolve()));
        await fanout.close();
      },
    };
  }

  before(async () => {
    database = await createTestDatabase();
    await applyMigrations(database.url, logger);
    runtimeUrl = (await prepareRuntimeRole(database.url, logger)).url;
    instances.push(await startInstance('leader'));
    instances.push(await startInstance('follower'));
    assert.deepEqual(instances.map((instance) => instance.gate.isLeader), [true, false]);
    await waitFor('each instance lists the other', () => instances.every((instance) => instance.gate.status().instances.length === 2), 15_000, 100);
    // Both adapters heard each other's heartbeat: a broadcast expects both.
    await waitFor('two servers in the adapter', async () => (await instances[0]!.io.of('/').adapter.serverCount()) === 2, 15_000, 100);
  });
  after(async () => {
    for (const client of clients) client.close();
    await Promise.all(instances.map((instance) => instance.close()));
    await database?.drop();
  });

  it('delivers a snapshot over the NOTIFY limit to a dashboard on another instance, whole', async () => {
    const [leader, follower] = instances as [Instance, Instance];
    const client = connect(follower.url, { transports: ['websocket'], forceNew: true });
    clients.push(client);
    const received: ClusterSnapshot[] = [];
    client.on('cluster:update', (snapshot: ClusterSnapshot) => received.push(snapshot));
    await new Promise<void>((resolve) => client.once('connect', () => resolve()));
    client.emit('cluster:subscribe', 'big');
    await new Promise((resolve) => setTimeout(resolve, 200));

    const snapshot = bigSnapshot(7);
    const bytes = Buffer.byteLength(JSON.stringify(snapshot));
    assert.ok(bytes > 8000 * 5, `the view is far over the NOTIFY limit: ${bytes} bytes`);
    leader.sync.publishSnapshot(snapshot);
    await waitFor('the big snapshot on the follower\'s dashboard', () => received.length > 0, 15_000, 20);
    assert.deepEqual(received[0], snapshot);
    assert.deepEqual(follower.sync.mirrored('big'), snapshot, 'the follower keeps the leader\'s latest for its own readers');

    leader.sync.publishSnapshot(bigSnapshot(6));
    leader.sync.publishSnapshot({ ...bigSnapshot(8), name: 'Big cluster, renamed' });
    await waitFor('the newer snapshot', () => received.some((update) => update.seq === 8), 15_000, 20);
    assert.equal(follower.sync.mirrored('big')?.seq, 8);
    assert.ok(!received.some((update) => update.seq === 6), 'an older snapshot is not delivered after a newer one');
    process.stdout.write(`# measured: ${bytes}-byte snapshot (${nodesInView} nodes) crossed instances through ${kind === 'postgres' ? 'the attachments table' : 'Redis'}\n`);
  });

  it('carries a command to an agent held by another instance and its large answer back', async () => {
    const [leader, follower] = instances as [Instance, Instance];
    follower.io.of('/agents').on('connection', (socket) => void socket.join('agent:big/node-1'));
    const agent = connect(`${follower.url}/agents`, { transports: ['websocket'], forceNew: true });
    clients.push(agent);
    const page = 'x'.repeat(20_000);
    agent.on('command', (command: { type: string }, reply: (answer: unknown) => void) => reply({ ok: true, data: { type: command.type, page } }));
    await new Promise<void>((resolve) => agent.once('connect', () => resolve()));
    await waitFor('two servers in the agents namespace', async () => (await leader.io.of('/agents').adapter.serverCount()) === 2, 15_000, 100);
    const replies = (await leader.io.of('/agents').to('agent:big/node-1').timeout(10_000).emitWithAck('command', { type: 'collect' })) as { ok: boolean; data: { page: string } }[];
    assert.equal(replies.length, 1);
    assert.equal(replies[0]!.data.page.length, page.length);
  });
});
