/**
 * Throws more than 10,000 malformed, oversized, wrongly typed and hostile payloads
 * (fast-check, seeded; the seed is printed) at the Socket.IO ingest (reports,
 * hellos, handshakes) and at the HTTP API, on a real server and PostgreSQL.
 * Every payload is invalid by construction: either the schema refuses it, or it is
 * schema-valid but signed with another agent's key. None may be accepted, each
 * must get a clear error (a code and a message) within a bounded time, and the
 * server must still answer a valid report afterwards with nothing else stored.
 *
 * Then: the history, export, audit, alert and partition queries at and beyond
 * their bounds never give a 5xx; NUL and lone surrogates in every accepted string
 * field (bodies, queries, the agent hello) are a 400 naming that field; and a mix
 * of valid and hostile state-changing requests leaves exactly one audit entry per
 * request: one with outcome ok for each accepted one, one refusal for each other.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { io } from 'socket.io-client';
import { type AgentReport, AgentReportSchema, storableTimestampMsMax } from '../../core/protocol';
import { agentNamespace } from '../../core/realtime-contract';
import { roles } from '../../core/permissions';
import { historyPageSizeMax, historySortKeys } from '../../server/history-service';
import { routes } from '../../server/http/api';
import { socketMessageBytesMax } from '../../server/realtime/socket-server';
import { type AgentClientSocket, connectAgentClient, makeReport, signAs } from '../helpers/agent-client';
import { type TestServer, startTestServer, testAdminPassword } from '../helpers/server-harness';

const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
const clusterId = 'fuzz';
const socketReportRuns = 7200;
const helloRuns = 600;
const handshakeRuns = 200;
const httpRuns = 2400;
const boundRuns = 600;
const unsafeTextRuns = 400;
const auditedRuns = 300;
/** Agent connections the report fuzz is spread over (each has its own rate limit). */
const fuzzAgents = 8;
/** Payloads in flight at once per connection. */
const concurrency = 50;
/** Longest a refusal may take. */
const replyTimeoutMs = 10_000;

const reportFields = ['clusterId', 'agentId', 'incarnation', 'sequence', 'sentAtMs', 'heartbeatIntervalMs', 'observations', 'evidence', 'outboxDepth', 'outboxDropped', 'auth', '__proto__', 'constructor', 'extra'];

const deep = (depth: number): unknown => (depth === 0 ? 'bottom' : { nested: deep(depth - 1) });
const hostileString = fc.oneof(
  fc.string({ maxLength: 200 }),
  fc.string({ unit: 'binary', maxLength: 100 }),
  fc.constantFrom('', '\u0000', '../../etc/passwd', '<script>alert(1)</script>', "'; DROP TABLE \"AgentReport\";--", '\uD800', '%00', '${7*7}', 'a'.repeat(70_000), 'n'.repeat(65)),
);
const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  hostileString,
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constantFrom(null, -1, 1.5, Number.MAX_SAFE_INTEGER + 2, 1e308, -1e308, 8.64e15 + 1),
  fc.array(fc.anything({ maxDepth: 2 }), { maxLength: 5 }),
  fc.object({ maxDepth: 2 }),
  fc.constantFrom(deep(200), Array.from({ length: 5000 }, (_, index) => ({ peerId: `p${index}`, reachable: true, lastHeardAtMs: null, sinceMs: 0, suspicion: 0 }))),
);

