/**
 * Proves, with real TCP connections to a real server, that the HTTP listener
 * answers every request and lets no connection hold a file descriptor for long:
 * paths under `/socket.io` that Socket.IO does not own (`/socket.iox`,
 * `/socket.io` without its slash) get a 404 and the server closes the connection,
 * a few hundred times over; a connection that never sends a request, or stops
 * halfway through its headers, is closed by the server within the configured
 * headers timeout; a WebSocket upgrade to such a path gets a 404 too; Socket.IO's
 * own path still works; connections beyond the configured cap are dropped.
 */
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { type TestServer, connectDashboard, startTestServer } from '../helpers/server-harness';

/** The headers timeout this test configures (ms). */
const headersTimeoutMs = 1500;
/** Slack for the server's timeout check interval and a loaded machine (ms). */
const closeSlackMs = 2000;
/** Connections opened in the many-connections test, and how many at once. */
const connectionsTotal = 300;
const connectionsAtOnce = 50;

interface Outcome {
  response: string;
  /** Time from connect to the server closing the connection (ms), or null if the test gave up first. */
  closedAfterMs: number | null;
}

/** Opens a TCP connection, writes `request` (if any), and waits for the server to close it, at most `waitMs`. */
function exchange(port: number, request: string | null, waitMs: number): Promise<Outcome> {
  return new Promise((resolve) => {
    const socket: Socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let openedAtMs = Date.now();
    const finish = (closedAfterMs: number | null) => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ response: Buffer.concat(chunks).toString('latin1'), closedAfterMs });
    };
    const timer = setTimeout(() => finish(null), waitMs);
    socket.on('connect', () => {
      openedAtMs = Date.now();
      if (request !== null) socket.write(request);
    });
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('end', () => finish(Date.now() - openedAtMs));
    socket.on('close', () => finish(Date.now() - openedAtMs));
    socket.on('error', () => finish(Date.now() - openedAtMs));
  });
}

const get = (path: string) => `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`;

describe('HTTP listener limits', () => {
  let test: TestServer;
  let port: number;

  before(async () => {
    test = await startTestServer({ env: { FAULTLINE_HTTP_HEADERS_TIMEOUT_MS: String(headersTimeoutMs) } });
    port = test.server.port;
  });
  after(async () => {
    await test?.stop();
  });

  it(`answers ${connectionsTotal} requests for paths Socket.IO does not own with 404 and closes each connection`, async () => {
    const paths = ['/socket.iox', '/socket.io', '/socket.io.js', '/socket.iox/?EIO=4&transport=polling'];
    const outcomes: Outcome[] = [];
    for (let start = 0; start < connectionsTotal; start += connectionsAtOnce) {
      const batch = Array.from({ length: connectionsAtOnce }, (_, index) => exchange(port, get(paths[(start + index) % paths.length]!), 5000));
      outcomes.push(...(await Promise.all(batch)));
    }
    const unanswered = outcomes.filter((outcome) => !outcome.response.startsWith('HTTP/1.1 404'));
    const leftOpen = outcomes.filter((outcome) => outcome.closedAfterMs === null);
    assert.equal(unanswered.length, 0, `unanswered or not 404: ${unanswered.length}, first: ${JSON.stringify(unanswered[0]?.response.slice(0, 80))}`);
    assert.equal(leftOpen.length, 0, `${leftOpen.length} connections not closed by the server within 5 s`);
  });

  it('answers a WebSocket upgrade to a path Socket.IO does not own with 404 and closes it', async () => {
    const upgrade = 'GET /socket.iox/?EIO=4&transport=websocket HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n' +
      'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n';
    const outcome = await exchange(port, upgrade, 5000);
    assert.match(outcome.response, /^HTTP\/1\.1 404/);
    assert.notEqual(outcome.closedAfterMs, null);
  });

  it('closes a connection that never sends a request within the headers timeout', async () => {
    const outcome = await exchange(port, null, headersTimeoutMs + closeSlackMs);
    assert.notEqual(outcome.closedAfterMs, null, `an idle connection was still open after ${headersTimeoutMs + closeSlackMs} ms`);
  });

  it('closes a connection that stops halfway through its headers within the headers timeout', async () => {
    const outcome = await exchange(port, 'GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\n', headersTimeoutMs + closeSlackMs);
    assert.notEqual(outcome.closedAfterMs, null, `a half-sent request was still open after ${headersTimeoutMs + closeSlackMs} ms`);
  });

  it('still lets Socket.IO answer its own path, by polling and by WebSocket', async () => {
    const polled = await exchange(port, `GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`, 5000);
    assert.match(polled.response, /^HTTP\/1\.1 200/);
    assert.match(polled.response, /"sid":/);
    const dashboard = await connectDashboard(test.url, 'no-such-cluster');
    try {
      assert.equal(dashboard.socket.connected, true);
      assert.equal(dashboard.first.ok, false);
    } finally {
      dashboard.close();
    }
  });
});

describe('HTTP listener connection cap', () => {
  const connectionsMax = 20;
  let test: TestServer;

  before(async () => {
    test = await startTestServer({ env: { FAULTLINE_HTTP_CONNECTIONS_MAX: String(connectionsMax) } });
  });
  after(async () => {
    await test?.stop();
  });

  it(`drops connections beyond ${connectionsMax} at once and serves again when they are gone`, async () => {
    const held: Socket[] = [];
    try {
      for (let index = 0; index < connectionsMax; index += 1) {
        held.push(await new Promise<Socket>((resolve, reject) => {
          const socket = connect(test.server.port, '127.0.0.1', () => resolve(socket));
          socket.once('error', reject);
        }));
      }
      const extra = await Promise.all(Array.from({ length: 10 }, () => exchange(test.server.port, get('/api/health'), 3000)));
      assert.ok(extra.every((outcome) => outcome.closedAfterMs !== null && outcome.response === ''), 'each connection past the cap closed unanswered');
    } finally {
      for (const socket of held) socket.destroy();
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
    const answered = await exchange(test.server.port, `GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`, 5000);
    assert.match(answered.response, /^HTTP\/1\.1 (200|401)/);
  });
});
