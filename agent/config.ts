/**
 * The agent's configuration, from command-line flags, an optional JSON config
 * file (`--config FILE`; flags override it) and two secrets from the environment.
 * Parsed once with zod; every wrong value is named. The only agent module that
 * reads `process.env` or `process.argv`.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { ClusterIdSchema, NodeIdSchema, faultTtlMsMax, faultTtlMsMin } from '../core/protocol';
import { detectorModeDefault, resolveDetectorChoice } from './detector-settings';
import { type RedisTarget, parseRedisUrl } from './adapters/redis/redis-url';
import { type ClusterPort, type NetworkFaultsMode, faultTtlMsDefault, serverLossHealMsDefault } from './network-faults/defaults';
import { parseFaultPorts } from './network-faults/fault-scope';
import { type Endpoint, parseEndpoint } from './transport/transport';
import { writeKeysMax, writeRateMax } from './write-load';
import { serverUrlsMax } from './server-link';

const EndpointSchema = z.string().transform((text, context) => {
  try {
    return parseEndpoint(text);
  } catch (error) {
    context.addIssue({ code: 'custom', message: (error as Error).message });
    return z.NEVER;
  }
});

const PeersSchema = z.union([
  z.string().transform((text) =>
    text
      .split(',')
      .map((item) => item.trim())
      .filter(Boolean)
      .map((item) => {
        const [id, address] = item.split('=');
        return { id: id ?? '', address: address ?? '' };
      }),
  ),
  z.array(z.object({ id: z.string(), address: z.string() })),
]);

/** The store behind the data plane, by URL scheme: the reference store, `redis://` or `postgresql://`. */
export type DataPlaneTarget =
  | { kind: 'reference' }
  | ({ kind: 'redis' } & RedisTarget)
  | { kind: 'postgres'; url: string; dataDir: string | null; peers: string[] };

const storeUrlHint = 'redis://HOST:PORT, postgresql://USER@HOST:PORT/DB, or "reference" for the built-in store';

const isPostgresUrl = (text: string): boolean => {
  try {
    return ['postgresql:', 'postgres:'].includes(new URL(text).protocol);
  } catch {
    return false;
  }
};

const DataPlaneUrlSchema = z.string().max(2000).refine(isPostgresUrl, 'a store URL: postgresql://USER@HOST:PORT/DB');

/** `--data-plane`: the store picked by the URL's scheme; postgres' data directory and peers are added after parsing. */
const DataPlaneSchema = z.string().max(2000).transform((text, context): { kind: 'reference' } | ({ kind: 'redis' } & RedisTarget) | { kind: 'postgres'; url: string } => {
  if (text === 'reference') return { kind: 'reference' };
  if (isPostgresUrl(text)) return { kind: 'postgres', url: text };
  if (text.startsWith('redis:')) {
    try {
      return { kind: 'redis', ...parseRedisUrl(text) };
    } catch (error) {
      context.addIssue({ code: 'custom', message: `${(error as Error).message} (or "reference" for the built-in store)` });
      return z.NEVER;
    }
  }
  let scheme = 'none';
  try {
    scheme = `"${new URL(text).protocol}"`;
  } catch {
    scheme = 'not a URL';
  }
  context.addIssue({ code: 'custom', message: `unsupported store (${scheme}): expected ${storeUrlHint}` });
  return z.NEVER;
});