/** A payload for the `report` event, and whether to sign it with the right key. */
const reportPayload: fc.Arbitrary<{ payload: unknown }> = fc.oneof(
  fc.anything({ maxDepth: 3 }).map((payload) => ({ payload })),
  fc.tuple(fc.constantFrom(...reportFields), hostileValue, fc.boolean(), fc.nat(1_000_000)).map(([field, value, remove, sequence]) => {
    const report: Record<string, unknown> = { ...makeReport(clusterId, 'fz-1', sequence + 10) };
    if (remove) delete report[field];
    else Object.defineProperty(report, field, { value, enumerable: true, configurable: true, writable: true });
    return { payload: report };
  }),
  fc.tuple(fc.constantFrom('observations', 'evidence'), fc.constantFrom(0, 1, 2), fc.constantFrom(...reportFields.slice(0, 6), 'peerId', 'reachable', 'kind', 'count'), hostileValue).map(([list, index, field, value]) => {
    const report = makeReport(clusterId, 'fz-1', 77, { evidence: [{ peerId: 'x', kind: 'replay', count: 1, lastAtMs: 1 }] });
    const items = (report as unknown as Record<string, Record<string, unknown>[]>)[list]!;
    items[index] = { ...(items[index] ?? {}), [field]: value };
    return { payload: report };
  }),
);

/** URL-encodes a hostile string (lone surrogates replaced: they cannot be encoded) and appends raw bad escapes. */
const pathPart = (text: string) => `${encodeURIComponent(text.slice(0, 300).replace(/[\uD800-\uDFFF]/g, '\uFFFD'))}${text.length % 3 === 0 ? '%C0%AF%FF' : ''}`;

interface Reply {
  ok: boolean;
  code?: string;
  message?: string;
}

function assertRefused(reply: Reply, what: string): void {
  assert.equal(reply.ok, false, `${what} was accepted`);
  assert.equal(typeof reply.code, 'string', `${what}: reply has no code`);
  assert.ok(typeof reply.message === 'string' && reply.message.length > 0, `${what}: reply has no message`);
}

