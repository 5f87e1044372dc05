/**
 * The demo cluster: a few real agent processes on loopback, started by the server
 * so that a newcomer sees a live system at once. Each agent is an ordinary
 * `agent/main.ts` process with real UDP sockets.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freeLoopbackPorts } from '../local-stores/ports';
import { type LocalRedisGroup, redisServerAvailable, startLocalRedisGroup } from '../local-stores/redis';
import type { Logger } from './logger';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Id of the demo cluster. */
export const demoClusterId = 'demo';

/** The demo cluster's declared members: node-1..node-N, the ids its agents are started with, and the only ones its shared token speaks for. */
export function demoAgentIds(count: number): string[] {
  return Array.from({ length: count }, (_, index) => `node-${index + 1}`);
}

/** Asks the OS for `count` free UDP ports on 127.0.0.1 (held together so they are distinct). */
export async function freeUdpPorts(count: number): Promise<number[]> {
  const sockets = await Promise.all(
    Array.from({ length: count }, () => new Promise<ReturnType<typeof createSocket>>((resolve, reject) => {
      const socket = createSocket('udp4');
      socket.once('error', reject);
      socket.bind(0, '127.0.0.1', () => resolve(socket));
    })),
  );
  const ports = sockets.map((socket) => socket.address().port);
  await Promise.all(sockets.map((socket) => new Promise<void>((resolve) => socket.close(() => resolve()))));
  return ports;
}

/** Demo writes per second each demo agent makes against its own store, so a split has data to diverge. */
export const demoWriteRatePerAgent = 5;
/**
 * Keys of the demo's data set (seeded on every node before the load starts). With 5
 * agents at 5 writes/s, a 2 | 3 split (the minority fenced) changes about 15 keys/s,
 * 0.075 % of the data set: divergence passes the brief's 10 % after about two
 * minutes, so a short split stays in DegradedOperation and recovers by itself, and a
 * long one becomes an emergency, as in a real store.
 */
export const demoWriteKeys = 20_000;

/** Options of one cluster of local agent processes. */
export interface LocalClusterOptions {
  clusterId: string;
  agentCount: number;
  serverUrl: string;
  /** The token every agent presents, or a function giving each agent its own. */
  agentToken: string | ((agentId: string) => string);
  clusterKey: string;
  heartbeatIntervalMs: number;
  missedHeartbeatsMax: number;
  logger: Logger;
  /** Extra environment for the agents (for example a log level). */
  env?: NodeJS.ProcessEnv;
  /** Writes per second each agent makes against its store (default `demoWriteRatePerAgent`; 0 for none). */
  writeRatePerAgent?: number;
  /** Directory under which each agent keeps its durable outbox (`<dir>/<cluster>/<agent>`); one per server, so runs never share. */
  outboxRoot: string;
  /** `redis`: each agent fronts a real redis-server (a primary, replicas, three Sentinels) when the binary is installed. */
  store?: 'reference' | 'redis';
  /** Run this one-file agent build (plain node) instead of the sources through tsx, when the file exists. */
  agentBundle?: string | null;
}

/** A running set of agent processes. */
export interface LocalCluster {
  agentIds: string[];
  processes: Map<string, ChildProcess>;
  /** Base URL of each agent's store HTTP API (GET/PUT /kv/:key, GET /digest), by agent id. */
  storeUrls: Map<string, string>;
  stop(): Promise<void>;
}

/** Starts `agentCount` agents named node-1..node-N that all peer with each other. */
export async function startLocalCluster(options: LocalClusterOptions): Promise<LocalCluster> {
  const ports = await freeUdpPorts(options.agentCount);
  const storePorts = await freeLoopbackPorts(options.agentCount);
  const storeUrls = new Map<string, string>();
  const agentIds = demoAgentIds(ports.length);
  const peers = agentIds.map((id, index) => `${id}=127.0.0.1:${ports[index]}`);
  const processes = new Map<string, ChildProcess>();
  const log = options.logger.child({ component: 'demo-cluster' });
  const redis = await startDemoRedis(options, log);
  const bundle = options.agentBundle && existsSync(options.agentBundle) ? options.agentBundle : null;
  agentIds.forEach((id, index) => {
    const args = [
      ...(bundle ? [bundle] : ['--import', 'tsx', path.join(projectRoot, 'agent', 'main.ts')]),
      '--id', id,
      '--cluster', options.clusterId,
      '--listen', `127.0.0.1:${ports[index]}`,
      '--peers', peers.filter((_, peerIndex) => peerIndex !== index).join(','),
      '--server', options.serverUrl,
      '--heartbeat-interval-ms', String(options.heartbeatIntervalMs),
      '--missed-heartbeats', String(options.missedHeartbeatsMax),
      ...(redis
        ? ['--data-plane', redis.urls[index]!]
        : ['--store-listen', `127.0.0.1:${storePorts[index]}`, '--write-rate', String(options.writeRatePerAgent ?? demoWriteRatePerAgent), '--write-keys', String(demoWriteKeys)]),
      '--outbox-dir', path.join(options.outboxRoot, options.clusterId, id),
    ];
    if (!redis) storeUrls.set(id, `http://127.0.0.1:${storePorts[index]}`);
    const child = spawn(process.execPath, args, {
      cwd: projectRoot,
      env: {
        ...process.env,
        ...options.env,
        FAULTLINE_AGENT_TOKEN: typeof options.agentToken === 'function' ? options.agentToken(id) : options.agentToken,
        FAULTLINE_CLUSTER_KEY: options.clusterKey,
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    child.stderr?.on('data', (chunk: Buffer) => log.warn({ agent: id, stderr: chunk.toString().slice(0, 2000) }, 'agent stderr'));
    child.on('exit', (code, signal) => log.info({ agent: id, code, signal }, 'agent exited'));
    processes.set(id, child);
  });
  log.info({ agents: agentIds, runs: bundle ?? 'agent/main.ts through tsx', heartbeatIntervalMs: options.heartbeatIntervalMs, stores: Object.fromEntries(storeUrls), writeRatePerAgent: options.writeRatePerAgent ?? demoWriteRatePerAgent }, 'demo cluster started');
  if (redis) log.info({ redis: redis.urls, sentinels: redis.sentinelPorts }, 'demo agents front real redis-servers');
  return {
    agentIds,
    processes,
    storeUrls,
    async stop() {
      await stopAgents(processes);
      await redis?.stop();
    },
  };
}

/** The demo's Redis group when asked for and installed; null (the reference store) otherwise. */
async function startDemoRedis(options: LocalClusterOptions, log: Logger): Promise<LocalRedisGroup | null> {
  if (options.store !== 'redis') return null;
  if (!redisServerAvailable()) {
    log.warn('FAULTLINE_DEMO_STORE=redis but redis-server is not installed: the demo uses the reference store');
    return null;
  }
  return startLocalRedisGroup(options.agentCount);
}

async function stopAgents(processes: Map<string, ChildProcess>): Promise<void> {
  await Promise.all(
    [...processes.values()].map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          const killer = setTimeout(() => child.kill('SIGKILL'), 3000);
          child.once('exit', () => {
            clearTimeout(killer);
            resolve();
          });
          child.kill('SIGTERM');
        }),
    ),
  );
}