const AgentConfigSchema = z.object({
  id: NodeIdSchema,
  cluster: ClusterIdSchema.default('default'),
  listen: EndpointSchema,
  peers: PeersSchema.pipe(z.array(z.object({ id: NodeIdSchema, address: EndpointSchema })).min(1).max(1024)),
  /** One control server URL, or several (comma-separated, or a list in the config file) sharing one database. */
  server: z
    .union([z.string(), z.array(z.string())])
    .transform((value) => (Array.isArray(value) ? value : value.split(',')).map((url) => url.trim().replace(/\/$/, '')).filter((url) => url.length > 0))
    .pipe(z.array(z.url()).min(1).max(serverUrlsMax)),
  heartbeatIntervalMs: z.coerce.number().int().min(10).max(600_000).optional(),
  missedHeartbeats: z.coerce.number().int().min(1).max(100).default(3),
  profile: z.enum(['lan', 'wan', 'local', 'demo']).optional(),
  detector: z.enum(['fixed', 'phi', 'phi+indirect']).default(detectorModeDefault),
  reportIntervalMs: z.coerce.number().int().min(50).max(600_000).optional(),
  joinGraceMs: z.coerce.number().int().min(0).max(3_600_000).optional(),
  token: z.string().min(16, 'FAULTLINE_AGENT_TOKEN (or "token" in the config file) is required, at least 16 characters'),
  clusterKey: z.string().min(16, 'FAULTLINE_CLUSTER_KEY (or "clusterKey" in the config file) is required, at least 16 characters'),
  logLevel: z.enum(['silent', 'error', 'warn', 'info', 'debug']).default('info'),
  outboxDir: z.string().min(1).max(4096).optional(),
  outboxEntriesMax: z.coerce.number().int().min(10).max(10_000_000).default(10_000),
  outboxBytesMax: z.coerce.number().int().min(64 * 1024).max(16 * 1024 ** 3).default(64 * 1024 * 1024),
  storeListen: EndpointSchema.optional(),
  writeRate: z.coerce.number().min(0).max(writeRateMax).default(0),
  writeKeys: z.coerce.number().int().min(1).max(writeKeysMax).default(500),
  dataPlane: DataPlaneSchema.optional(),
  pgDataDir: z.string().min(1).max(4096).optional(),
  networkFaults: z.enum(['kernel', 'transport']).default('transport'),
  faultPorts: z.union([
    z.string().transform((text, context) => {
      try {
        return parseFaultPorts(text);
      } catch (error) {
        context.addIssue({ code: 'custom', message: (error as Error).message });
        return z.NEVER;
      }
    }),
    z.array(z.object({ protocol: z.enum(['udp', 'tcp']), port: z.number().int().min(1).max(65535) })),
  ]).pipe(z.array(z.object({ protocol: z.enum(['udp', 'tcp']), port: z.number().int() })).max(64)).default([]),
  faultTtlMs: z.coerce.number().int().min(faultTtlMsMin).max(faultTtlMsMax).default(faultTtlMsDefault),
  serverLossHealMs: z.coerce.number().int().min(1000).max(faultTtlMsMax).default(serverLossHealMsDefault),
  pgPeers: z.union([z.string().transform((text) => text.split(',').map((item) => item.trim()).filter(Boolean)), z.array(z.string())]).pipe(z.array(DataPlaneUrlSchema).max(16)).default([]),
});

