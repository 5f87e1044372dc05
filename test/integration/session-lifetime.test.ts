/**
 * Proves on a real server and real PostgreSQL that browser sessions follow the
 * configured policy: a session in use outlives the idle timeout (its activity
 * extends it), one left alone past the idle timeout is refused, by HTTP and by the
 * dashboard socket's re-check, even well inside its lifetime; a session in constant
 * use still ends at its lifetime; the cookie says that lifetime; and activity is
 * written to the database at most once per touch interval, not per request.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { io } from 'socket.io-client';
import { sha256 } from '../../server/auth/auth-service';
import { type SessionHeaders, type TestServer, callApi, startTestServer, testAdminPassword } from '../helpers/server-harness';

const lifetimeS = 12;
const idleTimeoutS = 3;
const touchIntervalS = 1;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Signs in as the first admin; returns the session's headers and the cookie's Max-Age. */
async function signInAdmin(url: string): Promise<{ headers: SessionHeaders; maxAgeS: number; idHash: string }> {
  const response = await fetch(`${url}/api/auth/sign-in`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'admin', password: testAdminPassword }),
  });
  const payload = (await response.json()) as { data: { csrfToken: string } };
  const setCookie = response.headers.get('set-cookie') ?? '';
  const cookie = setCookie.split(';')[0]!;
  return {
    headers: { cookie, 'x-csrf-token': payload.data.csrfToken },
    maxAgeS: Number(/Max-Age=(\d+)/i.exec(setCookie)?.[1]),
    idHash: sha256(decodeURIComponent(cookie.slice(cookie.indexOf('=') + 1))),
  };
}

describe('session lifetime and idle timeout', () => {
  let test_: TestServer;

  before(async () => {
    test_ = await startTestServer({
      env: {
        FAULTLINE_SESSION_LIFETIME_S: String(lifetimeS),
        FAULTLINE_SESSION_IDLE_TIMEOUT_S: String(idleTimeoutS),
        FAULTLINE_SESSION_TOUCH_INTERVAL_S: String(touchIntervalS),
      },
    });
  });
  after(async () => {
    await test_?.stop();
  });

  test('activity extends a session, idleness ends it, the lifetime ends it in spite of activity', async () => {
    const startedAtMs = Date.now();
    const idle = await signInAdmin(test_.url);
    const busy = await signInAdmin(test_.url);
    assert.equal(idle.maxAgeS, lifetimeS, 'the cookie lives as long as the configured lifetime');
    const use = async (session: { headers: SessionHeaders }) => (await callApi(test_.url, '/api/clusters', { headers: session.headers })).status;
    const lastSeen = async (idHash: string) => (await test_.server.database.prisma.session.findUniqueOrThrow({ where: { idHash } })).lastSeenAt.getTime();

    // Both in use for longer than the idle timeout, a request every 250 ms.
    const writes = new Set<number>();
    const activeUntilMs = startedAtMs + 5000;
    for (let round = 0; round < 40 && Date.now() < activeUntilMs; round += 1) {
      assert.equal(await use(idle), 200, `in use ${Date.now() - startedAtMs} ms after sign-in, past the ${idleTimeoutS} s idle timeout`);
      assert.equal(await use(busy), 200);
      writes.add(await lastSeen(idle.idHash));
      await sleep(250);
    }
    const activeMs = Date.now() - startedAtMs;
    assert.ok(activeMs > (idleTimeoutS + 1) * 1000, `active phase too short to prove anything (${activeMs} ms)`);
    // 20 requests, but activity written once per touch interval at most (plus the sign-in's value).
    assert.ok(writes.size >= 3 && writes.size <= Math.ceil(activeMs / (touchIntervalS * 1000)) + 1, `lastSeenAt took ${writes.size} values in ${activeMs} ms`);

    // Open a dashboard socket on the idle session while it is still valid.
    const socket = io(test_.url, { transports: ['websocket'], extraHeaders: { ...idle.headers, origin: test_.url }, reconnection: false, forceNew: true });
    const socketEnded = new Promise<number>((resolve) => socket.on('disconnect', () => resolve(Date.now())));
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', reject);
    });

    // Leave `idle` alone past the idle timeout (plus one touch interval of lag); keep `busy` in use.
    const idleSinceMs = Date.now();
    while (Date.now() < idleSinceMs + (idleTimeoutS + touchIntervalS) * 1000 + 500) {
      assert.equal(await use(busy), 200);
      await sleep(250);
    }
    assert.ok(Date.now() - startedAtMs < lifetimeS * 1000 - 1000, 'the idle check must happen well inside the lifetime');
    assert.equal(await use(idle), 401, 'a session idle past the idle timeout is refused');
    const stillSigned = await callApi<{ user: unknown } | null>(test_.url, '/api/auth/session', { headers: idle.headers });
    assert.equal(stillSigned.payload.ok && stillSigned.payload.data, null, 'the console sees it signed out');
    const endedAtMs = await Promise.race([socketEnded, sleep(8000).then(() => null)]);
    socket.close();
    assert.ok(endedAtMs !== null, 'the idle session\'s dashboard socket is ended by the re-check');

    // `busy` stays in use until its lifetime is over; then it is refused anyway.
    while (Date.now() < startedAtMs + lifetimeS * 1000 - 1000) {
      assert.equal(await use(busy), 200);
      await sleep(250);
    }
    await sleep(1500);
    assert.equal(await use(busy), 401, 'a session in use still ends at its lifetime');
  });

  test('a touch interval not shorter than the idle timeout is refused at start', async () => {
    const { loadConfig } = await import('../../server/config');
    const env = { NODE_ENV: 'production' as const, FAULTLINE_SESSION_IDLE_TIMEOUT_S: '60', FAULTLINE_SESSION_TOUCH_INTERVAL_S: '60' };
    assert.throws(
      () => loadConfig(env, []),
      /FAULTLINE_SESSION_TOUCH_INTERVAL_S: must be shorter than FAULTLINE_SESSION_IDLE_TIMEOUT_S/,
    );
  });
});
