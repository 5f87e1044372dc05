/**
 * Proves, on a real server, real PostgreSQL and real Socket.IO, that the audit log
 * cannot be left behind by the action it records: an accepted action and its entry
 * commit together, and when the entry cannot be written (a trigger refuses it) the
 * action is refused and leaves nothing (tokens, agent credentials), or never acts
 * (fault injection). Hostile text in a field the action ignores no longer drops the
 * entry; NUL and lone surrogates in accepted fields, and history, alert and audit
 * bounds out of range, are 400s naming the field, not 500s. Refused agent-credential
 * requests and refused Socket.IO handshakes, events and agent hellos are audited; `__proto__`,
 * `constructor` and `toString` are unknown events; a sign-in records who signed in.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { io } from 'socket.io-client';
import { agentNamespace } from '../../core/realtime-contract';
import { type AgentClientSocket, connectAgentClient } from '../helpers/agent-client';
import { type TestServer, callApi, signIn, startTestServer, testAdminPassword } from '../helpers/server-harness';

const clusterId = 'audit';

type Failure = { ok: false; code: string; message: string };

describe('audit entries commit with their action', () => {
  let test_: TestServer;
  const prisma = () => test_.server.database.prisma;
  const entries = (action: string) => prisma().auditEntry.findMany({ where: { action }, orderBy: { id: 'asc' } });

  /** Runs DDL as the database's owner: the server's own runtime role may not create triggers. */
  async function asOwner(sql: string): Promise<void> {
    const owner = new pg.Client({ connectionString: test_.database!.url });
    await owner.connect();
    try {
      await owner.query(sql);
    } finally {
      await owner.end();
    }
  }

  /** Makes PostgreSQL refuse audit entries of the given actions, as a full disk or a broken constraint would. */
  async function refuseAuditOf(actions: string[]): Promise<void> {
    await asOwner(`CREATE OR REPLACE FUNCTION test_refuse_audit() RETURNS trigger LANGUAGE plpgsql AS $f$
      BEGIN IF NEW.action = ANY (ARRAY[${actions.map((action) => `'${action}'`).join(',')}]) THEN RAISE EXCEPTION 'audit refused by test'; END IF; RETURN NEW; END $f$`);
    await asOwner('CREATE TRIGGER test_refuse_audit BEFORE INSERT ON "AuditEntry" FOR EACH ROW EXECUTE FUNCTION test_refuse_audit()');
  }

  const agents: AgentClientSocket[] = [];

  before(async () => {
    test_ = await startTestServer({ env: { FAULTLINE_ADMIN_TOKEN: 'audit-admin-token-0123456789abcdef' } });
    // Two connected agents that acknowledge every command, so a fault injection succeeds when nothing else stops it.
    for (const agentId of ['f1', 'f2']) {
      const { token } = await test_.server.credentials.issue({ clusterId, agentId, createdBy: 'test' });
      const socket = await connectAgentClient(test_.url, token, clusterId, agentId);
      socket.on('command', (_command, reply) => reply({ ok: true, data: null }));
      const hello = await socket.timeout(5000).emitWithAck('hello', { clusterId, agentId, address: '127.0.0.1:1', incarnation: 1, peers: ['f1', 'f2'] });
      assert.ok(hello.ok, JSON.stringify(hello));
      agents.push(socket);
    }
  });
  after(async () => {
    for (const socket of agents) socket.close();
    await test_?.stop();
  });

  test('when the entry cannot be written, the action is refused and leaves nothing', async () => {
    await refuseAuditOf(['token.create', 'faults.cut', 'agent-credential.issue']);
    try {
      const tokensBefore = await prisma().apiToken.count();
      const token = await callApi(test_.url, '/api/tokens', { method: 'POST', body: { name: 'unrecorded', role: 'viewer' } });
      assert.equal(token.status, 503, JSON.stringify(token.payload));
      assert.equal(await prisma().apiToken.count(), tokensBefore, 'no token without its audit entry');

      const cut = await callApi(test_.url, '/api/faults/cut', { method: 'POST', body: { clusterId, from: 'f1', to: 'f2' } });
      assert.equal(cut.status, 503, JSON.stringify(cut.payload));
      const faults = await callApi<{ faults: unknown[] }>(test_.url, `/api/faults?clusterId=${clusterId}`);
      assert.ok(faults.payload.ok);
      assert.deepEqual(faults.payload.data.faults, [], 'no fault injected without its audit entry');

      const credentialsBefore = await prisma().agentCredential.count();
      const issued = await fetch(`${test_.url}/api/agent-credentials`, {
        method: 'POST',
        headers: { authorization: 'Bearer audit-admin-token-0123456789abcdef', 'content-type': 'application/json' },
        body: JSON.stringify({ clusterId, agentId: 'f3' }),
      });
      assert.equal(issued.status, 503);
      assert.equal(await prisma().agentCredential.count(), credentialsBefore, 'no credential without its audit entry');
    } finally {
      await asOwner('DROP TRIGGER test_refuse_audit ON "AuditEntry"');
    }
    const refusals = await prisma().auditEntry.findMany({ where: { action: { in: ['token.create', 'faults.cut'] } } });
    assert.deepEqual(refusals.map((entry) => (entry.data as { outcome: string }).outcome), [], 'the refused attempts left no entry either (the trigger refused those too)');
  });

  test('an accepted action leaves exactly one entry, even with hostile text in a field it ignores', async () => {
    const created = await callApi<{ id: string }>(test_.url, '/api/tokens', { method: 'POST', body: { name: 'to-revoke', role: 'viewer' } });
    assert.ok(created.payload.ok);
    const tokenId = created.payload.data.id;
    const revoked = await callApi(test_.url, `/api/tokens/${tokenId}/revoke`, { method: 'POST', body: { why: 'nul \u0000 and \uD800 lone' } });
    assert.equal(revoked.status, 200);
    const recorded = (await entries('token.revoke')).filter((entry) => entry.target === tokenId);
    assert.equal(recorded.length, 1, 'one entry for the revocation');
    assert.deepEqual((recorded[0]!.data as { request: unknown }).request, { why: 'nul \uFFFD and \uFFFD lone' });
    const cut = await callApi(test_.url, '/api/faults/cut', { method: 'POST', body: { clusterId, from: 'f1', to: 'f2' } });
    assert.equal(cut.status, 200);
    assert.equal((await entries('faults.cut')).length, 1);
  });

  test('NUL and lone surrogates in accepted fields, and bounds out of range, are 400s naming the field', async () => {
    const cases: [string, { method?: string; body?: unknown }, RegExp][] = [
      ['/api/tokens', { method: 'POST', body: { name: 'bad\u0000name', role: 'viewer' } }, /name/],
      ['/api/tokens', { method: 'POST', body: { name: 'bad\uD800name', role: 'viewer' } }, /name/],
      ['/api/users', { method: 'POST', body: { name: 'eve', role: 'viewer', password: 'long-enough\u0000pw' } }, /password/],
      ['/api/history?from=99999999999999999', {}, /from/],
      ['/api/history?to=8640000000000000', {}, /to/],
      ['/api/history?from=253402300800000', {}, /from/],
      ['/api/history?node=%00', {}, /node/],
      ['/api/history/export?clusterId=a%00', {}, /clusterId/],
      ['/api/alerts?before=99999999999999999', {}, /before/],
      ['/api/alerts?search=%00', {}, /search/],
      ['/api/partitions?before=99999999999999999', {}, /before/],
      ['/api/audit?before=9999999999999999999', {}, /before/],
      ['/api/audit?before=1.5', {}, /before/],
      ['/api/audit?actor=%00', {}, /actor/],
    ];
    for (const [path, init, field] of cases) {
      const result = await callApi(test_.url, path, init);
      assert.equal(result.status, 400, `${path} ${JSON.stringify(init.body)}: ${result.status} ${JSON.stringify(result.payload)}`);
      assert.match((result.payload as Failure).message, field, path);
    }
  });

  test('a sign-in records the user who signed in', async () => {
    await signIn(test_.url, 'admin', testAdminPassword);
    const signIns = await entries('auth.sign-in');
    assert.equal(signIns.at(-1)?.actor, 'admin');
  });

  test('refused agent-credential requests are audited', async () => {
    const since = (await prisma().auditEntry.aggregate({ _max: { id: true } }))._max.id ?? 0n;
    const anonymous = await fetch(`${test_.url}/api/agent-credentials`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    assert.equal(anonymous.status, 401);
    const wrongId = await fetch(`${test_.url}/api/agent-credentials/not-a-uuid/revoke`, { method: 'POST', headers: { authorization: 'Bearer audit-admin-token-0123456789abcdef' } });
    assert.equal(wrongId.status, 400);
    const refused = await prisma().auditEntry.findMany({ where: { id: { gt: since }, action: { startsWith: 'refused POST /api/agent-credentials' } }, orderBy: { id: 'asc' } });
    assert.deepEqual(
      refused.map((entry) => [entry.actor, entry.action, (entry.data as { outcome: string }).outcome]),
      [
        ['anonymous', 'refused POST /api/agent-credentials', 'refused: unauthorized'],
        ['admin-token', 'refused POST /api/agent-credentials/not-a-uuid/revoke', 'refused: invalid_input'],
      ],
    );
  });

  test('Socket.IO refusals (dashboards and agents) are audited; __proto__, constructor and toString are unknown events', async () => {
    const anonymous = await new Promise<string>((resolve) => {
      const socket = io(test_.url, { transports: ['websocket'], reconnection: false });
      socket.once('connect', () => resolve('connected'));
      socket.once('connect_error', (error) => resolve(error.message));
      setTimeout(() => resolve('no answer'), 5000).unref();
    });
    assert.match(anonymous, /^unauthorized/);
    const socket = io(test_.url, { transports: ['websocket'], reconnection: false, extraHeaders: { authorization: `Bearer ${test_.adminToken}` } });
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', () => resolve());
        socket.once('connect_error', reject);
      });
      for (const event of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
        const reply = (await (socket.timeout(3000).emitWithAck as (event: string, ...args: unknown[]) => Promise<unknown>)(event, clusterId).catch(() => 'no reply')) as Failure | string;
        assert.equal(typeof reply === 'object' && reply.code, 'forbidden', `${event}: ${JSON.stringify(reply)}`);
      }
    } finally {
      socket.close();
    }
    const badAgent = await new Promise<string>((resolve) => {
      const agent = io(`${test_.url}${agentNamespace}`, { transports: ['websocket'], reconnection: false, auth: { token: 'x' } });
      agent.once('connect', () => resolve('connected'));
      agent.once('connect_error', (error) => {
        agent.close();
        resolve(error.message);
      });
    });
    assert.match(badAgent, /^invalid_input/);
    const hello = await agents[0]!.timeout(3000).emitWithAck('hello', { clusterId, agentId: 'f2', address: '127.0.0.1:1', incarnation: 1, peers: [] });
    assert.equal(!hello.ok && hello.code, 'forbidden');
    await test_.server.credentials.flushRefusals();
    assert.deepEqual((await entries('agent.handshake-refused')).map((entry) => (entry.data as { reason: string }).reason), ['invalid_input']);
    assert.deepEqual((await entries('agent.hello-refused')).map((entry) => [entry.actor, (entry.data as { reason: string }).reason]), [[`agent:${clusterId}/f1`, 'forbidden: names another agent']]);
    const handshakes = await entries('dashboard.handshake-refused');
    assert.ok(handshakes.some((entry) => (entry.data as { reason: string }).reason === 'unauthorized'), 'the refused handshake is in the log');
    const events = await entries('dashboard.event-refused');
    assert.deepEqual(new Set(events.map((entry) => entry.target)), new Set(['__proto__', 'constructor', 'toString', 'hasOwnProperty']));
  });
});

