/**
 * Redis + Sentinel split brain with the cut made by the kernel: the same experiment
 * as test/stores/redis-sentinel.test.ts (bench/split-brain/redis-scenario.ts), but
 * each redis-server + Sentinel + Faultline agent triple runs in its own network
 * namespace (frs-n1..frs-n3, 198.51.100.131-133 on the bridge frs-br, whose host side
 * 198.51.100.129 serves the real control server), and the old primary's namespace is
 * cut off from the other two nodes with `iptables -A INPUT -s <peer> -j DROP` and
 * `-A OUTPUT -d <peer> -j DROP` (every protocol: replication, Sentinel, the agents'
 * heartbeats). Sentinel promotes a replica, the rules are flushed, Sentinel demotes
 * the old primary with REPLICAOF (which throws its data away).
 *
 * Two real clients on the host write unique keys all along, each to the primary its
 * Sentinel names: `a:N` asks the old primary's Sentinel (which goes on naming the old
 * primary through the cut: the client stays with the old primary, as it would beside
 * it), `b:N` asks a majority Sentinel. Counted at the end on the final primary:
 * acknowledged, present, lost; with Faultline and, the same script with no control
 * server or agents, the baseline, printed side by side.
 *
 * The control server stays reachable from the cut namespace: only the two peers'
 * addresses are dropped. The host side of the bridge is also where the clients are,
 * so dropping it would cut the old primary's own client too and leave nothing to lose;
 * and the split under test is the realistic one, the old primary with its clients on
 * one side, the other nodes on the other, the control plane on a network of its own.
 * (A control server cut off too is the self-fence's case, agent/adapters/redis/self-fence.ts.)
 *
 * Needs Linux, root, `ip`, `iptables` and `redis-server`; otherwise it prints why and
 * skips. Names start with `frs-` and addresses come from 198.51.100.128/25 only, so
 * test/netns/real-partitions.test.ts (`fl-`, 198.51.100.1/24) and this file never
 * touch each other's. `before` first kills every process in a `frs-` namespace and
 * removes every `frs-` namespace and link (a killed run's), `after` stops everything
 * started and removes them again, even on failure. The file is bounded to about 2 minutes.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import type { ClusterSnapshot } from '../../core/realtime-contract';
import { type LocalRedisProcess, redisServerAvailable, startRedisServer, startSentinel } from '../../local-stores/redis';
import { type RedisEndpoint, type RedisSplitBrainResult, Writer, countPresent } from '../../bench/split-brain/redis-scenario';
import { type TestServer, connectDashboard, startTestServer, waitFor } from '../helpers/server-harness';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const clusterId = 'redis-netns';
const nodeIds = ['n1', 'n2', 'n3'] as const;
type NodeId = (typeof nodeIds)[number];
/** 198.51.100.128/25 only (RFC 5737): the other netns test holds 198.51.100.1/24. */
const hostAddress = '198.51.100.129';
const prefixLength = 25;
const addressOf = (node: NodeId) => `198.51.100.${130 + Number(node.slice(1))}`;
/** Each namespace has its own ports, so they are fixed. */
const redisPort = 6379;
const sentinelPort = 26379;
const agentPort = 7946;
const heartbeatIntervalMs = 200;
const joinGraceMs = 2000;
const masterName = 'frs-split';
/** Under 15 characters, as interface names must be; only this file uses `frs-`. */
const namePrefix = 'frs-';
const bridgeName = `${namePrefix}br`;
const namespaceOf = (node: NodeId) => `${namePrefix}${node}`;
const hostVethOf = (node: NodeId) => `${namePrefix}h${node.slice(1)}`;
const innerVethOf = (node: NodeId) => `${namePrefix}i${node.slice(1)}`;
const ours = (name: string) => name.startsWith(namePrefix);
/** Bound on any one ip/iptables call (ms). */
const commandTimeoutMs = 10_000;
const writeIntervalMs = 5;
/** How long the old primary stays cut off after Sentinel promoted another (ms). */
const holdAfterFailoverMs = 1500;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function has(command: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function run(command: string, args: string[]): void {
  execFileSync(command, args, { stdio: ['ignore', 'ignore', 'pipe'], timeout: commandTimeoutMs });
}

function quietly(command: string, args: string[]): void {
  try {
    run(command, args);
  } catch {
    // Cleanup of something that may not exist.
  }
}

function listed(command: string, args: string[]): string[] {
  try {
    return execFileSync(command, args, { timeout: commandTimeoutMs }).toString().split('\n').filter((line) => line.trim() !== '');
  } catch {
    return [];
  }
}

/** Why this machine cannot run the test, or null when it can (it tries a namespace to be sure). */
function skipReason(): string | null {
  if (process.platform !== 'linux') return `needs Linux network namespaces (this is ${process.platform})`;
  if (process.getuid?.() !== 0) return 'needs root for ip netns and iptables (run as root, or in CI)';
  if (!has('ip')) return '`ip` (iproute2) is missing: apt-get install iproute2, or npm run test:setup';
  if (!has('iptables')) return '`iptables` is missing: apt-get install iptables, or npm run test:setup';
  if (!redisServerAvailable()) return '`redis-server` is missing: apt-get install redis-server';
  const probe = `${namePrefix}probe`;
  try {
    run('ip', ['netns', 'add', probe]);
    run('ip', ['netns', 'exec', probe, 'iptables', '-S']);
    return null;
  } catch (error) {
    return `cannot create a namespace with iptables here: ${String((error as { stderr?: Buffer }).stderr ?? error).trim().slice(0, 200)}`;
  } finally {
    quietly('ip', ['netns', 'del', probe]);
  }
}

function createNetwork(): void {
  run('ip', ['link', 'add', bridgeName, 'type', 'bridge']);
  run('ip', ['addr', 'add', `${hostAddress}/${prefixLength}`, 'dev', bridgeName]);
  run('ip', ['link', 'set', bridgeName, 'up']);
  for (const node of nodeIds) {
    const namespace = namespaceOf(node);
    run('ip', ['netns', 'add', namespace]);
    run('ip', ['link', 'add', hostVethOf(node), 'type', 'veth', 'peer', 'name', innerVethOf(node)]);
    run('ip', ['link', 'set', innerVethOf(node), 'netns', namespace]);
    run('ip', ['link', 'set', hostVethOf(node), 'master', bridgeName]);
    run('ip', ['link', 'set', hostVethOf(node), 'up']);
    run('ip', ['-n', namespace, 'addr', 'add', `${addressOf(node)}/${prefixLength}`, 'dev', innerVethOf(node)]);
    run('ip', ['-n', namespace, 'link', 'set', innerVethOf(node), 'up']);
    run('ip', ['-n', namespace, 'link', 'set', 'lo', 'up']);
  }
}

/**
 * Removes every `frs-` namespace and link, this run's or a killed run's. Processes
 * still inside a namespace are killed first: `ip netns del` only unmounts the name, and
 * a namespace with a process in it lives on, with its veth.
 */
function destroyNetwork(): void {
  for (const line of listed('ip', ['netns', 'list'])) {
    const namespace = line.split(' ')[0]!;
    if (!ours(namespace)) continue;
    for (const pid of listed('ip', ['netns', 'pids', namespace])) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    quietly('ip', ['netns', 'del', namespace]);
  }
  for (const line of listed('ip', ['-o', 'link', 'show'])) {
    const name = line.split(':')[1]?.trim().split('@')[0];
    if (name && ours(name)) quietly('ip', ['link', 'del', name]);
  }
}

/** Drops every packet between `node` and each of `peers`, both ways, inside `node`'s namespace. */
function cutOff(node: NodeId, peers: readonly NodeId[]): void {
  const iptables = ['netns', 'exec', namespaceOf(node), 'iptables'];
  for (const peer of peers) {
    run('ip', [...iptables, '-A', 'INPUT', '-s', addressOf(peer), '-j', 'DROP']);
    run('ip', [...iptables, '-A', 'OUTPUT', '-d', addressOf(peer), '-j', 'DROP']);
  }
}

function healAll(): void {
  for (const node of nodeIds) quietly('ip', ['netns', 'exec', namespaceOf(node), 'iptables', '-F']);
}

const inNamespace = (node: NodeId) => ['ip', 'netns', 'exec', namespaceOf(node)];

function startAgentIn(node: NodeId, serverUrl: string, token: string, clusterKey: string): ChildProcess {
  const peers = nodeIds.filter((peer) => peer !== node).map((peer) => `${peer}=${addressOf(peer)}:${agentPort}`);
  const args = [
    'netns', 'exec', namespaceOf(node),
    process.execPath, '--import', 'tsx', path.join(projectRoot, 'agent', 'main.ts'),
    '--id', node,
    '--cluster', clusterId,
    '--listen', `${addressOf(node)}:${agentPort}`,
    '--peers', peers.join(','),
    '--server', serverUrl,
    '--heartbeat-interval-ms', String(heartbeatIntervalMs),
    '--outbox-dir', 'memory',
    '--join-grace-ms', String(joinGraceMs),
    '--log-level', 'warn',
    '--data-plane', `redis://${addressOf(node)}:${redisPort}`,
  ];
  const child = spawn('ip', args, {
    cwd: projectRoot,
    env: { ...process.env, NODE_ENV: 'production', FAULTLINE_AGENT_TOKEN: token, FAULTLINE_CLUSTER_KEY: clusterKey },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  child.stderr?.on('data', (chunk: Buffer) => process.stderr.write(`[agent ${node}] ${chunk.toString().slice(0, 2000)}`));
  return child;
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    const killer = setTimeout(() => child.kill('SIGKILL'), 3000);
    child.once('exit', () => {
      clearTimeout(killer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** What one run measured: the loopback scenario's figures, but for the heartbeat it does not vary. */
type NetnsRunResult = Omit<RedisSplitBrainResult, 'heartbeatIntervalMs'>;

const reason = skipReason();
if (reason) process.stdout.write(`# redis-split-brain (netns): skipped: ${reason}\n`);

describe('Redis + Sentinel split brain cut by iptables in network namespaces', { skip: reason ?? false, timeout: 150_000 }, () => {
  /** Everything a run started, stopped by the run itself and again by `after`. */
  const started: { processes: LocalRedisProcess[]; agents: ChildProcess[]; clients: Redis[]; writers: Writer[]; test: TestServer | null; dirs: string[] } = {
    processes: [], agents: [], clients: [], writers: [], test: null, dirs: [],
  };
  const results: NetnsRunResult[] = [];

  const stopAll = async () => {
    await Promise.all(started.writers.splice(0).map((writer) => writer.stop()));
    for (const client of started.clients.splice(0)) client.disconnect();
    await Promise.all(started.agents.splice(0).map(stopProcess));
    await started.test?.stop();
    started.test = null;
    await Promise.all(started.processes.splice(0).map((server) => server.kill()));
    await Promise.all(started.dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
  };

  const client = (endpoint: RedisEndpoint) => {
    const redis = new Redis({ ...endpoint, maxRetriesPerRequest: 0, connectTimeout: 500, commandTimeout: 1000, retryStrategy: () => 100 });
    redis.on('error', () => undefined);
    started.clients.push(redis);
    return redis;
  };

  /** One run: a fresh Redis group (and with Faultline a server and agents) on the same namespaces. */
  const runOnce = async (mode: 'faultline' | 'baseline'): Promise<NetnsRunResult> => {
    const log = (line: string) => void process.stdout.write(`# ${mode}: ${line}\n`);
    healAll();
    const endpointOf = (node: NodeId): RedisEndpoint => ({ host: addressOf(node), port: redisPort });
    const dirOf = new Map<NodeId, string>();
    for (const node of nodeIds) {
      const dir = await mkdtemp(path.join(tmpdir(), `frs-${node}-`));
      started.dirs.push(dir);
      dirOf.set(node, dir);
    }
    const servers = new Map<NodeId, LocalRedisProcess>();
    for (const node of nodeIds) {
      const server = await startRedisServer({
        dir: dirOf.get(node)!, host: addressOf(node), port: redisPort, launcher: inNamespace(node),
        ...(node === 'n1' ? {} : { replicaOf: endpointOf('n1') }),
      });
      started.processes.push(server);
      servers.set(node, server);
    }
    const oldPrimary = client(endpointOf('n1'));
    await waitFor('two replicas online and in sync', async () => (await oldPrimary.info('replication')).match(/state=online/g)?.length === 2, 15_000, 100);
    const settings = { masterName, master: endpointOf('n1'), quorum: 2, downAfterMs: 1000, failoverTimeoutMs: 3000 };
    for (const node of nodeIds) {
      started.processes.push(await startSentinel(dirOf.get(node)!, settings, { host: addressOf(node), port: sentinelPort, launcher: inNamespace(node) }));
    }
    /** The primary the Sentinel in `node`'s namespace names, asked at most every 100 ms. */
    const sentinelOf = (node: NodeId) => {
      const asker = client({ host: addressOf(node), port: sentinelPort });
      let named: { endpoint: RedisEndpoint | null; atMs: number } = { endpoint: null, atMs: 0 };
      return async (): Promise<RedisEndpoint | null> => {
        if (Date.now() - named.atMs > 100) {
          const address = (await asker.call('SENTINEL', 'get-master-addr-by-name', masterName)) as [string, string] | null;
          named = { endpoint: address ? { host: address[0], port: Number(address[1]) } : null, atMs: Date.now() };
        }
        return named.endpoint;
      };
    };
    const minoritySentinel = sentinelOf('n1');
    const majoritySentinel = sentinelOf('n2');
    await waitFor('every Sentinel knows the others', async () => {
      const sentinels = (await client({ host: addressOf('n2'), port: sentinelPort }).call('SENTINEL', 'sentinels', masterName)) as unknown[];
      return sentinels.length === 2;
    }, 15_000, 100);

    let detectedAtMs: number | null = null;
    let dashboard: Awaited<ReturnType<typeof connectDashboard>> | null = null;
    let snapshot: (() => ClusterSnapshot) | null = null;
    if (mode === 'faultline') {
      const test = await startTestServer({
        env: { HOST: hostAddress, FAULTLINE_STABILITY_WINDOW_MS: '500', FAULTLINE_DIVERGENCE_RATIO_MAX: '1', FAULTLINE_DIVERGENCE_SAMPLE_MS: '1000' },
      });
      started.test = test;
      for (const node of nodeIds) {
        const { token } = await test.server.credentials.issue({ clusterId, agentId: node, createdBy: 'redis-netns-test' });
        started.agents.push(startAgentIn(node, test.url, token, test.server.clusterKey));
      }
      snapshot = () => test.server.service.snapshot(clusterId);
      const whole = () => {
        const latest = snapshot!();
        return latest.nodes.length === nodeIds.length && latest.nodes.every((node) => !node.stale && node.dataPlane?.store?.role !== undefined) && !latest.verdict.partitioned;
      };
      await waitFor('three agents in namespaces reporting their Redis, every link up', whole, 60_000, 100);
      await sleep(joinGraceMs);
      await waitFor('every link up after the agents\' join grace', whole, 15_000, 100);
      dashboard = await connectDashboard(test.url, clusterId);
      dashboard.socket.on('partition:changed', (partition) => {
        if (partition.endedAtMs === null && detectedAtMs === null) detectedAtMs = Date.now();
      });
    }

    const minority = new Writer('a', minoritySentinel, writeIntervalMs);
    const majority = new Writer('b', majoritySentinel, writeIntervalMs);
    started.writers.push(minority, majority);
    await sleep(1500);

    const cutAtMs = Date.now();
    cutOff('n1', ['n2', 'n3']);
    log(`cut n1 off from n2, n3 at ${new Date(cutAtMs).toISOString()}`);
    const newPrimary = await waitFor('a majority Sentinel promotes a replica', async () => {
      const named = await majoritySentinel();
      return named !== null && named.host !== addressOf('n1') ? named : null;
    }, 30_000, 50);
    const failoverMs = Date.now() - cutAtMs;
    log(`failover to ${newPrimary.host} after ${failoverMs} ms`);
    if (dashboard) await waitFor('partition pushed', () => detectedAtMs, 10_000);
    await sleep(holdAfterFailoverMs);

    const healAtMs = Date.now();
    healAll();
    await waitFor('old primary back as an in-sync replica', async () => {
      const info = await oldPrimary.info('replication');
      return /role:slave/.test(info) && /master_link_status:up/.test(info) && /master_sync_in_progress:0/.test(info);
    }, 60_000, 100);
    let recoveryMs = Date.now() - healAtMs;
    if (dashboard) {
      const partitionId = dashboard.partitions.find((partition) => partition.endedAtMs === null)?.id;
      const ended = await waitFor('partition ended', () => dashboard.partitions.find((partition) => partition.id === partitionId && partition.endedAtMs !== null), 60_000, 100);
      recoveryMs = Date.now() - healAtMs;
      log(`partition ended: ${ended.outcome}`);
      dashboard.close();
    }
    await sleep(300);
    await Promise.all(started.writers.splice(0).map((writer) => writer.stop()));

    const final = (await majoritySentinel()) ?? newPrimary;
    const acknowledged = [...minority.acknowledged, ...majority.acknowledged];
    const { present, lostKeys } = await countPresent(client(final), acknowledged);
    if (lostKeys.length > 0) log(`lost ${lostKeys.length}: first ${lostKeys.slice(0, 5).join(' ')}; cut→heal ${healAtMs - cutAtMs} ms`);
    const fenceAt = minority.firstRefusalAtMs;
    const result: NetnsRunResult = {
      mode,
      acknowledged: acknowledged.length,
      present,
      lost: acknowledged.length - present,
      acknowledgedOnMinorityAfterCut: minority.acknowledgedAfter(cutAtMs),
      fenceLatencyMs: fenceAt !== null && detectedAtMs !== null ? fenceAt - detectedAtMs : null,
      cutToRefusalMs: fenceAt !== null && fenceAt < healAtMs ? fenceAt - cutAtMs : null,
      failoverMs,
      recoveryMs,
      agentError: snapshot?.().nodes.find((node) => node.id === 'n1')?.dataPlane?.store?.error ?? null,
    };
    log(JSON.stringify(result));
    await stopAll();
    return result;
  };

  before(() => {
    destroyNetwork(); // Leftovers of a run killed before its own cleanup.
    createNetwork();
  });

  after(async () => {
    await stopAll();
    destroyNetwork();
    const [faultline, baseline] = [results.find((result) => result.mode === 'faultline'), results.find((result) => result.mode === 'baseline')];
    if (faultline || baseline) {
      const row = (name: keyof NetnsRunResult) => `# ${name.padEnd(32)} ${String(faultline?.[name] ?? '-').padStart(10)} ${String(baseline?.[name] ?? '-').padStart(10)}\n`;
      process.stdout.write(`# ${'iptables cut, netns'.padEnd(32)} ${'faultline'.padStart(10)} ${'baseline'.padStart(10)}\n`);
      for (const name of ['acknowledged', 'present', 'lost', 'acknowledgedOnMinorityAfterCut', 'fenceLatencyMs', 'cutToRefusalMs', 'failoverMs', 'recoveryMs'] as const) process.stdout.write(row(name));
      process.stdout.write(`# ${JSON.stringify({ store: 'redis', cut: 'iptables-netns', faultline, baseline })}\n`);
    }
  });

  it('with Faultline the old primary is fenced and no acknowledged write is lost', async () => {
    const result = await runOnce('faultline');
    results.push(result);
    assert.ok(result.acknowledged > 300, `the clients wrote (${result.acknowledged} acknowledged)`);
    assert.equal(result.lost, 0, 'Faultline lost an acknowledged write');
    assert.notEqual(result.cutToRefusalMs, null, 'the fence refused a real client write on the old primary during the cut');
    assert.equal(result.agentError, null);
  });

  it('without Faultline the same cut loses acknowledged writes (the baseline)', async () => {
    const result = await runOnce('baseline');
    results.push(result);
    assert.ok(result.acknowledged > 300, `the clients wrote (${result.acknowledged} acknowledged)`);
    assert.ok(result.lost > 0, 'without Faultline the old primary acknowledges writes during the cut that REPLICAOF throws away');
  });
});
