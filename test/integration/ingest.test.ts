/**
 * Proves the ingest path against the real PostgreSQL and against the embedded
 * PGlite default: a valid report is stored once and acknowledged after the write;
 * a resent report is acknowledged as a duplicate and not stored again; a malformed
 * report gets an error naming the bad field, one past `reportBytesMax` is refused as
 * too large, neither stores anything, and the connection stays usable; a report that speaks for another agent is refused;
 * the health and cluster endpoints answer what they promise.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { io, type Socket } from 'socket.io-client';
import { type AgentReportInput, reportBytesMax, reportEvidenceMax, reportPeersMax } from '../../core/protocol';
import { type AgentToServerEvents, type ServerToAgentEvents, agentNamespace } from '../../core/realtime-contract';
import { signAs } from '../helpers/agent-client';
import { type TestServer, callApi, startTestServer } from '../helpers/server-harness';

/** Token of the agent n1, issued per test server (each agent has its own credential). */
const tokens = new Map<TestServer, string>();
/** Signs a report as n1 would at each transmission (see core/report-signature.ts). */
const signed = (test: TestServer, input: AgentReportInput) => signAs(tokens.get(test)!, input as Parameters<typeof signAs>[1]);

function report(sequence: number, overrides: Partial<AgentReportInput> = {}): AgentReportInput {
  return {
    clusterId: 'itest',
    agentId: 'n1',
    incarnation: 1,
    sequence,
    sentAtMs: Date.now(),
    heartbeatIntervalMs: 100,
    observations: [{ peerId: 'n2', reachable: true, lastHeardAtMs: Date.now(), sinceMs: 0, suspicion: 0 }],
    evidence: [],
    ...overrides,
  };
}

