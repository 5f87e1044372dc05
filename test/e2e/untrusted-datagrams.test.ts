/**
 * End to end with the real server on the real PostgreSQL and five real agent
 * processes on real UDP: the attack of issue 17 items 1 and 2, from a UDP port no
 * agent uses and without the cluster key's help for the forgeries:
 * - six datagrams with a bad signature claiming to be node-2, to every other agent;
 * - six of node-4's heartbeats (its incarnation, its first sequence numbers, signed as
 *   it signed them), replayed to every other agent once node-4 has moved on.
 * For several seconds after (bounded), no partition opens, nothing is stored, no agent
 * is fenced and nobody is called byzantine, while the verdict lists the untrusted
 * traffic with the attacker's address and the nodes it named.
 */
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { after, before, describe, it } from 'node:test';
import { encodeHeartbeat } from '../../agent/heartbeat-codec';
import { parseEndpoint } from '../../agent/transport/transport';
import type { ClusterSnapshot } from '../../core/realtime-contract';
import { type TestServer, callApi, startTestServer, waitFor } from '../helpers/server-harness';

const clusterId = 'demo';
const agentIds = ['node-1', 'node-2', 'node-3', 'node-4', 'node-5'];
/** Datagrams of each kind sent to each agent, as in the attack report. */
const attackDatagrams = 6;
/** How long node-4 must have run before its first heartbeats are behind every receiver's replay window (ms): at 5 heartbeats/s, 20 s is ~100 sequence numbers, past the window of 64. */
const replayAgeMs = 20_000;
/** How long the cluster is watched after the attack (ms): many times the 1.5 s the attack needed, and past the open window. */
const watchMs = 6_000;

describe('forged and replayed heartbeats at a running cluster', () => {
  let test: TestServer;
  const attacker = createSocket('udp4');

  before(async () => {
    test = await startTestServer({ agents: agentIds.length, env: { FAULTLINE_STABILITY_WINDOW_MS: '500' } });
    await new Promise<void>((resolve) => attacker.bind(0, '127.0.0.1', () => resolve()));
    await waitFor('a whole cluster with every node reporting', () => {
      const latest = test.server.service.findCluster(clusterId)?.snapshot(Date.now(), 5_000);
      return latest && latest.nodes.length === agentIds.length && latest.nodes.every((node) => !node.stale && node.address) && !latest.verdict.partitioned;
    }, 60_000, 200);
  });
  after(async () => {
    await new Promise<void>((resolve) => attacker.close(() => resolve()));
    await test?.stop();
  });

  it('opens no partition, fences nobody and accuses nobody; the verdict shows the untrusted traffic', async () => {
    const cluster = test.server.service.getClusterOrThrow(clusterId);
    const endpointOf = (id: string) => parseEndpoint(cluster.nodes.get(id)!.address!);
    const nodeFour = cluster.nodes.get('node-4')!;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, nodeFour.incarnation + replayAgeMs - Date.now())));
    const send = (id: string, bytes: Uint8Array) => {
      const to = endpointOf(id);
      return new Promise<void>((resolve, reject) => attacker.send(bytes, to.port, to.host, (error) => (error ? reject(error) : resolve())));
    };
    const forged = (index: number) =>
      encodeHeartbeat('an-attacker-key-not-the-cluster-key', { clusterId, from: 'node-2', incarnation: Date.now(), sequence: 1_000_000 + index, sentAtMs: Date.now() });
    // What node-4 put on the wire at its start: a listener's capture, replayed now.
    const captured = (sequence: number) => encodeHeartbeat(test.server.clusterKey, { clusterId, from: 'node-4', incarnation: nodeFour.incarnation, sequence, sentAtMs: nodeFour.incarnation });
    const source = `127.0.0.1:${attacker.address().port}`;
    for (const id of agentIds) {
      for (let index = 0; index < attackDatagrams; index += 1) {
        if (id !== 'node-2') await send(id, forged(index));
        if (id !== 'node-4') await send(id, captured(index + 1));
      }
    }
    const attackedAtMs = Date.now();

    let last: ClusterSnapshot | null = null;
    while (Date.now() - attackedAtMs < watchMs) {
      const snapshot = test.server.service.snapshot(clusterId);
      last = snapshot;
      const { verdict } = snapshot;
      assert.equal(verdict.partitioned, false, `no partition: ${verdict.summary}`);
      assert.deepEqual(verdict.byzantine, { nodes: [], links: [] }, 'nobody byzantine');
      assert.equal(snapshot.activePartition, null, 'no partition opened');
      for (const node of snapshot.nodes) assert.equal(node.dataPlane?.fence ?? null, null, `${node.id} not fenced`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }

    assert.equal(await test.server.database.prisma.partition.count(), 0, 'no partition stored');
    const partitions = await callApi<unknown[] | { items: unknown[] }>(test.url, `/api/partitions?clusterId=${clusterId}&limit=10`);
    assert.ok(partitions.payload.ok);
    const listed = partitions.payload.data;
    assert.equal(Array.isArray(listed) ? listed.length : listed.items.length, 0);
    // Evidence stays current for 30 s, so the last verdict still lists the whole attack.
    const seenUntrusted = last!.verdict.untrustedTraffic.filter((group) => group.source === source);
    assert.deepEqual(
      seenUntrusted.map((group) => group.observerId).sort(),
      agentIds,
      'every agent saw untrusted traffic from the attacker',
    );
    for (const group of seenUntrusted) {
      assert.equal(group.linkPeerId, null, 'the attacker uses no agent\'s address');
      const expectedNamed = agentIds.filter((id) => id !== group.observerId && (id === 'node-2' || id === 'node-4'));
      assert.deepEqual(group.namedIds, expectedNamed, `${group.observerId}: the datagrams named ${expectedNamed.join(', ')}`);
      const expectedKinds = [...(group.observerId !== 'node-2' ? ['bad-signature'] : []), ...(group.observerId !== 'node-4' ? ['replay'] : [])];
      assert.deepEqual(group.kinds, expectedKinds, `${group.observerId}: kinds`);
      assert.equal(group.count, expectedKinds.length * attackDatagrams, `${group.observerId}: count`);
    }
  });
});
