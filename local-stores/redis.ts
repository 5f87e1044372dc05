/**
 * Starts real `redis-server` processes (and Sentinels, the same binary) on free
 * loopback ports, each with its own directory, for the tests, the split-brain bench
 * and the demo cluster (hence its own folder: the server may not import agent/).
 * Never touches the machine's own Redis: ports come from the OS, `--dir` from a
 * fresh temporary directory, persistence off.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { freeLoopbackPorts } from './ports';

export { freeLoopbackPorts };

/** How long a started server may take to answer PING (ms). */
export const redisStartTimeoutMs = 10_000;

/** One running redis-server or sentinel. */
export interface LocalRedisProcess {
  port: number;
  url: string;
  process: ChildProcess;
  /** Kills it (SIGKILL) and waits for the exit. */
  kill(): Promise<void>;
}

/** Whether `redis-server` is on the PATH. */
export function redisServerAvailable(): boolean {
  return spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
}

async function waitForPing(host: string, port: number, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + redisStartTimeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`redis on ${host}:${port} exited with code ${child.exitCode}`);
    const client = new Redis({ host, port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.ping();
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 50));
    } finally {
      client.disconnect();
    }
  }
  throw new Error(`redis on ${host}:${port} did not answer within ${redisStartTimeoutMs} ms`);
}

/**
 * Where a server runs: the address it binds and is reached at (127.0.0.1 unless
 * given), and the command it is started under (e.g. `ip netns exec NAME`, which
 * execs redis-server itself, so killing the child kills the server).
 */
export interface RedisPlacement {
  host?: string;
  launcher?: readonly string[];
}

function spawnRedis(placement: RedisPlacement, args: string[]): ChildProcess {
  const [command, ...prefix] = [...(placement.launcher ?? []), 'redis-server'];
  return spawn(command!, [...prefix, ...args], { stdio: 'ignore' });
}

function handle(host: string, port: number, child: ChildProcess): LocalRedisProcess {
  return {
    port,
    url: `redis://${host}:${port}`,
    process: child,
    kill: () => new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    }),
  };
}

/** Starts one redis-server in `dir` (no persistence), optionally replicating from `replicaOf`. */
export async function startRedisServer(options: { dir: string; port?: number; replicaOf?: { host: string; port: number } } & RedisPlacement): Promise<LocalRedisProcess> {
  const port = options.port ?? (await freeLoopbackPorts(1))[0]!;
  const host = options.host ?? '127.0.0.1';
  const args = [
    '--port', String(port), '--bind', host, '--dir', options.dir,
    '--save', '', '--appendonly', 'no', '--protected-mode', 'no', '--daemonize', 'no', '--loglevel', 'warning',
    '--logfile', path.join(options.dir, `redis-${port}.log`),
    // A replica answers with stale data while it resyncs, as Redis does by default; the
    // timeout is short so that a cut is noticed in the time a test can wait.
    '--repl-timeout', '5', '--repl-ping-replica-period', '1', '--repl-diskless-sync-delay', '0',
    ...(options.replicaOf ? ['--replicaof', options.replicaOf.host, String(options.replicaOf.port)] : []),
  ];
  const child = spawnRedis(options, args);
  await waitForPing(host, port, child);
  return handle(host, port, child);
}

/** Settings of the Sentinels of a local group. */
export interface SentinelSettings {
  /** Name of the monitored master. */
  masterName: string;
  /** Where the Sentinels first find the master. */
  master: { host: string; port: number };
  quorum: number;
  downAfterMs: number;
  failoverTimeoutMs: number;
}

/** Starts one Sentinel in `dir` monitoring `settings.master`. */
export async function startSentinel(dir: string, settings: SentinelSettings, placement: RedisPlacement & { port?: number } = {}): Promise<LocalRedisProcess> {
  const port = placement.port ?? (await freeLoopbackPorts(1))[0]!;
  const host = placement.host ?? '127.0.0.1';
  const configFile = path.join(dir, `sentinel-${port}.conf`);
  await writeFile(configFile, [
    `port ${port}`, `bind ${host}`, 'protected-mode no', `dir ${dir}`, `logfile ${path.join(dir, `sentinel-${port}.log`)}`,
    `sentinel monitor ${settings.masterName} ${settings.master.host} ${settings.master.port} ${settings.quorum}`,
    `sentinel down-after-milliseconds ${settings.masterName} ${settings.downAfterMs}`,
    `sentinel failover-timeout ${settings.masterName} ${settings.failoverTimeoutMs}`,
    `sentinel parallel-syncs ${settings.masterName} 1`,
    '',
  ].join('\n'));
  const child = spawnRedis(placement, [configFile, '--sentinel']);
  await waitForPing(host, port, child);
  return handle(host, port, child);
}

/** A fresh temporary directory for one group's servers; `remove()` deletes it. */
export async function redisScratchDir(prefix: string): Promise<{ dir: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), `${prefix}-`));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** A local primary with replicas and three Sentinels, for the demo cluster. */
export interface LocalRedisGroup {
  /** One URL per server, the primary first. */
  urls: string[];
  sentinelPorts: number[];
  stop(): Promise<void>;
}

/** Starts `count` redis-servers (the first the primary) and three Sentinels watching them. */
export async function startLocalRedisGroup(count: number, masterName = 'faultline-demo'): Promise<LocalRedisGroup> {
  const scratch = await redisScratchDir('fl-redis-demo');
  const started: LocalRedisProcess[] = [];
  try {
    const primary = await startRedisServer({ dir: scratch.dir });
    started.push(primary);
    for (let index = 1; index < count; index += 1) started.push(await startRedisServer({ dir: scratch.dir, replicaOf: { host: '127.0.0.1', port: primary.port } }));
    const settings = { masterName, master: { host: '127.0.0.1', port: primary.port }, quorum: 2, downAfterMs: 2000, failoverTimeoutMs: 10_000 };
    const sentinels = [await startSentinel(scratch.dir, settings), await startSentinel(scratch.dir, settings), await startSentinel(scratch.dir, settings)];
    started.push(...sentinels);
    return {
      urls: started.slice(0, count).map((server) => server.url),
      sentinelPorts: sentinels.map((sentinel) => sentinel.port),
      async stop() {
        await Promise.all(started.map((process) => process.kill()));
        await scratch.remove();
      },
    };
  } catch (error) {
    await Promise.all(started.map((process) => process.kill()));
    await scratch.remove();
    throw error;
  }
}