async function connectAgent(test: TestServer, agentId = 'n1'): Promise<Socket<ServerToAgentEvents, AgentToServerEvents>> {
  const socket: Socket<ServerToAgentEvents, AgentToServerEvents> = io(`${test.url}${agentNamespace}`, {
    transports: ['websocket'],
    auth: { token: tokens.get(test)!, clusterId: 'itest', agentId },
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
  return socket;
}

for (const database of ['postgres', 'embedded'] as const) {
  describe(`ingest (${database} database)`, () => {
    let test: TestServer;
    let agent: Socket<ServerToAgentEvents, AgentToServerEvents>;

    before(async () => {
      test = await startTestServer({ database });
      tokens.set(test, (await test.server.credentials.issue({ clusterId: 'itest', agentId: 'n1', createdBy: 'test' })).token);
      // n2 holds a credential but never connects: a member, so n1's word about it counts.
      await test.server.credentials.issue({ clusterId: 'itest', agentId: 'n2', createdBy: 'test' });
      agent = await connectAgent(test);
      const hello = await agent.timeout(5000).emitWithAck('hello', { clusterId: 'itest', agentId: 'n1', address: '127.0.0.1:1', incarnation: 1, peers: ['n2'] });
      assert.equal(hello.ok, true);
    });
    after(async () => {
      agent?.close();
      await test?.stop();
    });

    const storedCount = () => test.server.database.prisma.agentReport.count({ where: { agentId: 'n1' } });

    it('stores a valid report once, acknowledging after the write', async () => {
      const first = report(1);
      const reply = await agent.timeout(5000).emitWithAck('report', signed(test, first));
      assert.deepEqual(reply, { ok: true, data: { sequence: 1, duplicate: false } }, 'the first copy is new');
      assert.equal(await storedCount(), 1, 'acknowledged means already in the database');
      // The agent resends what it has no acknowledgement for: the same report, signed afresh.
      const again = await agent.timeout(5000).emitWithAck('report', signed(test, first));
      assert.deepEqual(again, { ok: true, data: { sequence: 1, duplicate: true } }, 'a resent report is acknowledged as a duplicate');
      assert.equal(await storedCount(), 1, 'and not stored twice');
    });

    it('refuses a malformed report with a message naming the field, stores nothing, keeps the connection', async () => {
      const before = await storedCount();
      const bad = { ...report(2), observations: [{ peerId: 'n2', reachable: 'yes' }] };
      const reply = await agent.timeout(5000).emitWithAck('report', bad as unknown as AgentReportInput);
      assert.equal(reply.ok, false);
      assert.equal(!reply.ok && reply.code, 'invalid_input');
      assert.match(!reply.ok ? reply.message : '', /observations\.0\.reachable/);
      assert.equal(await storedCount(), before);
      assert.equal(agent.connected, true);
      const next = await agent.timeout(5000).emitWithAck('report', signed(test, report(3)));
      assert.equal(next.ok, true, 'the same connection still works');
      assert.equal(await storedCount(), before + 1);
    });

    it('refuses a report larger than reportBytesMax as payload_too_large, stores nothing, keeps the connection', async () => {
      const before = await storedCount();
      // Valid by the schema's counts (1024 peers), too large by bytes: the byte limit is a rule of its own.
      const longId = (index: number) => `${'x'.repeat(64)}${index}`.slice(-64);
      const observations = Array.from({ length: reportPeersMax }, (_, index) => ({ peerId: longId(index), reachable: false, lastHeardAtMs: Date.now(), sinceMs: Date.now(), suspicion: 123.456789, probe: 'inconclusive' as const }));
      const evidence = Array.from({ length: reportEvidenceMax }, (_, index) => ({ kind: 'malformed' as const, peerId: longId(index), linkPeerId: longId(index + 1), source: `${'h'.repeat(290)}:${index}`, count: 1, lastAtMs: Date.now() }));
      const large = signed(test, report(5, { observations, evidence }));
      assert.ok(Buffer.byteLength(JSON.stringify(large)) > reportBytesMax);
      const reply = await agent.timeout(5000).emitWithAck('report', large);
      assert.equal(!reply.ok && reply.code, 'payload_too_large', JSON.stringify(reply).slice(0, 200));
      assert.match(!reply.ok ? reply.message : '', /reportBytesMax/);
      assert.equal(await storedCount(), before);
      assert.equal(agent.connected, true);
    });

    it('refuses a report that speaks for another agent', async () => {
      const reply = await agent.timeout(5000).emitWithAck('report', signed(test, report(4, { agentId: 'n2' })));
      assert.equal(!reply.ok && reply.code, 'forbidden');
      assert.equal(await test.server.database.prisma.agentReport.count({ where: { agentId: 'n2' } }), 0);
    });

    it('refuses an agent with a wrong token at the handshake', async () => {
      const socket = io(`${test.url}${agentNamespace}`, {
        transports: ['websocket'],
        reconnection: false,
        auth: { token: 'wrong-token-wrong-token', clusterId: 'itest', agentId: 'n9' },
      });
      const error = await new Promise<Error>((resolve) => socket.once('connect_error', resolve));
      socket.close();
      assert.match(error.message, /unauthorized/);
    });

    it('answers health and cluster', async () => {
      const health = await callApi<{ status: string; database: { ok: boolean; embedded: boolean }; agentsConnected: number }>(test.url, '/api/health');
      assert.equal(health.status, 200);
      assert.equal(health.payload.ok && health.payload.data.database.ok, true);
      assert.equal(health.payload.ok && health.payload.data.database.embedded, database === 'embedded');
      assert.equal(health.payload.ok && health.payload.data.agentsConnected, 1);
      const cluster = await callApi<{ nodes: { id: string }[] }>(test.url, '/api/cluster?clusterId=itest');
      assert.deepEqual(cluster.payload.ok && cluster.payload.data.nodes.map((node) => node.id), ['n1', 'n2']);
      const missing = await callApi(test.url, '/api/cluster?clusterId=nope');
      assert.equal(missing.status, 404);
      const badInput = await callApi(test.url, '/api/faults/cut', { method: 'POST', body: { clusterId: 'itest', from: 'n1' } });
      assert.equal(badInput.status, 400);
      assert.match(!badInput.payload.ok ? badInput.payload.message : '', /to:/);
    });
  });
}
