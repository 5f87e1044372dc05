/**
 * The Redis split-brain experiment, shared by test/stores/redis-sentinel.test.ts and
 * `npm run bench:split-brain`. Three real redis-servers (one primary, two replicas)
 * and three Sentinels on free loopback ports; with Faultline, a real control server
 * and a Faultline agent beside each Redis (`--data-plane redis://…`).
 *
 * Two clients write unique keys all along: one on the old primary's side, straight to
 * it (`a:N`), one on the majority's side, to whatever primary Sentinel names (`b:N`).
 * The old primary is then cut off: every connection Sentinel and the replicas have to
 * it goes through a TCP proxy that is blocked (live connections reset, new ones
 * refused), and with Faultline the agent's cluster transport isolates its node too.
 * Sentinel promotes a replica; the cut heals; Sentinel turns the old primary into a
 * replica of the new one (REPLICAOF, which throws its data away). The experiment
 * counts writes acknowledged, present on the final primary, and lost. The baseline
 * runs the same script with no Faultline: Redis and Sentinel on their own.
 */
import { Redis } from 'ioredis';
import { type RunningAgent, startAgent } from '../../agent/agent';
import { loadAgentConfig } from '../../agent/config';
import { type LocalRedisProcess, freeLoopbackPorts, redisScratchDir, startRedisServer, startSentinel } from '../../local-stores/redis';
import { type TcpProxy, startTcpProxy } from '../../test/helpers/tcp-proxy';
import { type TestServer, callApi, connectDashboard, startTestServer, waitFor } from '../../test/helpers/server-harness';

/** What one run measured. */
export interface RedisSplitBrainResult {
  mode: 'faultline' | 'baseline';
  acknowledged: number;
  present: number;
  lost: number;
  /** Acknowledged writes on the old primary between the cut and the fence (or the heal, without a fence). */
  acknowledgedOnMinorityAfterCut: number;
  /** Partition pushed to the console → first write refused on the old primary (ms); null without Faultline. */
  fenceLatencyMs: number | null;
  /** Cut → first write refused on the old primary (ms); null when none was refused before the heal. */
  cutToRefusalMs: number | null;
  /** Cut → Sentinel names the new primary (ms). */
  failoverMs: number;
  /** Heal → partition ended as recovered (Faultline) or old primary back in sync as a replica (baseline) (ms). */
  recoveryMs: number;
  heartbeatIntervalMs: number;
  /** The last problem the old primary's agent reported, if any. */
  agentError: string | null;
}

/** Settings of one run. */
export interface RedisSplitBrainOptions {
  mode: 'faultline' | 'baseline';
  /** Agents' heartbeat interval (ms). */
  heartbeatIntervalMs?: number;
  /** How long the old primary stays cut off after Sentinel promoted another (ms). */
  holdAfterFailoverMs?: number;
  /** Time between two writes of one client (ms). */
  writeIntervalMs?: number;
  log?: (line: string) => void;
}

const masterName = 'fl-split';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Where a client reaches a Redis. */
export interface RedisEndpoint {
  host: string;
  port: number;
}

const loopback = (port: number | null): RedisEndpoint | null => (port === null ? null : { host: '127.0.0.1', port });

/** A client writing unique keys to wherever `target()` points, counting what was acknowledged. */
export class Writer {
  readonly acknowledged: string[] = [];
  firstRefusalAtMs: number | null = null;
  acknowledgedAfter = (atMs: number) => this.acknowledgedAt.filter((at) => at >= atMs).length;
  private readonly acknowledgedAt: number[] = [];
  private client: Redis | null = null;
  private clientEndpoint = '';
  private counter = 0;
  private running = true;
  private readonly done: Promise<void>;

  constructor(private readonly prefix: string, private readonly target: () => Promise<RedisEndpoint | null>, intervalMs: number) {
    this.done = this.loop(intervalMs);
  }

