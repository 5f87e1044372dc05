/**
 * Proves the sign-in throttle on a real server and PostgreSQL, with requests from
 * different loopback source addresses (127.0.0.2 …): failures from one source do
 * not lock a name out for another source (nobody can lock the admin out); after a
 * few failures a (name, source) waits a delay, during which even the right password
 * is refused, and after which it works; the delay is kept in the database (a fresh
 * auth service on the same database still applies it); and spraying one password
 * over many names from one source runs out of budget, in parallel or not.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { defaultSignInThrottlePolicy } from '../../core/sign-in-throttle';
import { AppError } from '../../server/app-error';
import { AuthService } from '../../server/auth/auth-service';
import { type TestServer, callApi, startTestServer, testAdminPassword } from '../helpers/server-harness';

const policy = defaultSignInThrottlePolicy;

/** Signs in from `localAddress` (a loopback address of its own) and returns the status and message. */
function signInFrom(baseUrl: string, localAddress: string, name: string, password: string): Promise<{ status: number; message: string }> {
  const url = new URL('/api/auth/sign-in', baseUrl);
  const body = JSON.stringify({ name, password });
  return new Promise((resolve, reject) => {
    const outgoing = request(
      { host: url.hostname, port: url.port, path: url.pathname, method: 'POST', localAddress, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }, timeout: 10_000 },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          const payload = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { message?: string };
          resolve({ status: response.statusCode ?? 0, message: payload.message ?? '' });
        });
      },
    );
    outgoing.on('timeout', () => outgoing.destroy(new Error('sign-in timed out')));
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

describe('sign-in throttle', () => {
  let test_: TestServer;
  before(async () => {
    test_ = await startTestServer();
    const created = await callApi(test_.url, '/api/users', { method: 'POST', body: { name: 'dora', role: 'viewer', password: 'dora-password-123' } });
    assert.ok(created.payload.ok);
  });
  after(async () => test_?.stop());

  test('failures from one source never lock the name out for another', async () => {
    for (let attempt = 0; attempt < 12; attempt += 1) {
      const wrong = await signInFrom(test_.url, '127.0.0.3', 'admin', `guess-${attempt}`);
      assert.ok(wrong.status === 401 || wrong.status === 429, `guess ${attempt}: ${wrong.status}`);
    }
    assert.equal((await signInFrom(test_.url, '127.0.0.3', 'admin', testAdminPassword)).status, 429, 'the guessing source waits');
    const admin = await signInFrom(test_.url, '127.0.0.2', 'admin', testAdminPassword);
    assert.equal(admin.status, 200, `the admin from another address signs in: ${admin.message}`);
  });

  test('after the free failures a delay applies, the right password included, and it is kept in the database', async () => {
    for (let attempt = 0; attempt <= policy.freeFailures; attempt += 1) {
      assert.equal((await signInFrom(test_.url, '127.0.0.4', 'dora', `wrong-${attempt}`)).status, 401, `failure ${attempt + 1} is counted, not refused`);
    }
    const early = await signInFrom(test_.url, '127.0.0.4', 'dora', 'dora-password-123');
    assert.equal(early.status, 429, 'the right password waits for the delay');
    assert.match(early.message, /retry in \d+ s/);
    const fresh = new AuthService(test_.server.database.prisma);
    await assert.rejects(fresh.signIn('dora', 'dora-password-123', null, '127.0.0.4'), (error: unknown) => error instanceof AppError && error.code === 'rate_limited');
    const row = await test_.server.database.prisma.signInThrottle.findUnique({ where: { key: 'name:127.0.0.4 dora' } });
    assert.equal(row?.failures, policy.freeFailures + 1);
    const waitMs = row!.blockedUntil.getTime() - Date.now();
    assert.ok(waitMs > 0 && waitMs <= policy.delayMsBase, `waits the first delay (${waitMs} ms)`);
    await new Promise((resolve) => setTimeout(resolve, waitMs + 50));
    const later = await signInFrom(test_.url, '127.0.0.4', 'dora', 'dora-password-123');
    assert.equal(later.status, 200, `after the delay the right password works: ${later.message}`);
    assert.equal(await test_.server.database.prisma.signInThrottle.count({ where: { key: 'name:127.0.0.4 dora' } }), 0, 'a success clears the count');
  });

  test('parallel guesses from one source cannot all be checked before their failures count', async () => {
    const results = await Promise.all(Array.from({ length: 16 }, (_, index) => signInFrom(test_.url, '127.0.0.7', `parallel-${index}`, 'Winter2026!')));
    const statuses = results.map((result) => result.status);
    assert.ok(statuses.every((status) => status === 401 || status === 429), statuses.join(','));
    const refused = statuses.filter((status) => status === 429).length;
    assert.ok(refused >= 1, `some of 16 parallel guesses wait for the others (${refused} refused)`);
  });

  test('one source spraying over many names runs out of budget', async () => {
    let refusedAt: number | null = null;
    for (let attempt = 0; attempt < policy.sourceFailuresMax + 5 && refusedAt === null; attempt += 1) {
      const result = await signInFrom(test_.url, '127.0.0.5', `user-${attempt}`, 'Spring2026!');
      if (result.status === 429) refusedAt = attempt;
      else assert.equal(result.status, 401);
    }
    assert.equal(refusedAt, policy.sourceFailuresMax, 'refused once the per-source budget is spent');
    const message = (await signInFrom(test_.url, '127.0.0.5', 'dora', 'dora-password-123')).message;
    assert.match(message, /from this address/);
    assert.equal((await signInFrom(test_.url, '127.0.0.6', 'dora', 'dora-password-123')).status, 200, 'other sources are not affected');
  });
});
