/**
 * Throws more than 10,000 malformed, oversized, wrongly typed and hostile payloads
 * (fast-check, seeded; the seed is printed) at the Socket.IO ingest (reports,
 * hellos, handshakes) and at the HTTP API, on a real server and PostgreSQL.
 * Every payload is invalid by construction: either the schema refuses it, or it is
 * schema-valid but signed with another agent's key. None may be accepted, each
 * must get a clear error (a code and a message) within a bounded time, and the
 * server must still answer a valid report afterwards with nothing else stored.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { io } from 'socket.io-client';
import { type AgentReport, AgentReportSchema } from '../../core/protocol';
import { agentNamespace } from '../../core/realtime-contract';
import { socketMessageBytesMax } from '../../server/realtime/socket-server';
import { type AgentClientSocket, connectAgentClient, makeReport, signAs } from '../helpers/agent-client';
import { type TestServer, startTestServer } from '../helpers/server-harness';

const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
const clusterId = 'fuzz';
const socketReportRuns = 7200;
const helloRuns = 600;
const handshakeRuns = 200;
const httpRuns = 2400;
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
