/**
 * Self-fencing: the majority rule as a table, and a real agent beside a real
 * redis-server whose peers never answer: once its detector finds them unreachable
 * the agent fences Redis on its own (no server needed), and a real client's write is
 * refused with NOREPLICAS.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { Redis } from 'ioredis';
import { type RunningAgent, startAgent } from '../../agent';
import { loadAgentConfig } from '../../config';
import { freeLoopbackPorts, type LocalRedisProcess, redisScratchDir, redisServerAvailable, startRedisServer } from '../../../local-stores/redis';
import { majorityLost, selfFencePartitionId } from './self-fence';

const skip = redisServerAvailable() ? false : 'redis-server is not installed';
let agent: RunningAgent | undefined;
let server: LocalRedisProcess | undefined;
let scratch: Awaited<ReturnType<typeof redisScratchDir>> | undefined;
after(async () => {
  await agent?.close();
  await server?.kill();
  await scratch?.remove();
});

test('majority lost: the agent and the peers it hears are at most half', () => {
  const view = (...reachable: boolean[]) => reachable.map((value) => ({ reachable: value }));
  const cases: [ReturnType<typeof view>, boolean][] = [
    [view(true, true), false],
    [view(true, false), false],
    [view(false, false), true],
    [view(false), true],
    [view(true, false, false), true],
    [view(true, true, false, false), false],
    [view(), false],
  ];
  for (const [observations, lost] of cases) assert.equal(majorityLost(observations), lost, JSON.stringify(observations));
});

test('an agent that hears none of its peers fences its Redis by itself', { skip, timeout: 30_000 }, async () => {
  scratch = await redisScratchDir('fl-redis-self-fence');
  server = await startRedisServer({ dir: scratch.dir });
  const [listen, silentA, silentB] = await freeLoopbackPorts(3);
  agent = await startAgent(loadAgentConfig([
    '--id', 'node-1', '--listen', `127.0.0.1:${listen}`, '--peers', `node-2=127.0.0.1:${silentA},node-3=127.0.0.1:${silentB}`,
    '--server', 'http://127.0.0.1:9', '--heartbeat-interval-ms', '100', '--join-grace-ms', '0', '--outbox-dir', 'memory',
    '--log-level', 'silent', '--data-plane', server.url,
  ], { NODE_ENV: 'test', FAULTLINE_AGENT_TOKEN: 'self-fence-test-token', FAULTLINE_CLUSTER_KEY: 'self-fence-test-cluster-key' }));
  const client = new Redis({ host: '127.0.0.1', port: server.port, maxRetriesPerRequest: 0 });
  client.on('error', () => undefined);
  try {
    const deadline = Date.now() + 20_000;
    while (agent.dataPlane.status().fence?.partitionId !== selfFencePartitionId && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    assert.deepEqual(agent.dataPlane.status().fence, { partitionId: selfFencePartitionId, mode: 'read-only' });
    await assert.rejects(client.set('k', 'v'), /NOREPLICAS/);
  } finally {
    client.disconnect();
  }
});
