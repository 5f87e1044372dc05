/**
 * Starts a real Faultline server for a test: real PostgreSQL (a fresh database)
 * or the embedded PGlite, real HTTP and Socket.IO on a free loopback port,
 * optionally the demo agents as real processes with real UDP sockets.
 *
 * Every route needs a signed-in caller, so each test server gets a known first
 * admin password (`testAdminPassword`) and an admin bearer token that `callApi`
 * and `connectDashboard` send by default; pass `auth: 'none'` or your own headers
 * to test what anonymous or lesser callers get.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { io, type Socket } from 'socket.io-client';
import type { ClientToServerEvents, ClusterSnapshot, ServerToClientEvents } from '../../core/realtime-contract';
import { loadConfig } from '../../server/config';
import { createLogger } from '../../server/logger';
import { type RunningServer, startServer } from '../../server/start-server';
import { type TestDatabase, createTestDatabase } from './database';

/** A server started for a test, with everything to clean up. */
export interface TestServer {
  server: RunningServer;
  url: string;
  database: TestDatabase | null;
  dataDir: string;
  /** An admin bearer token, sent by `callApi` and `connectDashboard` by default. */
  adminToken: string;
  stop(): Promise<void>;
}

/** Password of the first admin of every test server. */
export const testAdminPassword = 'test-admin-password-1';
/** Default Authorization header per server URL, set by `startTestServer`. */
const defaultHeadersByUrl = new Map<string, Record<string, string>>();

/** Options of `startTestServer`. */
export interface TestServerOptions {
  /** 'postgres' (default): a fresh database on the real server; 'embedded': PGlite in a temp dir. */
  database?: 'postgres' | 'embedded';
  /** Start N demo agents (0: none). */
  agents?: number;
  /** Serve the Next.js app (needs `npm run build` first). */
  web?: boolean;
  /** Extra environment for `loadConfig`. */
  env?: Record<string, string>;
  /** Reuse a data directory (to test restarts). */
  dataDir?: string;
  /** Reuse a database (to test restarts). */
  reuseDatabase?: TestDatabase;
}

/** Starts a server; call `stop()` in `after`. */
export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const dataDir = options.dataDir ?? (await mkdtemp(path.join(tmpdir(), 'faultline-test-')));
  const database = options.database === 'embedded' ? null : (options.reuseDatabase ?? (await createTestDatabase()));
  const agents = options.agents ?? 0;
  const config = loadConfig(
    {
      PORT: '0',
      HOST: '127.0.0.1',
      FAULTLINE_DATA_DIR: dataDir,
      FAULTLINE_DEMO: agents > 0 ? 'on' : 'off',
      FAULTLINE_DEMO_AGENTS: String(Math.max(agents, 2)),
      FAULTLINE_DEMO_HEARTBEAT_MS: process.env.TEST_HEARTBEAT_MS ?? '200',
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
      NODE_ENV: 'production',
      FAULTLINE_ADMIN_PASSWORD: testAdminPassword,
      ...(database ? { DATABASE_URL: database.url } : {}),
      ...options.env,
    },
    [],
  );
  config.web = options.web ?? false;
  const server = await startServer(config, createLogger(config.logLevel));
  const { token: adminToken } = await server.console.auth.createApiToken({ name: 'test-harness', role: 'admin', createdBy: 'test-harness' });
  defaultHeadersByUrl.set(server.url, { authorization: `Bearer ${adminToken}` });
  return {
    server,
    url: server.url,
    database,
    dataDir,
    adminToken,
    async stop() {
      defaultHeadersByUrl.delete(server.url);
      await server.close();
      if (!options.reuseDatabase) await database?.drop();
      if (!options.dataDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Polls `check` until it returns a truthy value or `timeoutMs` passes. */
export async function waitFor<T>(what: string, check: () => Promise<T | null | undefined | false> | T | null | undefined | false, timeoutMs = 15_000, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown = null;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`);
}

/**
 * Calls the JSON API and returns the parsed `{ ok, data | code, message }` and the
 * status. Sends the server's admin token unless `headers` are given or `auth` is 'none'.
 */
export async function callApi<T = unknown>(
  baseUrl: string,
  pathname: string,
  init: { method?: string; body?: unknown; headers?: Record<string, string>; auth?: 'admin' | 'none' } = {},
) {
  const authHeaders = init.auth === 'none' || init.headers ? {} : (defaultHeadersByUrl.get(baseUrl) ?? {});
  const response = await fetch(`${baseUrl}${pathname}`, {
    method: init.method ?? 'GET',
    headers: { ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}), ...authHeaders, ...init.headers },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  const payload = (await response.json()) as { ok: true; data: T } | { ok: false; code: string; message: string };
  return { status: response.status, payload };
}

/** A dashboard-side Socket.IO client subscribed to a cluster, recording every update. */
export async function connectDashboard(baseUrl: string, clusterId: string, options: { headers?: Record<string, string> } = {}) {
  const socket: Socket<ServerToClientEvents, ClientToServerEvents> = io(baseUrl, {
    transports: ['websocket'],
    extraHeaders: options.headers ?? defaultHeadersByUrl.get(baseUrl),
    // Its own connection: socket.io-client would otherwise multiplex onto an open
    // agent connection to the same URL, without these headers.
    forceNew: true,
  });
  const updates: ClusterSnapshot[] = [];
  const partitions: Parameters<ServerToClientEvents['partition:changed']>[0][] = [];
  socket.on('cluster:update', (snapshot) => updates.push(snapshot));
  socket.on('partition:changed', (partition) => partitions.push(partition));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
  const reply = await socket.timeout(5000).emitWithAck('cluster:subscribe', clusterId);
  return { socket, updates, partitions, first: reply, close: () => socket.close() };
}

/** Headers of a signed-in browser session: its cookie and CSRF token, as the console sends them. */
export interface SessionHeaders extends Record<string, string> {
  cookie: string;
  'x-csrf-token': string;
}

/** Signs in with a name and password and returns the session's headers; throws when refused. */
export async function signIn(baseUrl: string, name: string, password: string): Promise<SessionHeaders> {
  const response = await fetch(`${baseUrl}/api/auth/sign-in`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name, password }),
  });
  const payload = (await response.json()) as { ok: boolean; data?: { csrfToken: string }; message?: string };
  const cookie = response.headers.get('set-cookie')?.split(';')[0];
  if (!payload.ok || !payload.data || !cookie) throw new Error(`sign-in as ${name} refused: ${payload.message ?? response.status}`);
  return { cookie, 'x-csrf-token': payload.data.csrfToken };
}

/** Creates a user with the given role through the admin API and signs them in. */
export async function createSignedInUser(test: TestServer, name: string, role: 'viewer' | 'operator' | 'admin'): Promise<SessionHeaders> {
  const password = `${name}-password-123`;
  const created = await callApi(test.url, '/api/users', { method: 'POST', body: { name, role, password } });
  if (!created.payload.ok) throw new Error(`user ${name} not created: ${created.payload.message}`);
  return signIn(test.url, name, password);
}

/** Headers carrying a fresh bearer token of the given role, created through the server's auth service. */
export async function bearerHeaders(test: TestServer, role: 'viewer' | 'operator' | 'admin' = 'operator'): Promise<Record<string, string>> {
  const { token } = await test.server.console.auth.createApiToken({ name: `test-${role}-${Date.now()}`, role, createdBy: 'test' });
  return { authorization: `Bearer ${token}` };
}
