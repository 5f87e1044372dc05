/**
 * Proves that the agent's link comes back by itself after every way a server can
 * drop it, over a real Socket.IO server on loopback: a server-side namespace
 * disconnect with close (what a shutting-down or de-duplicating server sends,
 * which socket.io-client does not retry on its own), a refused handshake, and a
 * closed transport; each time it logs going down and coming back.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Server } from 'socket.io';
import { agentNamespace } from '../core/realtime-contract';
import { MemoryOutbox } from './outbox';
import { ServerLink } from './server-link';

const hello = { clusterId: 'link-test', agentId: 'a', address: '127.0.0.1:9', incarnation: 1, peers: [] };

async function waitUntil(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('server link reconnection', () => {
  const httpServer = createServer();
  const io = new Server(httpServer);
  let url = '';
  /** What the server does with the next handshakes and hellos; each test sets it. */
  let refuseHandshakes = 0;
  let dropAfterHello: 'namespace' | 'transport' | null = null;
  let drops = 0;
  let hellos = 0;

  before(async () => {
    io.of(agentNamespace).use((_socket, next) => {
      if (refuseHandshakes <= 0) return next();
      refuseHandshakes -= 1;
      next(new Error('conflict: agent link-test/a is already connected'));
    });
    io.of(agentNamespace).on('connection', (socket) => {
      socket.on('hello', (_input: unknown, reply: (answer: unknown) => void) => {
        hellos += 1;
        reply({ ok: true, data: { serverTimeMs: Date.now() } });
        if (drops <= 0 || !dropAfterHello) return;
        drops -= 1;
        if (dropAfterHello === 'namespace') setTimeout(() => socket.disconnect(true), 20);
        else setTimeout(() => socket.conn.close(), 20);
      });
    });
    await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', () => resolve()));
    url = `http://127.0.0.1:${(httpServer.address() as AddressInfo).port}`;
  });
  after(async () => {
    await new Promise<void>((resolve) => io.close(() => resolve()));
  });

  const startLink = () => {
    const lines: string[] = [];
    const link = new ServerLink({
      serverUrls: [url],
      token: 'test-token',
      hello,
      outbox: new MemoryOutbox(10),
      onCommand: async () => ({ ok: true, data: null }),
      log: (_level, message) => lines.push(message),
    });
    return { link, lines };
  };

  for (const how of ['namespace', 'transport'] as const) {
    it(`reconnects after the server ends the session (${how} disconnect), every time, and logs it`, async () => {
      hellos = 0;
      dropAfterHello = how;
      drops = 3;
      const { link, lines } = startLink();
      try {
        await waitUntil('four hellos and a link that stays up', () => hellos === 4 && link.connected);
        assert.equal(lines.filter((line) => line.startsWith('disconnected from control server')).length, 3, lines.join('\n'));
        assert.equal(lines.filter((line) => line === 'reconnected to control server').length, 3, lines.join('\n'));
      } finally {
        await link.close();
      }
    });
  }

  it('keeps trying after refused handshakes, with backoff, and says why', async () => {
    hellos = 0;
    dropAfterHello = null;
    refuseHandshakes = 3;
    const startedAtMs = Date.now();
    const { link, lines } = startLink();
    try {
      await waitUntil('a hello after three refusals', () => hellos === 1 && link.connected);
      assert.equal(lines.filter((line) => line.includes('refused the handshake')).length, 3);
      // 250 ms doubling, randomized to half or more: at least 125 + 250 + 500 ms in all.
      assert.ok(Date.now() - startedAtMs >= 875, 'waited between attempts');
    } finally {
      await link.close();
    }
  });
});

describe('server link failover between several control servers', () => {
  /** A bare control server on loopback that greets agents and counts their hellos. */
  async function startServer() {
    const httpServer = createServer();
    const io = new Server(httpServer);
    const counts = { hellos: 0 };
    io.of(agentNamespace).on('connection', (socket) => {
      socket.on('hello', (_input: unknown, reply: (answer: unknown) => void) => {
        counts.hellos += 1;
        reply({ ok: true, data: { serverTimeMs: Date.now() } });
      });
    });
    await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', () => resolve()));
    const url = `http://127.0.0.1:${(httpServer.address() as AddressInfo).port}`;
    const stop = async () => {
      // What a killed server looks like from the agent: every transport closes and nothing answers again.
      for (const socket of io.of(agentNamespace).sockets.values()) socket.conn.close();
      await new Promise<void>((resolve) => io.close(() => resolve()));
    };
    return { url, counts, stop };
  }

  it('reconnects to the next server within a few seconds when its server dies, and logs which one', async () => {
    const first = await startServer();
    const second = await startServer();
    const lines: { message: string; fields?: Record<string, unknown> }[] = [];
    // The second URL points at nothing first: a dead entry in the list is skipped, not waited on for ever.
    const link = new ServerLink({
      serverUrls: [first.url, 'http://127.0.0.1:1', second.url],
      token: 'test-token',
      hello,
      outbox: new MemoryOutbox(10),
      onCommand: async () => ({ ok: true, data: null }),
      log: (_level, message, fields) => lines.push({ message, ...(fields ? { fields } : {}) }),
    });
    try {
      await waitUntil('a hello at the first server', () => first.counts.hellos === 1 && link.connected);
      assert.equal(link.serverUrl, first.url);
      const killedAtMs = Date.now();
      await first.stop();
      await waitUntil('a hello at the third server', () => second.counts.hellos === 1 && link.connected);
      const failoverMs = Date.now() - killedAtMs;
      assert.equal(link.serverUrl, second.url);
      // Two randomized steps of 250 and 500 ms at most, plus a refused connection to port 1.
      assert.ok(failoverMs < 5000, `failed over in ${failoverMs} ms`);
      const back = lines.find((line) => line.message === 'reconnected to control server');
      assert.equal(back?.fields?.server, second.url, JSON.stringify(lines));
      assert.ok(lines.some((line) => line.message.includes('unreachable') && line.fields?.server === 'http://127.0.0.1:1'), 'tried the dead entry and said so');
    } finally {
      await link.close();
      await second.stop();
    }
  });
});
