/**
 * Proves, across a real restart on real PostgreSQL, that the server remembers the
 * agents it knew: their cluster is listed at once; during the reconnect grace the
 * server is ready (agents can reach it through a readiness-gated balancer); past
 * the grace a known agent that has not come back raises an `agent-missing` alert
 * and /api/ready answers 503 naming how many are missing (`faultline_agents_missing`
 * counts them); its return resolves the alert and the server is ready again. An
 * agent that leaves after coming back raises the alert again but does not make
 * the server unready.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type AgentClientSocket, connectAgentClient } from '../helpers/agent-client';
import { type TestDatabase, createTestDatabase } from '../helpers/database';
import { type TestServer, callApi, startTestServer, waitFor } from '../helpers/server-harness';

const cluster = 'presence-test';
const graceMs = 4000;

type ReadyAnswer = { ok: boolean; data: { reasons: string[]; agents: { known: number; missing: number; missingSinceStart: number } } };

describe('known agents across a restart', () => {
  let database: TestDatabase;
  let server: TestServer | null = null;
  const sockets: AgentClientSocket[] = [];
  const tokens = new Map<string, string>();

  before(async () => {
    database = await createTestDatabase();
  });
  after(async () => {
    for (const socket of sockets) socket.close();
    await server?.stop();
    await database?.drop();
  });

  const start = () => startTestServer({ reuseDatabase: database, env: { FAULTLINE_AGENT_RECONNECT_GRACE_MS: String(graceMs) } });
  const connect = async (agentId: string) => {
    const socket = await connectAgentClient(server!.url, tokens.get(agentId)!, cluster, agentId);
    sockets.push(socket);
    const reply = await socket.timeout(5000).emitWithAck('hello', { clusterId: cluster, agentId, address: '127.0.0.1:9', incarnation: 1, peers: ['a', 'b'].filter((id) => id !== agentId) });
    assert.equal(reply.ok, true);
    return socket;
  };
  const ready = async () => {
    const response = await fetch(`${server!.url}/api/ready`);
    return { status: response.status, body: (await response.json()) as ReadyAnswer };
  };
  const missingAlerts = async (agentId: string) => {
    const { payload } = await callApi<{ rule: string; status: string }[]>(server!.url, `/api/alerts?clusterId=${cluster}`);
    assert.ok(payload.ok);
    return payload.data.filter((alert) => alert.rule === `agent-missing:${agentId}`);
  };

  it('lists the cluster, alerts on a known agent that stays away, and is not ready until it is back', async () => {
    server = await start();
    for (const agentId of ['a', 'b']) tokens.set(agentId, (await server.server.credentials.issue({ clusterId: cluster, agentId, createdBy: 'test' })).token);
    await connect('a');
    await connect('b');
    for (const socket of sockets.splice(0)) socket.close();
    await server.stop();
    server = await start();
    const { payload } = await callApi<{ id: string; nodes: number }[]>(server.url, '/api/clusters');
    assert.ok(payload.ok);
    assert.deepEqual(payload.data.find((entry) => entry.id === cluster), { id: cluster, name: cluster, demo: false, nodes: 2 }, 'the cluster survives the restart');
    const early = await ready();
    assert.equal(early.status, 200, `ready during the grace: ${JSON.stringify(early.body)}`);
    assert.equal(early.body.data.agents.known, 2);

    await connect('a');
    const unready = await waitFor('503 once the grace is over', async () => {
      const answer = await ready();
      return answer.status === 503 ? answer : null;
    }, graceMs + 5000);
    assert.match(unready.body.data.reasons.join('; '), /agents: 1 of 2 known agents have not reconnected since the server started/);
    assert.equal(unready.body.data.agents.missingSinceStart, 1);
    assert.match(await (await fetch(`${server.url}/metrics`)).text(), /^faultline_agents_missing 1$/m);
    const firing = await waitFor('an agent-missing alert for b', async () => (await missingAlerts('b')).find((alert) => alert.status === 'firing'));
    assert.ok(firing);
    assert.deepEqual(await missingAlerts('a'), [], 'no alert for the agent that came back');

    const b = await connect('b');
    assert.equal((await ready()).status, 200, 'ready once every known agent is back');
    await waitFor('the alert resolved', async () => (await missingAlerts('b')).every((alert) => alert.status === 'resolved'));

    b.close();
    await waitFor('a new alert once b leaves again', async () => (await missingAlerts('b')).some((alert) => alert.status === 'firing'), graceMs + 5000);
    assert.equal((await ready()).status, 200, 'an agent that left after coming back is a node problem, not an unready server');
  });
});
