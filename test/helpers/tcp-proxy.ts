/**
 * A TCP proxy a test controls, to cut a connection path without touching the
 * machine's services: `block()` resets every live connection and refuses new ones
 * (accepted, then destroyed at once); `unblock()` lets traffic through again;
 * `freeze()` stops forwarding on live connections without closing them, as a
 * half-open connection looks to both ends.
 */
import net from 'node:net';

/** A running proxy. */
export interface TcpProxy {
  port: number;
  /** Connections accepted while blocked (and destroyed). */
  refusedCount(): number;
  block(): void;
  unblock(): void;
  /** Stops carrying bytes on every live connection, leaving them open. */
  freeze(): void;
  close(): Promise<void>;
}

/** Starts a proxy on 127.0.0.1 (free port) forwarding to `target`. */
export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const live = new Set<net.Socket>();
  const pairs = new Set<[net.Socket, net.Socket]>();
  let blocked = false;
  let refused = 0;
  const server = net.createServer((client) => {
    if (blocked) {
      refused += 1;
      client.resetAndDestroy();
      return;
    }
    const upstream = net.connect(target.port, target.host);
    live.add(client);
    live.add(upstream);
    const pair: [net.Socket, net.Socket] = [client, upstream];
    pairs.add(pair);
    const drop = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
      live.delete(client);
      live.delete(upstream);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    port: (server.address() as net.AddressInfo).port,
    refusedCount: () => refused,
    block() {
      blocked = true;
      for (const socket of live) socket.resetAndDestroy();
      live.clear();
    },
    unblock() {
      blocked = false;
    },
    freeze() {
      for (const [client, upstream] of pairs) {
        client.unpipe(upstream);
        upstream.unpipe(client);
        client.pause();
        upstream.pause();
      }
    },
    async close() {
      for (const socket of live) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
