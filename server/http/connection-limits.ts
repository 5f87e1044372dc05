/**
 * Limits of the one HTTP listener, so that a connection costs its file descriptor
 * for a bounded time only: Node's defaults check for slow requests every 30 s and
 * give a request 300 s, so a client that opens connections and never finishes a
 * request holds them for minutes. Also decides which paths Socket.IO owns, so
 * that every other path under `/socket.io` gets an answer instead of silence.
 */
import type { Server, ServerOptions } from 'node:http';
import type { Duplex } from 'node:stream';

/** The listener's connection limits. */
export interface ConnectionLimits {
  /** A connection must deliver a request's complete headers within this (ms), idle new connections included. */
  headersTimeoutMs: number;
  /** A request must be received completely (headers and body) within this (ms). */
  requestTimeoutMs: number;
  /** An idle keep-alive connection is closed after this (ms). */
  keepAliveTimeoutMs: number;
  /** Most connections held at once; beyond it new ones are dropped by the kernel-facing accept loop. */
  connectionsMax: number;
}

/** Defaults: generous for a slow browser, short enough that idle sockets cannot pile up. */
export const connectionLimitsDefault: ConnectionLimits = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5000,
  connectionsMax: 10_000,
};

/** How often Node looks for connections past their headers or request timeout (ms); its default is 30 s. */
const connectionsCheckingIntervalMs = 500;

/** Options for `http.createServer` that enforce `limits`. */
export function serverOptionsFor(limits: ConnectionLimits): ServerOptions {
  return {
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: Math.max(limits.requestTimeoutMs, limits.headersTimeoutMs),
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    connectionsCheckingInterval: Math.min(connectionsCheckingIntervalMs, limits.headersTimeoutMs),
  };
}

/** Applies the limits that are properties of the server rather than options of `createServer`. */
export function applyConnectionCap(server: Server, limits: ConnectionLimits): void {
  server.maxConnections = limits.connectionsMax;
}

/**
 * True when Socket.IO's engine answers `url` itself: it intercepts exactly the
 * requests whose URL starts with its path plus a slash (`/socket.io/`), so
 * `/socket.io`, `/socket.iox` or `/socket.io.js` are left to the rest of the server.
 */
export function isSocketIoRequest(url: string, socketIoPath: string): boolean {
  const owned = `${socketIoPath.replace(/\/$/, '')}/`;
  return url.slice(0, owned.length) === owned;
}

/**
 * Answers WebSocket upgrade requests near Socket.IO's path that it does not own
 * (`/socket.iox`) with a 404: Socket.IO's engine would only drop them, silently,
 * a second later. Other upgrade paths are left alone (Next.js may own them).
 */
export function refuseForeignSocketIoUpgrades(server: Server, socketIoPath: string): void {
  server.on('upgrade', (request: { url?: string }, socket: Duplex) => {
    const url = request.url ?? '/';
    if (url.startsWith(socketIoPath) && !isSocketIoRequest(url, socketIoPath)) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    }
  });
}