describe('audited actions on the embedded database (one pooled connection)', () => {
  let test_: TestServer;
  before(async () => {
    test_ = await startTestServer({ database: 'embedded' });
  });
  after(async () => test_?.stop());

  test('transactions, sign-in failures counted after rollback, and refusals do not wait on each other', async () => {
    const started = Date.now();
    const results = await Promise.all([
      callApi(test_.url, '/api/tokens', { method: 'POST', body: { name: 'embedded', role: 'viewer' } }),
      callApi(test_.url, '/api/auth/sign-in', { method: 'POST', auth: 'none', body: { name: 'admin', password: 'wrong-password' } }),
      callApi(test_.url, '/api/auth/sign-in', { method: 'POST', auth: 'none', body: { name: 'nobody', password: 'wrong-password' } }),
      callApi(test_.url, '/api/users', { method: 'POST', body: { name: 'emma', role: 'viewer', password: 'emma-password-123' } }),
      callApi(test_.url, '/api/tokens', { method: 'POST', body: { name: 'bad\u0000', role: 'viewer' } }),
    ]);
    assert.deepEqual(results.map((result) => result.status), [200, 401, 401, 200, 400]);
    await signIn(test_.url, 'admin', testAdminPassword);
    assert.ok(Date.now() - started < 10_000, `answered in ${Date.now() - started} ms`);
    const prisma = test_.server.database.prisma;
    assert.equal(await prisma.signInThrottle.count({ where: { key: { startsWith: 'name:' } } }), 1, 'the failure of nobody is counted; the admin signed in and cleared its own');
    const actions = (await prisma.auditEntry.findMany({ where: { action: { in: ['token.create', 'auth.sign-in', 'user.create'] } } })).map((entry) => `${entry.action} ${(entry.data as { outcome: string }).outcome}`);
    assert.deepEqual(actions.sort(), ['auth.sign-in ok', 'auth.sign-in refused: unauthorized', 'auth.sign-in refused: unauthorized', 'token.create ok', 'token.create refused: invalid_input', 'user.create ok']);
  });
});