/** The agent's validated settings. */
export interface AgentConfig {
  /** This node's id. */
  id: string;
  /** The cluster it belongs to. */
  clusterId: string;
  /** UDP endpoint it listens on for heartbeats. */
  listen: Endpoint;
  /** Its peers and their heartbeat endpoints. */
  peers: { id: string; endpoint: Endpoint }[];
  /** Control servers' base URLs (several instances on one database), tried in turn on failover. */
  serverUrls: string[];
  /** Time between heartbeats (ms); the brief's default is 5000, or the named profile's interval. */
  heartbeatIntervalMs: number;
  /** Missed heartbeats before a peer is unreachable under the fixed rule; the brief's default is 3. */
  missedHeartbeats: number;
  /** Detector profile whose formulas derive every duration from the interval (`--profile`; default: from the interval). */
  profile: 'lan' | 'wan' | 'local' | 'demo';
  /** Which detector decides reachability (`--detector`; default phi accrual confirmed by indirect probes). */
  detector: 'fixed' | 'phi' | 'phi+indirect';
  /** Time between periodic reports (ms); a change is reported at once regardless. */
  reportIntervalMs: number;
  /** How long a peer never heard from is presumed reachable after start (ms). */
  joinGraceMs: number;
  /** Credential presented to the control server. */
  token: string;
  /** HMAC key shared by the cluster's agents. */
  clusterKey: string;
  logLevel: 'silent' | 'error' | 'warn' | 'info' | 'debug';
  /** Directory of the durable outbox; null keeps reports in memory only (lost on restart). */
  outboxDir: string | null;
  /** Most reports kept waiting for the server; past it the oldest are dropped and counted. */
  outboxEntriesMax: number;
  /** Most bytes of reports kept waiting. */
  outboxBytesMax: number;
  /** Where the store's HTTP API listens (`--store-listen HOST:PORT`), or null for no API. */
  storeListen: Endpoint | null;
  /** Demo writes per second against the local store (`--write-rate`; 0, the default, writes nothing). */
  writeRate: number;
  /** Keys the demo writes spread over (`--write-keys`, default 500). */
  writeKeys: number;
  /** The store the data plane fences and reconciles (`--data-plane URL`: redis:// or postgresql://; the reference store when absent). */
  dataPlane: DataPlaneTarget;
  /** Where injected faults act (`--network-faults`): `transport` (default) or `kernel` (nftables/netem, when the probe finds it usable). */
  networkFaults: NetworkFaultsMode;
  /** Ports besides the heartbeat ports that kernel faults touch on peer addresses (`--fault-ports tcp:6379,udp:5000`). */
  faultPorts: ClusterPort[];
  /** Lease of fault rules whose command carries none (`--fault-ttl-ms`, default 5 min). */
  faultTtlMs: number;
  /** Dead man's switch: the agent heals every fault once the server has been gone this long (`--server-loss-heal-ms`, default 30 s). */
  serverLossHealMs: number;
}