describe(`hostile input (seed ${seed})`, { timeout: 600_000 }, () => {
  let test: TestServer;
  const tokens: string[] = [];
  const sockets: AgentClientSocket[] = [];
  let foreignToken: string;
  const codes = new Map<string, number>();
  const count = (code: string | undefined) => codes.set(code ?? 'none', (codes.get(code ?? 'none') ?? 0) + 1);

  before(async () => {
    test = await startTestServer({ env: { FAULTLINE_ADMIN_TOKEN: 'fuzz-admin-token-0123456789abcdef' } });
    for (let index = 1; index <= fuzzAgents; index += 1) {
      const { token } = await test.server.credentials.issue({ clusterId, agentId: `fz-${index}`, createdBy: 'test' });
      tokens.push(token);
      sockets.push(await connectAgentClient(test.url, token, clusterId, `fz-${index}`));
    }
    foreignToken = (await test.server.credentials.issue({ clusterId, agentId: 'someone-else', createdBy: 'test' })).token;
  });
  after(async () => {
    for (const socket of sockets) socket.close();
    console.log(`fuzz seed ${seed}; refusal codes: ${JSON.stringify(Object.fromEntries(codes))}`);
    await test?.stop();
  });

  it(`refuses ${socketReportRuns} hostile reports over Socket.IO`, async () => {
    const payloads = fc.sample(reportPayload, { seed, numRuns: socketReportRuns });
    let refused = 0;
    await Promise.all(
      sockets.map(async (socket, socketIndex) => {
        const mine = payloads.filter((_, index) => index % fuzzAgents === socketIndex);
        for (let start = 0; start < mine.length; start += concurrency) {
          await Promise.all(
            mine.slice(start, start + concurrency).map(async ({ payload }) => {
              // Re-address to this connection's agent where the payload has one, so identity is not the only check hit.
              if (payload && typeof payload === 'object' && (payload as Record<string, unknown>).agentId === 'fz-1') (payload as Record<string, unknown>).agentId = `fz-${socketIndex + 1}`;
              const valid = AgentReportSchema.safeParse(payload).success;
              const sent = valid ? signAs(foreignToken, payload as AgentReport) : payload;
              const reply = (await socket.timeout(replyTimeoutMs).emitWithAck('report', sent as never)) as Reply;
              assertRefused(reply, `report ${JSON.stringify(sent)?.slice(0, 200)}`);
              count(reply.code);
              refused += 1;
            }),
          );
        }
      }),
    );
    assert.equal(refused, socketReportRuns);
  });

  it(`refuses ${helloRuns} hostile hellos`, async () => {
    const hello = fc.oneof(
      fc.anything({ maxDepth: 3 }),
      fc.record({ clusterId: hostileValue, agentId: fc.constant('fz-1'), address: hostileValue, incarnation: hostileValue, peers: hostileValue }),
      fc.record({ clusterId: fc.constant(clusterId), agentId: hostileString, address: fc.constant('127.0.0.1:1'), incarnation: fc.constant(1), peers: fc.constant([]) }).filter((value) => value.agentId !== 'fz-1'),
    );
    // Frames over the Socket.IO limit never reach a handler: the next test covers them.
    const payloads = fc.sample(hello, { seed: seed + 1, numRuns: helloRuns * 2 }).filter((payload) => (JSON.stringify(payload)?.length ?? 0) < socketMessageBytesMax * 0.9).slice(0, helloRuns);
    assert.equal(payloads.length, helloRuns);
    for (let start = 0; start < payloads.length; start += concurrency) {
      await Promise.all(
        payloads.slice(start, start + concurrency).map(async (payload) => {
          const reply = (await sockets[0]!.timeout(replyTimeoutMs).emitWithAck('hello', payload as never)) as Reply;
          assertRefused(reply, `hello ${JSON.stringify(payload)?.slice(0, 200)}`);
          count(reply.code);
        }),
      );
    }
  });

  it('closes only the offending connection when a frame exceeds the Socket.IO limit', async () => {
    const { token } = await test.server.credentials.issue({ clusterId, agentId: 'fz-big', createdBy: 'test' });
    for (let attempt = 0; attempt < 3; attempt += 1) {
      const big = await connectAgentClient(test.url, token, clusterId, 'fz-big');
      const closed = new Promise<string>((resolve) => big.once('disconnect', (reason) => resolve(reason)));
      (big.emit as (event: string, payload: unknown) => void)('report', { ...makeReport(clusterId, 'fz-big', 1), padding: 'x'.repeat(socketMessageBytesMax + 1024) });
      assert.match(await closed, /transport (close|error)|io server disconnect/);
      big.close();
      count('closed-oversized-frame');
    }
    const reply = (await sockets[1]!.timeout(replyTimeoutMs).emitWithAck('report', makeReport(clusterId, 'fz-2', 5) as never)) as Reply;
    assertRefused(reply, 'unsigned report after the oversized frames');
  });

  it(`refuses ${handshakeRuns} hostile handshakes`, async () => {
    // Socket.IO's auth is an object by contract; its own parser closes connections that send anything else.
    const auth = fc.oneof(
      fc.object({ maxDepth: 2 }),
      fc.record({ token: hostileString, clusterId: fc.constant(clusterId), agentId: fc.constant('fz-1') }),
      fc.record({ token: fc.constant(tokens[0]!), clusterId: hostileString, agentId: hostileString }).filter((value) => value.clusterId !== clusterId || value.agentId !== 'fz-1'),
    );
    const payloads = fc.sample(auth, { seed: seed + 2, numRuns: handshakeRuns });
    for (let start = 0; start < payloads.length; start += 20) {
      await Promise.all(
        payloads.slice(start, start + 20).map(
          (payload) =>
            new Promise<void>((resolve, reject) => {
              const stalled = setTimeout(() => {
                socket.close();
                reject(new Error(`handshake neither accepted nor refused within ${replyTimeoutMs} ms: ${JSON.stringify(payload)?.slice(0, 200)}`));
              }, replyTimeoutMs);
              const socket = io(`${test.url}${agentNamespace}`, { transports: ['websocket'], reconnection: false, auth: payload as Record<string, unknown>, timeout: replyTimeoutMs });
              socket.once('connect', () => {
                clearTimeout(stalled);
                socket.close();
                reject(new Error(`handshake accepted: ${JSON.stringify(payload)?.slice(0, 200)}`));
              });
              socket.once('connect_error', (error) => {
                clearTimeout(stalled);
                socket.close();
                assert.match(error.message, /^(invalid_input|unauthorized|forbidden|rate_limited): ./);
                count(error.message.split(':')[0]);
                resolve();
              });
            }),
        ),
      );
    }
  });

  it(`refuses ${httpRuns} hostile HTTP requests with a clear error`, async () => {
    const admin = { authorization: `Bearer ${test.adminToken}` };
    const credentialAdmin = { authorization: 'Bearer fuzz-admin-token-0123456789abcdef' };
    const hostileBody = fc.oneof(
      fc.anything({ maxDepth: 3 }).filter((value) => value === null || typeof value !== 'object' || Array.isArray(value)),
      fc.tuple(fc.object({ maxDepth: 2 }), fc.constantFrom('__proto__', 'constructor', 'unexpected', 'x-extra'), hostileValue).map(([object, key, value]) => {
        const body: Record<string, unknown> = { ...object };
        Object.defineProperty(body, key, { value, enumerable: true, configurable: true, writable: true });
        return body;
      }),
    );
    const request = fc.oneof(
      fc.record({
        method: fc.constant('POST'),
        path: fc.constantFrom('/api/faults/cut', '/api/faults/isolate', '/api/faults/split', '/api/faults/heal', '/api/agent-credentials', '/api/users', '/api/tokens', '/api/recovery', '/api/recovery/dry-run', '/api/auth/sign-in'),
        body: hostileBody.map((value) => JSON.stringify(value) ?? 'null'),
        contentType: fc.constant('application/json'),
      }),
      fc.record({
        method: fc.constant('POST'),
        path: fc.constantFrom('/api/faults/cut', '/api/agent-credentials', '/api/auth/sign-in'),
        body: fc.oneof(fc.string({ maxLength: 100 }).filter((text) => { try { JSON.parse(text); return false; } catch { return true; } }), fc.constant('{"a":'.repeat(1000)), fc.constant('x'.repeat(80_000))),
        contentType: fc.constantFrom('application/json', 'text/plain', 'application/x-www-form-urlencoded'),
      }),
      fc.record({
        method: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH'),
        path: fc.oneof(
          hostileString.map((text) => `/api/partitions/${pathPart(text)}x`),
          hostileString.map((text) => `/api/agent-credentials/${pathPart(text)}/revoke`),
          hostileString.map((text) => `/api/no-such-route/${pathPart(text)}`),
          hostileString.map((text) => `/api/partitions?limit=${pathPart(text)}x`),
          hostileString.map((text) => `/api/cluster?clusterId=${pathPart(text)}%00`),
        ),
        body: fc.constant(''),
        contentType: fc.constant('application/json'),
      }),
    );
    const requests = fc.sample(request, { seed: seed + 3, numRuns: httpRuns });
    for (let start = 0; start < requests.length; start += concurrency) {
      await Promise.all(
        requests.slice(start, start + concurrency).map(async ({ method, path, body, contentType }) => {
          // Authorised as an admin, so that validation (not authentication) is what refuses the payload.
          const headers = { 'content-type': contentType, ...(path.startsWith('/api/agent-credentials') ? credentialAdmin : admin) };
          const response = await fetch(`${test.url}${path}`, { method, headers, body: method === 'GET' || body === '' ? undefined : body, signal: AbortSignal.timeout(replyTimeoutMs) });
          const what = `${method} ${path.slice(0, 120)} ${body.slice(0, 120)}`;
          assert.ok(response.status >= 400 && response.status < 500, `${what}: status ${response.status}`);
          const reply = (await response.json()) as Reply;
          assertRefused(reply, what);
          count(`http-${response.status}`);
        }),
      );
    }
  });

  it(`answers ${boundRuns} history, export, audit, alert and partition queries at and beyond their bounds without a 5xx`, async () => {
    const number = fc.oneof(
      fc.integer({ min: -10, max: 10 }).map(String),
      fc.constantFrom('0', '-1', '1.5', 'NaN', 'Infinity', '1e400', '8640000000000000', '8640000000000001', '253402300799999', '253402300800000', '99999999999999999999', '9223372036854775807', '9223372036854775808', '0x10', '', ' ', '%00'),
      fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }).map(String),
    );
    const text = fc.oneof(fc.string({ maxLength: 30 }), fc.constantFrom('%00', 'a%00b', '%ED%A0%80', '%FF', 'x'.repeat(300), 'complete,partial', 'complete,,nope'));
    const query = fc.oneof(
      fc.record({ path: fc.constantFrom('/api/history', '/api/history/export'), key: fc.constantFrom('from', 'to', 'page', 'pageSize', 'durationMinS', 'durationMaxS'), value: number }),
      fc.record({ path: fc.constantFrom('/api/history', '/api/history/export'), key: fc.constantFrom('clusterId', 'node', 'type', 'outcome', 'sort', 'order', 'format'), value: fc.oneof(text, fc.constantFrom(...historySortKeys)) }),
      fc.record({ path: fc.constant('/api/audit'), key: fc.constantFrom('limit', 'before'), value: number }),
      fc.record({ path: fc.constant('/api/audit'), key: fc.constantFrom('actor', 'action'), value: text }),
      fc.record({ path: fc.constant('/api/alerts'), key: fc.constantFrom('limit', 'before'), value: number }),
      fc.record({ path: fc.constant('/api/alerts'), key: fc.constantFrom('search', 'status', 'clusterId', 'partitionId'), value: text }),
      fc.record({ path: fc.constant('/api/partitions'), key: fc.constantFrom('limit', 'before'), value: number }),
    );
    const samples = fc.sample(fc.array(query, { minLength: 1, maxLength: 3 }), { seed: seed + 4, numRuns: boundRuns });
    // The largest page at the bound itself must be served, not refused.
    samples.push([{ path: '/api/history', key: 'pageSize', value: String(historyPageSizeMax) }], [{ path: '/api/history', key: 'to', value: String(storableTimestampMsMax) }]);
    const admin = { authorization: `Bearer ${test.adminToken}` };
    for (let start = 0; start < samples.length; start += concurrency) {
      await Promise.all(
        samples.slice(start, start + concurrency).map(async (parts) => {
          const path = parts[0]!.path;
          const search = parts.map(({ key, value }) => `${key}=${/%[0-9A-F]{2}/.test(value) ? value : encodeURIComponent(value.replace(/[\uD800-\uDFFF]/g, '\uFFFD'))}`).join('&');
          const response = await fetch(`${test.url}${path}?${search}`, { headers: admin, signal: AbortSignal.timeout(replyTimeoutMs) });
          const body = await response.text();
          assert.ok(response.status < 500, `GET ${path}?${search}: status ${response.status} ${body.slice(0, 200)}`);
          if (response.status >= 400) {
            const reply = JSON.parse(body) as Reply;
            assertRefused(reply, `GET ${path}?${search}`);
            // Exports run at most one per caller at once, and this loop sends several: a valid export may be told to wait (429/503), which names no field.
            const exportBusy = path === '/api/history/export' && (response.status === 429 || response.status === 503) && (reply.code === 'rate_limited' || reply.code === 'unavailable');
            if (!exportBusy) assert.match(reply.message!, new RegExp(parts.map(({ key }) => key).join('|')), `GET ${path}?${search}: the message names the field`);
          }
          count(`bounds-${response.status}`);
        }),
      );
    }
  });

  it(`refuses NUL and lone surrogates in every accepted string field (${unsafeTextRuns} cases), naming the field`, async () => {
    const anyId = '00000000-0000-4000-8000-000000000000';
    /** Each accepted string field: where it goes, a request that is valid but for it, and its name in the message. */
    const fields: { method: 'POST' | 'GET'; path: string; body?: Record<string, unknown>; field: string; credential?: boolean }[] = [
      { method: 'POST', path: '/api/auth/sign-in', body: { name: 'admin', password: 'some-password' }, field: 'name' },
      { method: 'POST', path: '/api/auth/sign-in', body: { name: 'admin', password: 'some-password' }, field: 'password' },
      { method: 'POST', path: '/api/users', body: { name: 'fuzz-user', role: 'viewer', password: 'long-enough-password' }, field: 'name' },
      { method: 'POST', path: '/api/users', body: { name: 'fuzz-user', role: 'viewer', password: 'long-enough-password' }, field: 'password' },
      { method: 'POST', path: '/api/tokens', body: { name: 'fuzz-token', role: 'viewer' }, field: 'name' },
      { method: 'POST', path: `/api/alerts/${anyId}/acknowledge`, body: { note: 'looking into it' }, field: 'note' },
      ...(['approve', 'reject', 'pause', 'resume', 'abort'] as const).map((verb) => ({ method: 'POST' as const, path: `/api/recovery/${anyId}/${verb}`, body: { reason: 'because' }, field: 'reason' })),
      { method: 'POST', path: '/api/faults/cut', body: { clusterId, from: 'fz-1', to: 'fz-2' }, field: 'from' },
      { method: 'POST', path: '/api/faults/isolate', body: { clusterId, node: 'fz-1' }, field: 'node' },
      { method: 'POST', path: '/api/faults/heal', body: { clusterId }, field: 'clusterId' },
      { method: 'POST', path: '/api/agent-credentials', body: { clusterId, agentId: 'fz-new' }, field: 'agentId', credential: true },
      ...['clusterId', 'node'].map((field) => ({ method: 'GET' as const, path: '/api/history', field })),
      { method: 'GET', path: '/api/history/export', field: 'node' },
      ...['actor', 'action'].map((field) => ({ method: 'GET' as const, path: '/api/audit', field })),
      { method: 'GET', path: '/api/alerts', field: 'search' },
    ];
    const bad = fc.constantFrom('\u0000', '\uD800', '\uDFFF', '\uDBFF\u0000', 'a\uDC00');
    const cases = fc.sample(fc.tuple(fc.constantFrom(...fields), bad, fc.nat(8)), { seed: seed + 5, numRuns: unsafeTextRuns });
    for (let start = 0; start < cases.length; start += concurrency) {
      await Promise.all(
        cases.slice(start, start + concurrency).map(async ([target, badText, at]) => {
          const text = (original: string) => `${original.slice(0, at)}${badText}${original.slice(at)}`;
          const headers: Record<string, string> = { authorization: `Bearer ${target.credential ? 'fuzz-admin-token-0123456789abcdef' : test.adminToken}`, 'content-type': 'application/json' };
          // A lone surrogate cannot travel in a URL (it has no UTF-8 form), so queries carry NUL only.
          const queryText = text('abc').replace(/[\uD800-\uDFFF]/g, '\u0000');
          const url = target.method === 'GET' ? `${test.url}${target.path}?${target.field}=${encodeURIComponent(queryText)}` : `${test.url}${target.path}`;
          const body = target.body ? JSON.stringify({ ...target.body, [target.field]: text(String(target.body[target.field])) }) : undefined;
          const response = await fetch(url, { method: target.method, headers, body, signal: AbortSignal.timeout(replyTimeoutMs) });
          const what = `${target.method} ${target.path} ${target.field}=${JSON.stringify(target.method === 'GET' ? queryText : text('…'))}`;
          assert.equal(response.status, 400, `${what}: status ${response.status}`);
          const reply = (await response.json()) as Reply;
          assertRefused(reply, what);
          assert.match(reply.message!, new RegExp(`\\b${target.field}\\b`), `${what}: the message names the field`);
          count('unsafe-text-400');
        }),
      );
    }
    const hello = await sockets[0]!.timeout(replyTimeoutMs).emitWithAck('hello', { clusterId, agentId: 'fz-1', address: '127.0.0.1:\u00001', incarnation: 1, peers: [] });
    assertRefused(hello as Reply, 'hello with NUL in its address');
    assert.match((hello as Reply).message!, /address/);
  });

  it(`leaves exactly one audit entry for each of ${auditedRuns} state-changing requests, accepted or refused`, async () => {
    const prisma = test.server.database.prisma;
    await test.server.service.ensureCluster(clusterId);
    const alerts = await Promise.all(Array.from({ length: 10 }, (_, index) => test.server.console.alerts.raise({ clusterId, partitionId: null, rule: `fuzz-${index}`, severity: 'warning', title: `fuzz alert ${index}` })));
    const startId = (await prisma.auditEntry.aggregate({ _max: { id: true } }))._max.id ?? 0n;
    const name = fc.oneof(fc.stringMatching(/^[a-z][a-z0-9.-]{2,12}$/), hostileString);
    const tokenIds: string[] = [];
    const userIds: string[] = [];
    const credentialIds: string[] = [];
    const pick = (ids: string[], index: number) => ids[index % Math.max(1, ids.length)] ?? '00000000-0000-4000-8000-000000000000';
    const request = fc.oneof(
      fc.record({ kind: fc.constant('token'), name, role: fc.oneof(fc.constantFrom(...roles), hostileString) }),
      fc.record({ kind: fc.constant('token-revoke'), index: fc.nat(50), extra: fc.oneof(fc.constant(undefined), hostileValue) }),
      fc.record({ kind: fc.constant('user'), name, role: fc.constantFrom(...roles, 'root'), password: fc.oneof(fc.constant('a-long-enough-password'), hostileString) }),
      fc.record({ kind: fc.constant('user-update'), index: fc.nat(50), role: fc.constantFrom(...roles), disabled: fc.boolean() }),
      fc.record({ kind: fc.constant('acknowledge'), index: fc.nat(9), note: fc.oneof(fc.constant('on it'), hostileString) }),
      fc.record({ kind: fc.constant('heal'), extra: fc.oneof(fc.constant(undefined), hostileValue) }),
      fc.record({ kind: fc.constant('credential'), agentId: fc.oneof(fc.stringMatching(/^[a-z][a-z0-9-]{1,10}$/), hostileString) }),
      fc.record({ kind: fc.constant('credential-revoke'), index: fc.nat(50) }),
      fc.record({ kind: fc.constant('sign-in'), password: fc.oneof(fc.constant(testAdminPassword), hostileString) }),
    );
    const requests = fc.sample(request, { seed: seed + 6, numRuns: auditedRuns });
    const credentialAdmin = { authorization: 'Bearer fuzz-admin-token-0123456789abcdef' };
    const admin = { authorization: `Bearer ${test.adminToken}` };
    const toHttp = (item: (typeof requests)[number]): { path: string; body: unknown; headers: Record<string, string> } => {
      switch (item.kind) {
        case 'token':
          return { path: '/api/tokens', body: { name: item.name, role: item.role }, headers: admin };
        case 'token-revoke':
          return { path: `/api/tokens/${pick(tokenIds, item.index)}/revoke`, body: item.extra === undefined ? {} : { extra: item.extra }, headers: admin };
        case 'user':
          return { path: '/api/users', body: { name: item.name, role: item.role, password: item.password }, headers: admin };
        case 'user-update':
          return { path: `/api/users/${pick(userIds, item.index)}`, body: { role: item.role, disabled: item.disabled }, headers: admin };
        case 'acknowledge':
          return { path: `/api/alerts/${alerts[item.index]!.id}/acknowledge`, body: { note: item.note }, headers: admin };
        case 'heal':
          return { path: '/api/faults/heal', body: item.extra === undefined ? { clusterId } : { clusterId, extra: item.extra }, headers: admin };
        case 'credential':
          return { path: '/api/agent-credentials', body: { clusterId, agentId: item.agentId }, headers: credentialAdmin };
        case 'credential-revoke':
          return { path: `/api/agent-credentials/${pick(credentialIds, item.index)}/revoke`, body: undefined, headers: credentialAdmin };
        case 'sign-in':
          return { path: '/api/auth/sign-in', body: { name: 'admin', password: item.password }, headers: {} };
      }
    };
    /** The audit action an accepted request is recorded under. */
    const actionOf = (path: string) =>
      path === '/api/agent-credentials' ? 'agent-credential.issue' : path.startsWith('/api/agent-credentials/') ? 'agent-credential.revoke' : routes.find((route) => route.method === 'POST' && route.pattern.test(path))!.audit!;
    const accepted = new Map<string, number>();
    let refused = 0;
    for (let start = 0; start < requests.length; start += 10) {
      await Promise.all(
        requests.slice(start, start + 10).map(async (item) => {
          const { path, body, headers } = toHttp(item);
          const response = await fetch(`${test.url}${path}`, {
            method: 'POST',
            headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
            body: body === undefined ? undefined : (JSON.stringify(body) ?? 'null'),
            signal: AbortSignal.timeout(replyTimeoutMs),
          });
          const reply = (await response.json()) as Reply & { data?: { id?: string } };
          assert.ok(response.status < 500 || response.status === 503, `POST ${path}: status ${response.status} ${JSON.stringify(reply).slice(0, 200)}`);
          if (response.status >= 300) {
            refused += 1;
            return;
          }
          accepted.set(actionOf(path), (accepted.get(actionOf(path)) ?? 0) + 1);
          const id = reply.data?.id;
          if (id && item.kind === 'token') tokenIds.push(id);
          if (id && item.kind === 'user') userIds.push(id);
          if (id && item.kind === 'credential') credentialIds.push(id);
        }),
      );
    }
    const rows = await prisma.auditEntry.findMany({ where: { id: { gt: startId }, NOT: [{ action: { startsWith: 'agent.' } }, { action: { startsWith: 'dashboard.' } }] } });
    const outcomeOf = (row: (typeof rows)[number]) => (row.data as { outcome?: string }).outcome ?? 'ok';
    const recorded = new Map<string, number>();
    for (const row of rows.filter((candidate) => outcomeOf(candidate) === 'ok')) recorded.set(row.action, (recorded.get(row.action) ?? 0) + 1);
    assert.deepEqual(Object.fromEntries([...recorded].sort()), Object.fromEntries([...accepted].sort()), 'one entry with outcome ok per accepted request');
    assert.equal(rows.filter((row) => outcomeOf(row).startsWith('refused')).length, refused, 'one refusal entry per refused request');
    assert.equal(rows.length, auditedRuns, 'nothing else was recorded');
    assert.ok([...accepted.values()].reduce((sum, value) => sum + value, 0) >= auditedRuns / 10, `enough requests were accepted to mean something (${JSON.stringify(Object.fromEntries(accepted))})`);
    console.log(`audited requests: accepted ${JSON.stringify(Object.fromEntries(accepted))}, refused ${refused}`);
    count('audited-requests');
  });

  it('still serves a valid report afterwards, and stored nothing else', async () => {
    const reply = await sockets[0]!.timeout(5000).emitWithAck('report', signAs(tokens[0]!, makeReport(clusterId, 'fz-1', 1)));
    assert.deepEqual(reply, { ok: true, data: { sequence: 1, duplicate: false } });
    assert.equal(await test.server.database.prisma.agentReport.count({ where: { clusterId } }), 1);
    const health = (await (await fetch(`${test.url}/api/health`)).json()) as { data: { status: string } };
    assert.equal(health.data.status, 'ok');
    const total = [...codes.values()].reduce((sum, value) => sum + value, 0);
    console.log(`hostile payloads refused: ${total}`);
    assert.ok(total >= 10_000, `at least 10,000 payloads (${total})`);
  });
});
