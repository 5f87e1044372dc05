/**
 * Proves, with whole in-process agents (`startAgent` from real command-line flags) on
 * real UDP sockets on loopback, that a write through one agent's store HTTP API is
 * replicated to every peer; that a fault rule cutting one agent off stops replication
 * both ways, so each side keeps writes the other never sees (while heartbeats and
 * replication share one socket); that replication resumes when the cut is lifted; that
 * reports carry the data-plane status; and, under a steady --write-rate load, how many
 * replication datagrams per second the load costs (printed); that a value far past
 * one datagram, up to `valueBytesMax`, written through the HTTP API reaches every peer
 * in fragments over real UDP, and one past it is refused with 413 and its reason; and
 * that a replication datagram sent during a split and delivered over real UDP only
 * after a prefer-majority-side reconciliation discarded its version is refused by
 * every peer (reconciliation is final). Bounded: a few seconds.
 */
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { after, test } from 'node:test';
import { valueBytesMax } from '../core/reconcile/data-plane-commands';
import { type RunningAgent, startAgent } from './agent';
import type { DataPlane } from './data-plane';
import { loadAgentConfig } from './config';
import { MemoryOutbox } from './outbox';
import { preferMajoritySide } from '../core/reconcile/resolver';
import { type TestNode, healCluster, reconcileThroughCommands, startDataPlaneCluster, testClusterKey, waitFor } from './testing/data-plane-cluster';
import { HoldingTransport } from './testing/holding-transport';
import { UdpTransport } from './transport/udp-transport';

const running: RunningAgent[] = [];
/** The reference data plane of an agent started without --data-plane. */
const plane = (agent: { dataPlane: RunningAgent['dataPlane'] }): DataPlane => {
  assert.equal(agent.dataPlane.kind, 'reference');
  return agent.dataPlane as DataPlane;
};
const planes: { nodes: TestNode[]; sockets: UdpTransport[] }[] = [];
after(async () => {
  await Promise.all(running.map((agent) => agent.close()));
  for (const { nodes, sockets } of planes) {
    for (const node of nodes) await node.dataPlane.close();
    await Promise.all(sockets.map((socket) => socket.close()));
  }
});