/** Parses flags, config file and environment; throws an Error listing every problem. */
export function loadAgentConfig(argv: string[] = process.argv.slice(2), env: NodeJS.ProcessEnv = process.env): AgentConfig {
  const { values } = parseArgs({
    args: argv,
    options: {
      config: { type: 'string' },
      id: { type: 'string' },
      cluster: { type: 'string' },
      listen: { type: 'string' },
      peers: { type: 'string' },
      server: { type: 'string' },
      'heartbeat-interval-ms': { type: 'string' },
      'missed-heartbeats': { type: 'string' },
      profile: { type: 'string' },
      detector: { type: 'string' },
      'report-interval-ms': { type: 'string' },
      'join-grace-ms': { type: 'string' },
      'log-level': { type: 'string' },
      'outbox-dir': { type: 'string' },
      'outbox-entries-max': { type: 'string' },
      'outbox-bytes-max': { type: 'string' },
      'store-listen': { type: 'string' },
      'write-rate': { type: 'string' },
      'write-keys': { type: 'string' },
      'data-plane': { type: 'string' },
      'pg-data-dir': { type: 'string' },
      'pg-peers': { type: 'string' },
      'network-faults': { type: 'string' },
      'fault-ports': { type: 'string' },
      'fault-ttl-ms': { type: 'string' },
      'server-loss-heal-ms': { type: 'string' },
    },
    strict: true,
  });
  const fromFile: Record<string, unknown> = values.config ? JSON.parse(readFileSync(values.config, 'utf8')) : {};
  const merged = {
    ...fromFile,
    ...(values.id !== undefined && { id: values.id }),
    ...(values.cluster !== undefined && { cluster: values.cluster }),
    ...(values.listen !== undefined && { listen: values.listen }),
    ...(values.peers !== undefined && { peers: values.peers }),
    ...(values.server !== undefined && { server: values.server }),
    ...(values['heartbeat-interval-ms'] !== undefined && { heartbeatIntervalMs: values['heartbeat-interval-ms'] }),
    ...(values['missed-heartbeats'] !== undefined && { missedHeartbeats: values['missed-heartbeats'] }),
    ...(values.profile !== undefined && { profile: values.profile }),
    ...(values.detector !== undefined && { detector: values.detector }),
    ...(values['report-interval-ms'] !== undefined && { reportIntervalMs: values['report-interval-ms'] }),
    ...(values['join-grace-ms'] !== undefined && { joinGraceMs: values['join-grace-ms'] }),
    ...(values['log-level'] !== undefined && { logLevel: values['log-level'] }),
    ...(values['outbox-dir'] !== undefined && { outboxDir: values['outbox-dir'] }),
    ...(values['outbox-entries-max'] !== undefined && { outboxEntriesMax: values['outbox-entries-max'] }),
    ...(values['outbox-bytes-max'] !== undefined && { outboxBytesMax: values['outbox-bytes-max'] }),
    ...(values['store-listen'] !== undefined && { storeListen: values['store-listen'] }),
    ...(values['write-rate'] !== undefined && { writeRate: values['write-rate'] }),
    ...(values['write-keys'] !== undefined && { writeKeys: values['write-keys'] }),
    ...(values['data-plane'] !== undefined && { dataPlane: values['data-plane'] }),
    ...(values['pg-data-dir'] !== undefined && { pgDataDir: values['pg-data-dir'] }),
    ...(values['pg-peers'] !== undefined && { pgPeers: values['pg-peers'] }),
    ...(values['network-faults'] !== undefined && { networkFaults: values['network-faults'] }),
    ...(values['fault-ports'] !== undefined && { faultPorts: values['fault-ports'] }),
    ...(values['fault-ttl-ms'] !== undefined && { faultTtlMs: values['fault-ttl-ms'] }),
    ...(values['server-loss-heal-ms'] !== undefined && { serverLossHealMs: values['server-loss-heal-ms'] }),
    token: env.FAULTLINE_AGENT_TOKEN ?? fromFile.token,
    clusterKey: env.FAULTLINE_CLUSTER_KEY ?? fromFile.clusterKey,
  };
  const parsed = AgentConfigSchema.safeParse(merged);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
    throw new Error(`invalid agent configuration:\n  ${problems.join('\n  ')}`);
  }
  const c = parsed.data;
  if (c.peers.some((peer) => peer.id === c.id)) throw new Error('invalid agent configuration:\n  peers: must not include the agent itself');
  if (c.dataPlane?.kind !== 'postgres' && (c.pgDataDir !== undefined || c.pgPeers.length > 0)) {
    throw new Error('invalid agent configuration:\n  pgDataDir, pgPeers: need --data-plane postgresql://… (the server they belong to)');
  }
  const choice = resolveDetectorChoice({ profile: c.profile, heartbeatIntervalMs: c.heartbeatIntervalMs });
  return {
    id: c.id,
    clusterId: c.cluster,
    listen: c.listen,
    peers: c.peers.map((peer) => ({ id: peer.id, endpoint: peer.address })),
    serverUrls: c.server,
    heartbeatIntervalMs: choice.heartbeatIntervalMs,
    missedHeartbeats: c.missedHeartbeats,
    profile: choice.profile,
    detector: c.detector,
    reportIntervalMs: c.reportIntervalMs ?? Math.max(1000, choice.heartbeatIntervalMs),
    joinGraceMs: c.joinGraceMs ?? Math.max(15_000, 10 * choice.heartbeatIntervalMs),
    token: c.token,
    clusterKey: c.clusterKey,
    logLevel: c.logLevel,
    // Durable by default, one directory per agent; `--outbox-dir memory` opts out.
    outboxDir: c.outboxDir === 'memory' ? null : path.resolve(c.outboxDir ?? path.join('.faultline', 'agent-outbox', c.cluster, c.id)),
    outboxEntriesMax: c.outboxEntriesMax,
    outboxBytesMax: c.outboxBytesMax,
    storeListen: c.storeListen ?? null,
    writeRate: c.writeRate,
    writeKeys: c.writeKeys,
    dataPlane: c.dataPlane === undefined || c.dataPlane.kind === 'reference'
      ? { kind: 'reference' }
      : c.dataPlane.kind === 'redis'
        ? c.dataPlane
        : { kind: 'postgres', url: c.dataPlane.url, dataDir: c.pgDataDir === undefined ? null : path.resolve(c.pgDataDir), peers: c.pgPeers },
    networkFaults: c.networkFaults,
    faultPorts: c.faultPorts,
    faultTtlMs: c.faultTtlMs,
    serverLossHealMs: c.serverLossHealMs,
  };
}
