/**
 * Proves agent authentication end to end on a real server and PostgreSQL: each
 * agent has its own credential (issued by an admin, stored hashed, revocable);
 * a report signed with another agent's key, with an expired timestamp, replayed
 * byte for byte, unsigned, or naming another agent is refused and recorded as
 * evidence; a re-signed copy of a stored report gets the same acknowledgement
 * marked duplicate and is stored once; the shared token works for the demo
 * cluster only; /metrics, /api/ready and the admin routes answer as documented.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { reportSignatureWindowMs } from '../../core/protocol';
import { type AgentClientSocket, connectAgentClient, makeReport, signAs } from '../helpers/agent-client';
import { type TestServer, startTestServer } from '../helpers/server-harness';

const adminToken = 'test-admin-token-0123456789abcdef';
const cluster = 'auth-test';

async function findPromtool(): Promise<string | null> {
  try {
    const { stdout } = await promisify(execFile)('sh', ['-c', 'command -v promtool']);
    return stdout.trim() || null;
  } catch {
    return null;
  }
}

describe('agent authentication', () => {
  let test: TestServer;
  let tokenA: string;
  let tokenB: string;
  let credentialA: string;
  let socketA: AgentClientSocket;

  before(async () => {
    test = await startTestServer({ env: { FAULTLINE_ADMIN_TOKEN: adminToken } });
    const issuedA = await test.server.credentials.issue({ clusterId: cluster, agentId: 'a', createdBy: 'test' });
    const issuedB = await test.server.credentials.issue({ clusterId: cluster, agentId: 'b', createdBy: 'test' });
    tokenA = issuedA.token;
    tokenB = issuedB.token;
    credentialA = issuedA.credential.id;
    socketA = await connectAgentClient(test.url, tokenA, cluster, 'a');
  });
  after(async () => {
    socketA?.close();
    await test?.stop();
  });

  const stored = (agentId: string) => test.server.database.prisma.agentReport.count({ where: { clusterId: cluster, agentId } });
  const send = (socket: AgentClientSocket, report: ReturnType<typeof makeReport>) => socket.timeout(5000).emitWithAck('report', report);

  it('stores only the hash of a credential', async () => {
    const row = await test.server.database.prisma.agentCredential.findUniqueOrThrow({ where: { id: credentialA } });
    assert.notEqual(row.secretHash, tokenA);
    assert.ok(!row.secretHash.includes(tokenA.slice(4, 20)));
    assert.match(row.secretHash, /^[0-9a-f]{64}$/);
  });

  it('acknowledges a signed report once stored, and a re-sent copy with the same ack marked duplicate', async () => {
    const report = makeReport(cluster, 'a', 1);
    assert.deepEqual(await send(socketA, signAs(tokenA, report)), { ok: true, data: { sequence: 1, duplicate: false } });
    assert.equal(await stored('a'), 1);
    assert.deepEqual(await send(socketA, signAs(tokenA, report)), { ok: true, data: { sequence: 1, duplicate: true } });
    assert.equal(await stored('a'), 1, 'stored once');
  });

  it('refuses a byte-for-byte replay, an expired timestamp, a foreign key, no signature, a tampered body', async () => {
    const signed = signAs(tokenA, makeReport(cluster, 'a', 2));
    assert.equal((await send(socketA, signed)).ok, true);
    const cases: [string, ReturnType<typeof makeReport>, RegExp][] = [
      ['replay', signed, /replay/],
      ['expired', signAs(tokenA, makeReport(cluster, 'a', 3), Date.now() - reportSignatureWindowMs - 5000), /window/],
      ['future', signAs(tokenA, makeReport(cluster, 'a', 4), Date.now() + reportSignatureWindowMs + 5000), /window/],
      ['signed with agent b\'s key', signAs(tokenB, makeReport(cluster, 'a', 5)), /signature/],
      ['unsigned', makeReport(cluster, 'a', 6), /auth: required/],
      ['tampered after signing', { ...signAs(tokenA, makeReport(cluster, 'a', 7)), observations: [] }, /signature/],
    ];
    for (const [name, report, message] of cases) {
      const reply = await send(socketA, report);
      assert.equal(reply.ok, false, `${name} must be refused`);
      assert.equal(!reply.ok && reply.code, 'unauthorized', name);
      assert.match(!reply.ok ? reply.message : '', message, name);
    }
    assert.equal(await stored('a'), 2, 'nothing refused was stored');
  });

  it('an agent cannot speak for another: not in a report, not at the handshake', async () => {
    const reply = await send(socketA, signAs(tokenA, makeReport(cluster, 'b', 1)));
    assert.equal(!reply.ok && reply.code, 'forbidden');
    assert.equal(await stored('b'), 0);
    await assert.rejects(connectAgentClient(test.url, tokenB, cluster, 'a'), /forbidden/);
    await assert.rejects(connectAgentClient(test.url, tokenA, 'other-cluster', 'a'), /forbidden/);
    await assert.rejects(connectAgentClient(test.url, 'fla_not-a-real-token-at-all-000000', cluster, 'a'), /unauthorized/);
    await assert.rejects(connectAgentClient(test.url, test.server.agentToken, cluster, 'a'), /forbidden: the shared token is accepted only for demo/);
    const demo = await connectAgentClient(test.url, test.server.agentToken, 'demo', 'node-1');
    demo.close();
  });

  it('records refusals as evidence in the audit log and in metrics', async () => {
    await test.server.credentials.flushRefusals();
    const evidence = await test.server.database.prisma.auditEntry.findMany({ where: { action: 'agent.refused' } });
    const reasons = new Set(evidence.map((entry) => (entry.data as { reason: string }).reason));
    for (const reason of ['replay', 'expired', 'bad-signature', 'unsigned', 'wrong-identity', 'bad-token']) assert.ok(reasons.has(reason), `evidence of ${reason}`);
    const metrics = await (await fetch(`${test.url}/metrics`)).text();
    assert.match(metrics, /faultline_agent_refusals_total\{reason="replay"\} 1/);
  });

  it('issues and revokes through the admin routes, which refuse non-admins', async () => {
    const anonymous = await fetch(`${test.url}/api/agent-credentials`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ clusterId: cluster, agentId: 'c' }) });
    assert.equal(anonymous.status, 401);
    const admin = { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' };
    const issued = await fetch(`${test.url}/api/agent-credentials`, { method: 'POST', headers: admin, body: JSON.stringify({ clusterId: cluster, agentId: 'c' }) });
    assert.equal(issued.status, 201);
    const { data } = (await issued.json()) as { data: { id: string; token: string } };
    const socketC = await connectAgentClient(test.url, data.token, cluster, 'c');
    assert.equal((await send(socketC, signAs(data.token, makeReport(cluster, 'c', 1)))).ok, true);
    const disconnected = new Promise((resolve) => socketC.once('disconnect', resolve));
    const revoked = await fetch(`${test.url}/api/agent-credentials/${data.id}/revoke`, { method: 'POST', headers: admin, body: '{}' });
    assert.equal(revoked.status, 200);
    await disconnected;
    await assert.rejects(connectAgentClient(test.url, data.token, cluster, 'c'), /unauthorized/);
    const listed = await fetch(`${test.url}/api/agent-credentials?clusterId=${cluster}`, { headers: admin });
    const list = (await listed.json()) as { data: { agentId: string; revokedAtMs: number | null }[] };
    assert.equal(list.data.find((entry) => entry.agentId === 'c')?.revokedAtMs !== null, true);
    assert.equal(JSON.stringify(list).includes('secretHash'), false);
  });

  it('lets a console admin token issue credentials, and refuses an operator token', async () => {
    const body = JSON.stringify({ clusterId: cluster, agentId: 'd' });
    const asRole = async (role: 'operator' | 'admin') => {
      const { token } = await test.server.console.auth.createApiToken({ name: `${role}-cli`, role, createdBy: 'test' });
      return fetch(`${test.url}/api/agent-credentials`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body });
    };
    assert.equal((await asRole('operator')).status, 401);
    assert.equal((await asRole('admin')).status, 201);
  });

  it('answers readiness and serves metrics that promtool accepts', async () => {
    const ready = await fetch(`${test.url}/api/ready`);
    assert.equal(ready.status, 200);
    const response = await fetch(`${test.url}/metrics`);
    assert.match(response.headers.get('content-type') ?? '', /text\/plain/);
    const body = await response.text();
    for (const name of ['faultline_partitions_active', 'faultline_divergence_ratio', 'faultline_reports_total', 'faultline_report_ingest_lag_seconds', 'faultline_agent_outbox_depth', 'faultline_database_up 1']) {
      assert.ok(body.includes(name), `exposes ${name}`);
    }
    const promtool = await findPromtool();
    if (!promtool) {
      console.log('promtool not installed; skipping `promtool check metrics` (Debian package: prometheus)');
      return;
    }
    const child = execFile(promtool, ['check', 'metrics']);
    child.stdin!.end(body);
    const [code, output] = await new Promise<[number | null, string]>((resolve) => {
      let text = '';
      child.stdout!.on('data', (chunk) => (text += chunk));
      child.stderr!.on('data', (chunk) => (text += chunk));
      child.on('close', (exitCode) => resolve([exitCode, text]));
    });
    assert.equal(code, 0, `promtool check metrics failed:\n${output}`);
  });
});
