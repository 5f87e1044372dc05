/**
 * Proves, with real agent sockets, signed reports and real PostgreSQL, that a
 * credentialed agent cannot invent nodes: an agent whose hello and reports name
 * 50 peers that hold no credential adds no node, no cut link and no partition to
 * its cluster; what it said is shown to operators as evidence about that agent
 * (in the cluster view, for the API and dashboards). A peer whose credential is
 * issued after the cluster was loaded becomes a node once the members are read
 * again, within a bounded wait.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ClusterSnapshot } from '../../core/realtime-contract';
import { type AgentClientSocket, connectAgentClient, makeReport, signAs } from '../helpers/agent-client';
import { type TestServer, callApi, connectDashboard, startTestServer, waitFor } from '../helpers/server-harness';

const clusterId = 'members-test';
const ghosts = Array.from({ length: 50 }, (_, index) => `ghost-${index}`);
/** How long both agents report (ms): past the server's start-up grace (stale-after, 3 s) and the partition debounce. */
const reportingMs = 5000;
const reportEveryMs = 100;

interface Agent {
  agentId: string;
  token: string;
  socket: AgentClientSocket;
  sequence: number;
}

describe('cluster members come from credentials, not from what reports name', () => {
  let test: TestServer;
  let liar: Agent;
  let honest: Agent;

  const start = async (agentId: string, peers: string[]): Promise<Agent> => {
    const { token } = await test.server.credentials.issue({ clusterId, agentId, createdBy: 'test' });
    const socket = await connectAgentClient(test.url, token, clusterId, agentId);
    const hello = await socket.timeout(5000).emitWithAck('hello', { clusterId, agentId, address: '127.0.0.1:9', incarnation: 1, peers });
    assert.equal(hello.ok, true, `hello of ${agentId}`);
    return { agentId, token, socket, sequence: 0 };
  };
  const report = async (agent: Agent, peers: { peerId: string; reachable: boolean }[]) => {
    agent.sequence += 1;
    const observations = peers.map(({ peerId, reachable }) => ({ peerId, reachable, lastHeardAtMs: reachable ? Date.now() : null, sinceMs: 1, suspicion: reachable ? 0 : 1 }));
    const signed = signAs(agent.token, makeReport(clusterId, agent.agentId, agent.sequence, { observations }));
    const reply = await agent.socket.timeout(5000).emitWithAck('report', signed);
    assert.equal(reply.ok, true, `report ${agent.sequence} of ${agent.agentId}: ${JSON.stringify(reply)}`);
  };
  const snapshot = async () => {
    const reply = await callApi<ClusterSnapshot>(test.url, `/api/cluster?clusterId=${clusterId}`);
    assert.ok(reply.payload.ok, 'cluster view answered');
    return reply.payload.data;
  };

  before(async () => {
    test = await startTestServer();
    honest = await start('honest', ['liar']);
    liar = await start('liar', ['honest', ...ghosts]);
  });
  after(async () => {
    liar?.socket.close();
    honest?.socket.close();
    await test?.stop();
  });

  it('adds no node and no partition for 50 invented peers, and shows them as evidence about the agent', async () => {
    const until = Date.now() + reportingMs;
    while (Date.now() < until) {
      await Promise.all([
        report(honest, [{ peerId: 'liar', reachable: true }]),
        report(liar, [{ peerId: 'honest', reachable: true }, ...ghosts.map((peerId) => ({ peerId, reachable: false }))]),
      ]);
      await new Promise((resolve) => setTimeout(resolve, reportEveryMs));
    }
    const view = await snapshot();
    assert.deepEqual(view.nodes.map((node) => node.id), ['honest', 'liar'], 'only the credentialed agents are nodes');
    assert.equal(view.verdict.partitioned, false, `verdict: ${view.verdict.summary}`);
    assert.deepEqual(view.links, [], 'no cut link');
    assert.equal(await test.server.database.prisma.partition.count({ where: { clusterId } }), 0, 'no partition recorded');
    const evidence = view.unknownPeers.find((entry) => entry.observerId === 'liar');
    assert.ok(evidence, 'the liar is named in the view');
    assert.ok(evidence.count >= ghosts.length * 2, `every mention counted (${evidence.count})`);
    assert.ok(evidence.peerIds.every((peerId) => ghosts.includes(peerId)) && evidence.peerIds.length > 0);
    assert.equal(view.unknownPeers.some((entry) => entry.observerId === 'honest'), false, 'nothing against the honest agent');

    const dashboard = await connectDashboard(test.url, clusterId);
    try {
      assert.ok(dashboard.first.ok);
      const pushed = dashboard.first.data as ClusterSnapshot;
      assert.deepEqual(pushed.unknownPeers.map((entry) => entry.observerId), ['liar'], 'dashboards see the evidence too');
    } finally {
      dashboard.close();
    }
  });

  it('takes a peer whose credential is issued later as a node once the members are read again', async () => {
    const late = 'late-member';
    await test.server.credentials.issue({ clusterId, agentId: late, createdBy: 'test' });
    await waitFor(
      `${late} to become a node`,
      async () => {
        await report(honest, [{ peerId: 'liar', reachable: true }, { peerId: late, reachable: false }]);
        return (await snapshot()).nodes.some((node) => node.id === late);
      },
      8000,
      250,
    );
  });
});