async function freePort(kind: 'udp' | 'tcp'): Promise<number> {
  if (kind === 'udp') {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
    const { port } = socket.address();
    await new Promise<void>((resolve) => socket.close(() => resolve()));
    return port;
  }
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Starts `count` agents peering with each other; `extra(index)` adds flags per agent. */
async function startAgents(count: number, extra: (index: number) => string[]): Promise<RunningAgent[]> {
  const ports = await Promise.all(Array.from({ length: count }, () => freePort('udp')));
  const ids = ports.map((_, index) => `node-${index + 1}`);
  const env = { ...process.env, FAULTLINE_AGENT_TOKEN: 'test-agent-token-0123456789', FAULTLINE_CLUSTER_KEY: testClusterKey };
  const agents = await Promise.all(
    ids.map((id, index) => {
      const peers = ids.flatMap((peer, peerIndex) => (peerIndex === index ? [] : [`${peer}=127.0.0.1:${ports[peerIndex]}`]));
      const argv = ['--id', id, '--cluster', 'udp-test', '--listen', `127.0.0.1:${ports[index]}`, '--peers', peers.join(','),
        // Nothing listens on port 9: the agents run without a control server, as during a server outage.
        '--server', 'http://127.0.0.1:9', '--heartbeat-interval-ms', '100', '--outbox-dir', 'memory', '--log-level', 'silent', ...extra(index)];
      return startAgent(loadAgentConfig(argv, env), { outbox: new MemoryOutbox() });
    }),
  );
  running.push(...agents);
  return agents;
}

const cut = (agents: readonly RunningAgent[], isolated: RunningAgent) => {
  for (const agent of agents) {
    const others = agent === isolated ? agents.filter((other) => other !== isolated) : [isolated];
    agent.transport.setRules(others.map((other) => ({ peerId: other.config.id, dropOutbound: true, dropInbound: true })));
  }
};

test('real UDP: writes replicate, a cut stops replication both ways, healing resumes it', async () => {
  const storePort = await freePort('tcp');
  const agents = await startAgents(3, (index) => (index === 0 ? ['--store-listen', `127.0.0.1:${storePort}`] : []));
  const [one, two, three] = agents as [RunningAgent, RunningAgent, RunningAgent];
  const put = await fetch(`http://127.0.0.1:${storePort}/kv/greeting`, { method: 'PUT', body: JSON.stringify({ value: 'hello' }) });
  assert.equal(put.status, 200);
  await waitFor(() => agents.every((agent) => plane(agent).store.get('greeting')?.value === 'hello'), 3000, 'HTTP write replicated');

  cut(agents, three);
  for (let index = 0; index < 20; index++) {
    plane(one).store.put(`one-${index}`, 'a');
    plane(three).store.put(`three-${index}`, 'b');
  }
  await waitFor(() => plane(two).store.get('one-19') !== undefined, 3000, 'replication inside the majority side');
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal(plane(three).store.get('one-0'), undefined, 'node-3 must not receive writes across the cut');
  assert.equal(plane(two).store.get('three-0'), undefined, 'node-2 must not receive writes across the cut');
  assert.deepEqual(agents.map((agent) => plane(agent).store.stats().keys), [21, 21, 21]);
  assert.notEqual(one.dataPlane.status().digestRoot, three.dataPlane.status().digestRoot);

  for (const agent of agents) agent.transport.setRules([]);
  plane(one).store.put('after-heal', 'x');
  await waitFor(() => plane(three).store.get('after-heal') !== undefined, 3000, 'replication after healing');
  // Writes made during the cut stay lost until reconciliation: replication is fire and forget.
  assert.equal(plane(three).store.get('one-0'), undefined);

  const reported = await one.outbox.peekBatch(1000);
  const statuses = reported.map((entry) => entry.report.dataPlane).filter((status) => status !== undefined);
  assert.ok(statuses.length > 0, 'reports carry the data-plane status');
  assert.ok(statuses.every((status) => /^[0-9a-f]{16}$/.test(status.digestRoot)));
});

test('real UDP: a steady write load replicates in batched datagrams', async () => {
  const rate = 200;
  const agents = await startAgents(2, (index) => ['--write-rate', String(index === 0 ? rate : 0), '--write-keys', '100000']);
  const [writer, reader] = agents as [RunningAgent, RunningAgent];
  const startedMs = Date.now();
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const elapsedS = (Date.now() - startedMs) / 1000;
  const writes = plane(writer).store.stats().writesAccepted;
  // The writer's key space is seeded (not replicated); the reader has only what replication brought.
  await waitFor(() => plane(reader).replicator.stats().entriesApplied === plane(writer).replicator.stats().entriesSent, 2000, 'reader catching up');
  const sent = plane(writer).replicator.stats();
  assert.ok(writes >= rate * elapsedS * 0.7 && writes <= rate * elapsedS * 1.2, `${writes} writes in ${elapsedS} s at ${rate}/s`);
  assert.equal(plane(reader).replicator.stats().entriesApplied, sent.entriesSent);
  process.stdout.write(
    `# write load ${rate}/s: ${writes} writes in ${elapsedS.toFixed(2)} s, ${sent.datagramsSent} replication datagrams ` +
      `(${(sent.datagramsSent / elapsedS).toFixed(0)}/s to one peer, ${(sent.entriesSent / sent.datagramsSent).toFixed(2)} entries each)\n`,
  );
});

test('real UDP: a value up to valueBytesMax written over HTTP reaches every peer in fragments; a larger one gets 413', async () => {
  const storePort = await freePort('tcp');
  const agents = await startAgents(3, (index) => (index === 0 ? ['--store-listen', `127.0.0.1:${storePort}`] : []));
  const maximal = 'ü'.repeat(valueBytesMax / 2);
  const values = new Map([['big-30k', 'x'.repeat(30_000)], ['big-max', maximal]]);
  for (const [key, value] of values) {
    const put = await fetch(`http://127.0.0.1:${storePort}/kv/${key}`, { method: 'PUT', body: JSON.stringify({ value }) });
    assert.equal(put.status, 200, await put.text());
  }
  await waitFor(() => agents.every((agent) => [...values].every(([key, value]) => plane(agent).store.get(key)?.value === value)), 5000, 'large values replicated over UDP');
  const sent = plane(agents[0]!).replicator.stats();
  assert.equal(sent.entriesFragmented, 4);
  const refused = await fetch(`http://127.0.0.1:${storePort}/kv/big-over`, { method: 'PUT', body: JSON.stringify({ value: `${maximal}!` }) });
  assert.equal(refused.status, 413);
  const body = (await refused.json()) as { ok: boolean; code: string; message: string };
  assert.deepEqual({ ok: body.ok, code: body.code }, { ok: false, code: 'payload_too_large' });
  assert.match(body.message, new RegExp(`at most ${valueBytesMax} \\(valueBytesMax\\)`));
  assert.equal(plane(agents[1]!).store.get('big-over'), undefined);
  process.stdout.write(`# ${values.size} large values to 2 peers over UDP: ${sent.fragmentsSent} fragments, ${sent.datagramsSent} datagrams\n`);
});

test('real UDP: a datagram held through the heal and delivered after prefer-majority-side reconciled is refused', async () => {
  const sockets = await Promise.all([1, 2, 3].map(() => UdpTransport.bind({ host: '127.0.0.1', port: 0 })));
  const delayed = new HoldingTransport(sockets[2]!);
  const nodes = await startDataPlaneCluster([sockets[0]!, sockets[1]!, delayed]);
  planes.push({ nodes, sockets });
  const [one, two, three] = nodes as [TestNode, TestNode, TestNode];
  plane(one).store.put('k', 'before');
  await waitFor(() => nodes.every((node) => plane(node).store.get('k')?.value === 'before'), 3000, 'the first write everywhere');

  const splitAtMs = Date.now();
  // node-3 hears nobody, and what it sends to the majority is held in flight rather than dropped.
  three.transport.setRules(['node-1', 'node-2'].map((peerId) => ({ peerId, dropOutbound: false, dropInbound: true })));
  for (const node of [one, two]) node.transport.setRules([{ peerId: 'node-3', dropOutbound: true, dropInbound: true }]);
  delayed.hold(sockets[0]!.local, sockets[1]!.local);
  plane(one).store.put('k', 'majority');
  await waitFor(() => plane(two).store.get('k')?.value === 'majority', 3000, 'the majority write on node-2');
  await new Promise((resolve) => setTimeout(resolve, 5));
  const minority = plane(three).store.put('k', 'minority');
  await waitFor(() => delayed.heldCount() === 2, 3000, "node-3's datagrams held");

  healCluster(nodes);
  const reconciled = await reconcileThroughCommands(nodes, splitAtMs - 500, 10_000, { resolver: preferMajoritySide, majorityNodes: ['node-1', 'node-2'] });
  assert.equal(reconciled.conflicts, 1);
  assert.equal(new Set(reconciled.roots.values()).size, 1);
  assert.ok(minority.ok && nodes.every((node) => plane(node).store.get('k')?.value === 'majority'));

  const receivedBefore = [one, two].map((node) => plane(node).replicator.stats().datagramsReceived);
  assert.equal(delayed.release(), 2);
  await waitFor(() => [one, two].every((node, index) => plane(node).replicator.stats().datagramsReceived > receivedBefore[index]!), 3000, 'the late datagrams arriving');
  for (const node of nodes) assert.equal(plane(node).store.get('k')?.value, 'majority', `${node.id} keeps the reconciled version`);
  assert.deepEqual([one, two].map((node) => plane(node).replicator.stats().entriesBelowFloor), [1, 1]);
  assert.equal(new Set(nodes.map((node) => node.dataPlane.status().digestRoot)).size, 1);
});
