/**
 * Proves the console's server-side protection on a real server and real
 * PostgreSQL: every API route refuses anonymous callers (except the public ones),
 * every state-changing route refuses a viewer, a session without its CSRF token
 * and a foreign Origin; bearer tokens work until revoked; the Socket.IO handshake
 * checks the session and the origin and every event is checked; every POST is
 * audited and the audit log cannot be edited, even with raw SQL. Also checks the
 * alert and recovery services' state rules (one acknowledgement wins, decisions
 * are final) and the history's filters, sort and CSV export.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { io } from 'socket.io-client';
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '../../generated/prisma/client';
import { routes } from '../../server/http/api';
import { type SessionHeaders, type TestServer, callApi, createSignedInUser, signIn, startTestServer, testAdminPassword } from '../helpers/server-harness';

const someId = '00000000-0000-4000-8000-000000000000';

/** A concrete path for a route pattern: capture groups become an id. */
function pathOf(pattern: RegExp): string {
  return pattern.source.replace(/^\^/, '').replace(/\$$/, '').replace(/\(\[\^\/\]\+\)/g, someId).replace(/\\\//g, '/');
}

/** Opens a dashboard socket and resolves with the connect error message, or 'connected'. */
function handshake(url: string, headers: Record<string, string>): Promise<string> {
  return new Promise((resolve) => {
    const socket = io(url, { transports: ['websocket'], extraHeaders: headers, reconnection: false });
    socket.once('connect', () => {
      socket.close();
      resolve('connected');
    });
    socket.once('connect_error', (error) => {
      socket.close();
      resolve(error.message);
    });
  });
}

describe('console protection', () => {
  let test_: TestServer;
  let viewer: SessionHeaders;
  let operator: SessionHeaders;
  let partitionId: string;

  before(async () => {
    test_ = await startTestServer();
    viewer = await createSignedInUser(test_, 'vera', 'viewer');
    operator = await createSignedInUser(test_, 'otto', 'operator');
    await test_.server.service.ensureCluster('itest', { name: 'Integration' });
    const row = await test_.server.database.prisma.partition.create({
      data: {
        clusterId: 'itest',
        type: 'complete',
        state: 'DegradedOperation',
        startedAt: new Date(Date.now() - 60_000),
        detail: { components: [['n1', 'n2', 'n3'], ['n4', 'n5']], cutLinks: [], majorityIndex: 0 },
        nodeIds: ['n4', 'n5'],
      },
    });
    partitionId = row.id;
  });
  after(async () => test_?.stop());

  test('anonymous callers are refused on every route but the public ones', async () => {
    const publicPaths = new Set(['/api/health', '/api/auth/session', '/api/auth/sign-in']);
    for (const route of routes) {
      const path = pathOf(route.pattern);
      if (publicPaths.has(path)) continue;
      const result = await callApi(test_.url, path, { method: route.method, auth: 'none', ...(route.method === 'POST' ? { body: {} } : {}) });
      assert.equal(result.status, 401, `${route.method} ${path} answered ${result.status}`);
    }
  });

  test('a viewer can read but every state-changing route except sign-out is refused', async () => {
    assert.equal((await callApi(test_.url, '/api/alerts', { headers: viewer })).status, 200);
    assert.equal((await callApi(test_.url, '/api/history', { headers: viewer })).status, 200);
    for (const route of routes.filter((candidate) => candidate.method === 'POST')) {
      const path = pathOf(route.pattern);
      if (path === '/api/auth/sign-in' || path === '/api/auth/sign-out') continue;
      const result = await callApi(test_.url, path, { method: 'POST', headers: viewer, body: {} });
      assert.equal(result.status, 403, `${path} answered ${result.status}`);
    }
    for (const path of ['/api/users', '/api/tokens', '/api/audit']) {
      assert.equal((await callApi(test_.url, path, { headers: viewer })).status, 403, path);
    }
  });

  test('a session must echo its CSRF token and come from its own origin', async () => {
    const body = { note: 'looking' };
    const alert = await test_.server.console.alerts.raise({ clusterId: 'itest', partitionId, rule: 'csrf-check', severity: 'warning', title: 'CSRF check' });
    const noToken = await callApi(test_.url, `/api/alerts/${alert.id}/acknowledge`, { method: 'POST', headers: { cookie: operator.cookie }, body });
    assert.equal(noToken.status, 403);
    assert.match((noToken.payload as { message: string }).message, /CSRF/);
    const wrongToken = await callApi(test_.url, `/api/alerts/${alert.id}/acknowledge`, { method: 'POST', headers: { ...operator, 'x-csrf-token': 'nope' }, body });
    assert.equal(wrongToken.status, 403);
    const foreign = await callApi(test_.url, `/api/alerts/${alert.id}/acknowledge`, { method: 'POST', headers: { ...operator, origin: 'http://evil.example' }, body });
    assert.equal(foreign.status, 403);
    const ok = await callApi(test_.url, `/api/alerts/${alert.id}/acknowledge`, { method: 'POST', headers: { ...operator, origin: test_.url }, body });
    assert.equal(ok.status, 200);
  });

  test('bearer tokens carry their role and stop working when revoked', async () => {
    const created = await callApi<{ id: string; token: string }>(test_.url, '/api/tokens', { method: 'POST', body: { name: 'ci', role: 'viewer' } });
    assert.ok(created.payload.ok);
    const { id, token } = created.payload.data;
    const bearer = { authorization: `Bearer ${token}` };
    assert.equal((await callApi(test_.url, '/api/alerts', { headers: bearer })).status, 200);
    assert.equal((await callApi(test_.url, '/api/faults/heal', { method: 'POST', headers: bearer, body: {} })).status, 403);
    assert.equal((await callApi(test_.url, `/api/tokens/${id}/revoke`, { method: 'POST', body: {} })).status, 200);
    assert.equal((await callApi(test_.url, '/api/alerts', { headers: bearer })).status, 401);
    const tokens = await test_.server.database.prisma.apiToken.findMany();
    assert.ok(tokens.every((row) => !row.secretHash.includes(token) && row.secretHash !== token), 'token stored hashed');
  });

  test('wrong passwords are refused with one message; signing out ends the session', async () => {
    const wrong = await callApi(test_.url, '/api/auth/sign-in', { method: 'POST', auth: 'none', body: { name: 'admin', password: 'wrong-password' } });
    const unknown = await callApi(test_.url, '/api/auth/sign-in', { method: 'POST', auth: 'none', body: { name: 'nobody', password: 'wrong-password' } });
    assert.equal(wrong.status, 401);
    assert.deepEqual(wrong.payload, unknown.payload);
    const admin = await signIn(test_.url, 'admin', testAdminPassword);
    assert.equal((await callApi(test_.url, '/api/audit', { headers: admin })).status, 200);
    assert.equal((await callApi(test_.url, '/api/auth/sign-out', { method: 'POST', headers: admin, body: {} })).status, 200);
    assert.equal((await callApi(test_.url, '/api/audit', { headers: admin })).status, 401);
  });

  test('the Socket.IO handshake needs a session or token and the right origin; events are checked', async () => {
    assert.match(await handshake(test_.url, {}), /unauthorized/);
    assert.match(await handshake(test_.url, { cookie: viewer.cookie, origin: 'http://evil.example' }), /forbidden/);
    assert.match(await handshake(test_.url, { cookie: 'faultline_session=forged' }), /unauthorized/);
    assert.equal(await handshake(test_.url, { cookie: viewer.cookie, origin: test_.url }), 'connected');
    const socket = io(test_.url, { transports: ['websocket'], extraHeaders: { cookie: viewer.cookie }, reconnection: false });
    await new Promise((resolve) => socket.once('connect', () => resolve(null)));
    const subscribed = await socket.timeout(5000).emitWithAck('cluster:subscribe', 'itest');
    assert.equal(subscribed.ok, true);
    const unknown = await (socket as unknown as { timeout(ms: number): { emitWithAck(event: string, ...args: unknown[]): Promise<{ ok: boolean; code: string }> } })
      .timeout(5000)
      .emitWithAck('alert:acknowledge', someId);
    assert.deepEqual([unknown.ok, unknown.code], [false, 'forbidden']);
    socket.close();
  });

  test('every POST is audited, refused ones included, and the log cannot be edited', async () => {
    const entries = await callApi<{ actor: string; action: string; data: { outcome: string } }[]>(test_.url, '/api/audit?limit=500');
    assert.ok(entries.payload.ok);
    const log = entries.payload.data;
    assert.ok(log.some((entry) => entry.actor === 'otto' && entry.action === 'alert.acknowledge' && entry.data.outcome === 'ok'));
    assert.ok(log.some((entry) => entry.actor === 'vera' && entry.action === 'faults.cut' && entry.data.outcome === 'refused: forbidden'));
    assert.ok(log.some((entry) => entry.actor === 'anonymous' && entry.action === 'auth.sign-in' && entry.data.outcome === 'refused: unauthorized'));
    assert.ok(!JSON.stringify(log).includes(testAdminPassword), 'passwords never reach the log');
    // The server's own role lacks the privilege (database-access.test.ts); the tables' owner meets the trigger.
    const owner = new PrismaClient({ adapter: new PrismaPg({ connectionString: test_.database!.url }) });
    try {
      for (const prisma of [test_.server.database.prisma, owner]) {
        await assert.rejects(prisma.$executeRawUnsafe('DELETE FROM "AuditEntry"'), /append-only|permission denied/);
        await assert.rejects(prisma.$executeRawUnsafe('UPDATE "AuditEntry" SET actor = \'x\''), /append-only|permission denied/);
        await assert.rejects(prisma.$executeRawUnsafe('TRUNCATE "AuditEntry"'), /append-only|permission denied/);
      }
      await assert.rejects(owner.$executeRawUnsafe('DELETE FROM "AuditEntry"'), /append-only/);
    } finally {
      await owner.$disconnect();
    }
  });

  test('an alert is acknowledged once; the second acknowledgement conflicts; resolve records who', async () => {
    // Partition-less: the partition's one incident was acknowledged by the CSRF test already.
    const alert = await test_.server.console.alerts.raise({ clusterId: 'itest', partitionId: null, rule: 'double-ack', severity: 'critical', title: 'Double ack' });
    const [first, second] = await Promise.all([
      callApi(test_.url, `/api/alerts/${alert.id}/acknowledge`, { method: 'POST', headers: operator, body: { note: 'first' } }),
      callApi(test_.url, `/api/alerts/${alert.id}/acknowledge`, { method: 'POST', body: { note: 'second' } }),
    ]);
    assert.deepEqual([first.status, second.status].sort(), [200, 409]);
    const empty = await callApi(test_.url, `/api/alerts/${alert.id}/acknowledge`, { method: 'POST', headers: operator, body: { note: '  ' } });
    assert.equal(empty.status, 400);
    const resolved = await callApi<{ status: string; resolvedBy: string }>(test_.url, `/api/alerts/${alert.id}/resolve`, { method: 'POST', headers: operator, body: {} });
    assert.ok(resolved.payload.ok);
    assert.deepEqual([resolved.payload.data.status, resolved.payload.data.resolvedBy], ['resolved', 'otto']);
    const search = await callApi<{ id: string }[]>(test_.url, '/api/alerts?status=resolved&search=double');
    assert.ok(search.payload.ok && search.payload.data.some((item) => item.id === alert.id));
  });

  test('recovery: manual waits for a decision that is final; phased pauses, resumes, aborts', async () => {
    const started = await callApi<{ id: string; status: string; plan: { quorum: { quorumSize: number } } }>(test_.url, '/api/recovery', {
      method: 'POST',
      headers: operator,
      body: { partitionId, strategy: 'manual' },
    });
    assert.ok(started.payload.ok, JSON.stringify(started.payload));
    assert.equal(started.payload.data.status, 'pending-approval');
    assert.equal(started.payload.data.plan.quorum.quorumSize, 3);
    const id = started.payload.data.id;
    const twice = await callApi(test_.url, '/api/recovery', { method: 'POST', headers: operator, body: { partitionId, strategy: 'manual' } });
    assert.equal(twice.status, 409);
    const approved = await callApi<{ status: string; decidedBy: string }>(test_.url, `/api/recovery/${id}/approve`, { method: 'POST', headers: operator, body: { reason: 'majority intact' } });
    assert.ok(approved.payload.ok);
    assert.deepEqual([approved.payload.data.status, approved.payload.data.decidedBy], ['approved', 'otto']);
    assert.equal((await callApi(test_.url, `/api/recovery/${id}/reject`, { method: 'POST', headers: operator, body: { reason: 'late' } })).status, 409);
    await test_.server.console.recovery.abort(id, 'otto', 'test cleanup');

    const phased = await test_.server.console.recovery.request({ partitionId, strategy: 'phased', requestedBy: 'otto' });
    assert.equal(phased.status, 'running');
    const paused = await callApi<{ status: string }>(test_.url, `/api/recovery/${phased.id}/pause`, { method: 'POST', headers: operator, body: { reason: 'look first' } });
    assert.equal(paused.payload.ok && paused.payload.data.status, 'paused');
    const plan = (await test_.server.console.recovery.recordStageRun(phased.id, { groupIndex: 0, stage: 'unfence', ok: true })).run.phased as { history: unknown[] };
    assert.equal(plan.history.length, 1);
    const resumed = await callApi<{ status: string }>(test_.url, `/api/recovery/${phased.id}/resume`, { method: 'POST', headers: operator, body: { reason: 'ok' } });
    assert.equal(resumed.payload.ok && resumed.payload.data.status, 'running');
    const aborted = await callApi<{ status: string }>(test_.url, `/api/recovery/${phased.id}/abort`, { method: 'POST', headers: operator, body: { reason: 'stop' } });
    assert.equal(aborted.payload.ok && aborted.payload.data.status, 'aborted');
  });

  test('history filters, sorts, pages and exports CSV', async () => {
    const prisma = test_.server.database.prisma;
    const base = Date.now() - 3_600_000;
    for (let index = 0; index < 30; index += 1) {
      await prisma.partition.create({
        data: {
          clusterId: 'itest',
          type: index % 3 === 0 ? 'partial' : 'complete',
          state: 'Normal',
          startedAt: new Date(base + index * 60_000),
          endedAt: new Date(base + index * 60_000 + (index + 1) * 1000),
          detail: { components: [], cutLinks: [], majorityIndex: null },
          nodeIds: ['=cmd', index % 2 === 0 ? 'n1' : 'n2'],
          outcome: 'healed',
        },
      });
    }
    const page = await callApi<{ items: { durationMs: number; type: string }[]; total: number }>(test_.url, '/api/history?clusterId=itest&type=complete&sort=duration&order=desc&pageSize=5&page=2');
    assert.ok(page.payload.ok);
    assert.equal(page.payload.data.total, 20 + 1);
    assert.equal(page.payload.data.items.length, 5);
    const durations = page.payload.data.items.map((item) => item.durationMs);
    assert.deepEqual(durations, [...durations].sort((a, b) => b - a));
    assert.ok(page.payload.data.items.every((item) => item.type === 'complete'));
    const node = await callApi<{ total: number }>(test_.url, '/api/history?clusterId=itest&node=n1&outcome=healed&durationMinS=10');
    assert.equal(node.payload.ok && node.payload.data.total, 15 - 5);
    const csv = await fetch(`${test_.url}/api/history/export?format=csv&clusterId=itest&outcome=healed`, { headers: { authorization: `Bearer ${test_.adminToken}` } });
    assert.match(csv.headers.get('content-type') ?? '', /text\/csv/);
    const lines = (await csv.text()).trim().split('\r\n');
    assert.equal(lines.length, 31);
    assert.ok(lines[1]!.includes("'=cmd"), 'formula-like cells are defused');
  });
});