  private connect({ host, port }: RedisEndpoint): Redis {
    if (this.client && this.clientEndpoint === `${host}:${port}`) return this.client;
    this.client?.disconnect();
    this.client = new Redis({ host, port, maxRetriesPerRequest: 0, enableOfflineQueue: false, connectTimeout: 500, commandTimeout: 500, retryStrategy: () => 100 });
    this.client.on('error', () => undefined);
    this.clientEndpoint = `${host}:${port}`;
    return this.client;
  }

  private async loop(intervalMs: number): Promise<void> {
    while (this.running) {
      const endpoint = await this.target().catch(() => null);
      if (endpoint !== null) {
        const key = `${this.prefix}:${this.counter}`;
        this.counter += 1;
        try {
          if ((await this.connect(endpoint).set(key, String(Date.now()))) === 'OK') {
            this.acknowledged.push(key);
            this.acknowledgedAt.push(Date.now());
          }
        } catch (error) {
          if (/NOREPLICAS/.test((error as Error).message) && this.firstRefusalAtMs === null) this.firstRefusalAtMs = Date.now();
        }
      }
      await sleep(intervalMs);
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.done;
    this.client?.disconnect();
  }
}

/** Which of the `acknowledged` keys `reader` holds. */
export async function countPresent(reader: Redis, acknowledged: readonly string[]): Promise<{ present: number; lostKeys: string[] }> {
  let present = 0;
  const lostKeys: string[] = [];
  for (let offset = 0; offset < acknowledged.length; offset += 1000) {
    const batch = acknowledged.slice(offset, offset + 1000);
    const values = await reader.mget(...batch);
    values.forEach((value, index) => {
      if (value === null) lostKeys.push(batch[index]!);
      else present += 1;
    });
  }
  return { present, lostKeys };
}

/** The Redis group: servers, Sentinels, and the proxy in front of the first primary. */
interface RedisGroup {
  servers: LocalRedisProcess[];
  sentinels: LocalRedisProcess[];
  proxy: TcpProxy;
  /** The port Sentinel names for the primary now. */
  primaryPort(): Promise<number | null>;
  stop(): Promise<void>;
}

async function startRedisGroup(): Promise<RedisGroup> {
  const scratch = await redisScratchDir('fl-redis-split');
  const [firstPort] = await freeLoopbackPorts(1);
  const proxy = await startTcpProxy({ host: '127.0.0.1', port: firstPort! });
  const first = await startRedisServer({ dir: scratch.dir, port: firstPort });
  const replicas = await Promise.all([0, 1].map(() => startRedisServer({ dir: scratch.dir, replicaOf: { host: '127.0.0.1', port: proxy.port } })));
  const servers = [first, ...replicas];
  const admin = new Redis({ host: '127.0.0.1', port: first.port });
  // Online, not merely connected: a replica still waiting for its first sync has none of the data.
  await waitFor('two replicas online and in sync', async () => (await admin.info('replication')).match(/state=online/g)?.length === 2, 15_000, 100);
  admin.disconnect();
  const settings = { masterName, master: { host: '127.0.0.1', port: proxy.port }, quorum: 2, downAfterMs: 1000, failoverTimeoutMs: 3000 };
  const sentinels = await Promise.all([0, 1, 2].map(() => startSentinel(scratch.dir, settings)));
  const asker = new Redis({ host: '127.0.0.1', port: sentinels[1]!.port, maxRetriesPerRequest: 0 });
  asker.on('error', () => undefined);
  return {
    servers,
    sentinels,
    proxy,
    async primaryPort() {
      const address = (await asker.call('SENTINEL', 'get-master-addr-by-name', masterName)) as [string, string] | null;
      return address ? Number(address[1]) : null;
    },
    async stop() {
      asker.disconnect();
      await Promise.all([...sentinels, ...servers].map((process) => process.kill()));
      await proxy.close();
      await scratch.remove();
    },
  };
}

/** A control server and one in-process agent per Redis, each agent fronting its Redis. */
async function startFaultline(group: RedisGroup, heartbeatIntervalMs: number): Promise<{ test: TestServer; agents: RunningAgent[]; stop(): Promise<void> }> {
  const test = await startTestServer({ env: { FAULTLINE_STABILITY_WINDOW_MS: '500', FAULTLINE_DIVERGENCE_RATIO_MAX: '1', FAULTLINE_DIVERGENCE_SAMPLE_MS: '1000' } });
  const ids = ['node-1', 'node-2', 'node-3'];
  const udpPorts = await freeLoopbackPorts(3);
  const agents: RunningAgent[] = [];
  for (const [index, id] of ids.entries()) {
    const { token } = await test.server.credentials.issue({ clusterId: 'redis', agentId: id, createdBy: 'bench' });
    const peers = ids.flatMap((peer, peerIndex) => (peer === id ? [] : [`${peer}=127.0.0.1:${udpPorts[peerIndex]}`])).join(',');
    const config = loadAgentConfig([
      '--id', id, '--cluster', 'redis', '--listen', `127.0.0.1:${udpPorts[index]}`, '--peers', peers, '--server', test.url,
      '--heartbeat-interval-ms', String(heartbeatIntervalMs), '--outbox-dir', 'memory', '--log-level', process.env.SPLIT_BRAIN_AGENT_LOG ?? 'error',
      '--data-plane', group.servers[index]!.url,
    ], { NODE_ENV: 'production', FAULTLINE_AGENT_TOKEN: token, FAULTLINE_CLUSTER_KEY: test.server.clusterKey });
    agents.push(await startAgent(config));
  }
  await waitFor('three agents reporting', async () => {
    const snapshot = test.server.service.snapshot('redis');
    return snapshot.nodes.length === 3 && snapshot.nodes.every((node) => !node.stale) && !snapshot.verdict.partitioned;
  }, 30_000, 100);
  return {
    test,
    agents,
    async stop() {
      for (const agent of agents) await agent.close();
      await test.stop();
    },
  };
}

/** One run of the experiment; everything it started is stopped before it returns. */
export async function runRedisSplitBrain(options: RedisSplitBrainOptions): Promise<RedisSplitBrainResult> {
  const heartbeatIntervalMs = options.heartbeatIntervalMs ?? 200;
  const log = options.log ?? (() => undefined);
  const group = await startRedisGroup();
  let faultline: Awaited<ReturnType<typeof startFaultline>> | null = null;
  const writers: Writer[] = [];
  try {
    if (options.mode === 'faultline') faultline = await startFaultline(group, heartbeatIntervalMs);
    const dashboard = faultline ? await connectDashboard(faultline.test.url, 'redis') : null;
    // When the partition reached the console: the detection the fence latency counts from.
    let detectedAtMs: number | null = null;
    dashboard?.socket.on('partition:changed', (partition) => {
      if (partition.endedAtMs === null && detectedAtMs === null) detectedAtMs = Date.now();
    });
    const oldPrimaryPort = group.servers[0]!.port;
    const writeIntervalMs = options.writeIntervalMs ?? 5;
    const minority = new Writer('a', async () => loopback(oldPrimaryPort), writeIntervalMs);
    let named: { port: number | null; atMs: number } = { port: null, atMs: 0 };
    const sentinelPrimary = async () => {
      if (Date.now() - named.atMs > 100) named = { port: await group.primaryPort(), atMs: Date.now() };
      return loopback(named.port);
    };
    const majority = new Writer('b', sentinelPrimary, writeIntervalMs);
    writers.push(minority, majority);
    await sleep(1500);

    const cutAtMs = Date.now();
    group.proxy.block();
    if (faultline) await callApi(faultline.test.url, '/api/faults/isolate', { method: 'POST', body: { clusterId: 'redis', node: 'node-1' } });
    log(`cut at ${new Date(cutAtMs).toISOString()}`);
    const newPrimary = await waitFor('Sentinel promotes a replica', async () => {
      const port = await group.primaryPort();
      return port !== null && port !== group.proxy.port ? port : null;
    }, 30_000, 50);
    const failoverMs = Date.now() - cutAtMs;
    if (dashboard) await waitFor('partition pushed', () => detectedAtMs, 10_000);
    log(`failover to port ${newPrimary} after ${failoverMs} ms`);
    await sleep(options.holdAfterFailoverMs ?? 1500);

    const healAtMs = Date.now();
    group.proxy.unblock();
    if (faultline) await callApi(faultline.test.url, '/api/faults/heal', { method: 'POST', body: { clusterId: 'redis' } });
    const oldPrimary = new Redis({ host: '127.0.0.1', port: oldPrimaryPort });
    oldPrimary.on('error', () => undefined);
    await waitFor('old primary back as an in-sync replica', async () => {
      const info = await oldPrimary.info('replication');
      return /role:slave/.test(info) && /master_link_status:up/.test(info) && /master_sync_in_progress:0/.test(info);
    }, 60_000, 100);
    oldPrimary.disconnect();
    let recoveryMs = Date.now() - healAtMs;
    if (faultline && dashboard) {
      const partitionId = dashboard.partitions.find((partition) => partition.endedAtMs === null)?.id;
      const ended = await waitFor('partition ended', () => dashboard.partitions.find((partition) => partition.id === partitionId && partition.endedAtMs !== null), 90_000, 100)
        .catch(async (error: unknown) => {
          await Promise.all(writers.map((writer) => writer.stop()));
          await sleep(500);
          for (const agent of faultline?.agents ?? []) {
            const digest = await agent.dataPlane.adapter.digest(256);
            log(`${agent.config.id} digest ${digest.root} keys ${digest.keyCount}`);
          }
          for (const [index, server] of group.servers.entries()) {
            const probe = new Redis({ host: '127.0.0.1', port: server.port });
            const role = /role:(\w+)/.exec(await probe.info('replication'))?.[1];
            log(`node-${index + 1}: ${role} keys ${await probe.dbsize()} status ${JSON.stringify(faultline?.agents[index]?.dataPlane.status())}`);
            probe.disconnect();
          }
          throw error;
        });
      recoveryMs = Date.now() - healAtMs;
      log(`partition ended: ${ended.outcome}`);
    }
    dashboard?.close();
    await sleep(300);
    await Promise.all(writers.map((writer) => writer.stop()));

    const finalPort = (await group.primaryPort()) ?? newPrimary;
    log(`final primary ${finalPort} (promoted ${newPrimary}); servers ${group.servers.map((server) => server.port).join(' ')}`);
    const reader = new Redis({ host: '127.0.0.1', port: finalPort });
    const acknowledged = [...minority.acknowledged, ...majority.acknowledged];
    const { present, lostKeys } = await countPresent(reader, acknowledged);
    if (lostKeys.length > 0) log(`lost ${lostKeys.length}: first ${lostKeys.slice(0, 5).join(' ')} last ${lostKeys.slice(-5).join(' ')}; cut→heal ${healAtMs - cutAtMs} ms`);
    reader.disconnect();
    const fenceAt = minority.firstRefusalAtMs;
    const agentError = faultline?.agents[0]?.dataPlane.status().store?.error ?? null;
    return {
      mode: options.mode,
      acknowledged: acknowledged.length,
      present,
      lost: acknowledged.length - present,
      acknowledgedOnMinorityAfterCut: minority.acknowledgedAfter(cutAtMs),
      fenceLatencyMs: fenceAt !== null && detectedAtMs !== null ? fenceAt - detectedAtMs : null,
      cutToRefusalMs: fenceAt !== null && fenceAt < healAtMs ? fenceAt - cutAtMs : null,
      failoverMs,
      recoveryMs,
      heartbeatIntervalMs,
      agentError,
    };
  } finally {
    await Promise.all(writers.map((writer) => writer.stop()));
    await faultline?.stop();
    await group.stop();
  }
}
