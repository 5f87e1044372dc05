/**
 * Real packets, really dropped by the kernel. Proves that five real agent processes,
 * each in its own network namespace (198.51.100.11-15 on a bridge whose host side,
 * 198.51.100.1, serves a real control server on the real PostgreSQL), detect
 * partitions cut with iptables inside the namespaces, and that the server classifies
 * each one correctly and stores it:
 * - isolate one node: complete, the node alone on its side, isolated (it still reports);
 * - split halves {n1,n2} | {n3,n4,n5}: complete, the majority side named;
 * - bridge {n1,n2} | {n4,n5} with n3 hearing both: partial, n3 the bridge node;
 * - one-way n1 → n2 lost: asymmetric, the failing direction named;
 * - a deaf node (n4's inbound dropped, its outbound kept): asymmetric, a one-way
 *   partition towards n4 with all four failing directions named, n4 named deaf;
 * - a delayed link n2 ↔ n5 (about 200 ms each way with jitter; this kernel has no
 *   netem, so the delay is the agent transport's fault rule, `delayMs`/`jitterMs`, and
 *   the test says which path it took): never a partition, the measured delay shown.
 * Every case heals before the next, and the stored partitions end; a case that fails
 * still has its rules flushed and the cluster whole again before the next one starts.
 * Needs Linux, root, `ip` and `iptables`; otherwise it prints why and skips.
 * Namespaces, the bridge and the agents are removed in `after`, even on failure; the
 * iptables rules live inside the namespaces and go with them. A run killed before its
 * `after` (SIGKILL, a CI timeout) leaves agents running in its namespaces and a bridge
 * holding 198.51.100.1/24, whose route then takes the host's replies away from the next
 * run's agents: so names are fixed, and `before` first kills every process in a
 * namespace of ours and removes every namespace, link and address of ours it finds.
 * The whole file is bounded to about three minutes.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import path from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { PartitionSummary, ClusterSnapshot } from '../../core/realtime-contract';
import { type TestServer, callApi, startTestServer, waitFor } from '../helpers/server-harness';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const clusterId = 'netns';
const nodeIds = ['n1', 'n2', 'n3', 'n4', 'n5'];
/** Documentation range only (RFC 5737), as STACK-NOTES asks. */
const hostAddress = '198.51.100.1';
const addressOf = (node: string) => `198.51.100.${10 + Number(node.slice(1))}`;
const agentPort = 7946;
const heartbeatIntervalMs = 250;
/**
 * Fixed names (under 15 characters, as interface names must be), so the next run finds
 * and removes what a killed run left. Only this test uses the `fl-` prefix.
 */
const namePrefix = 'fl-';
const bridgeName = `${namePrefix}br`;
const namespaceOf = (node: string) => `${namePrefix}${node}`;
const hostVethOf = (node: string) => `${namePrefix}h${node.slice(1)}`;
const innerVethOf = (node: string) => `${namePrefix}i${node.slice(1)}`;
/** Names of earlier versions of this test (`fl<pid>n1`, `flb<pid>`), swept too. */
const oldNamePattern = /^fl(b?\d+|\d+[hi]\d|\d+n\d|\d+probe)$/;
const ours = (name: string) => name.startsWith(namePrefix) || oldNamePattern.test(name);
/**
 * How long an agent leaves a never-heard peer unjudged after its start (ms), passed to
 * the agents so the test knows it: a cut made inside this window is not seen for a peer
 * an agent has not heard yet (the default is 15 s, as long as a verdict wait).
 */
const joinGraceMs = 3000;
/** Bound on any one ip/iptables call (ms). */
const commandTimeoutMs = 10_000;
/** Bound on any one wait for the server to see something (ms). */
const verdictTimeoutMs = 15_000;

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

/** Why this machine cannot run the test, or null when it can (it tries a namespace to be sure). */
function skipReason(): string | null {
  if (process.platform !== 'linux') return `needs Linux network namespaces (this is ${process.platform})`;
  if (process.getuid?.() !== 0) return 'needs root for ip netns and iptables (run as root, or in CI)';
  if (!has('ip')) return '`ip` (iproute2) is missing: apt-get install iproute2, or npm run test:setup';
  if (!has('iptables')) return '`iptables` is missing: apt-get install iptables, or npm run test:setup';
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
  run('ip', ['addr', 'add', `${hostAddress}/24`, 'dev', bridgeName]);
  run('ip', ['link', 'set', bridgeName, 'up']);
  for (const node of nodeIds) {
    const namespace = namespaceOf(node);
    run('ip', ['netns', 'add', namespace]);
    run('ip', ['link', 'add', hostVethOf(node), 'type', 'veth', 'peer', 'name', innerVethOf(node)]);
    run('ip', ['link', 'set', innerVethOf(node), 'netns', namespace]);
    run('ip', ['link', 'set', hostVethOf(node), 'master', bridgeName]);
    run('ip', ['link', 'set', hostVethOf(node), 'up']);
    run('ip', ['-n', namespace, 'addr', 'add', `${addressOf(node)}/24`, 'dev', innerVethOf(node)]);
    run('ip', ['-n', namespace, 'link', 'set', innerVethOf(node), 'up']);
    run('ip', ['-n', namespace, 'link', 'set', 'lo', 'up']);
  }
}

function listed(command: string, args: string[]): string[] {
  try {
    return execFileSync(command, args, { timeout: commandTimeoutMs }).toString().split('\n').filter((line) => line.trim() !== '');
  } catch {
    return [];
  }
}

/**
 * Removes every namespace, link and host address of this test, its own or a killed
 * run's. Processes still inside a namespace (agents whose test runner died) are killed
 * first: `ip netns del` only unmounts the name, and a namespace with a process in it
 * lives on, with its veth and its address on the bridge.
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
  // Anything else holding the server's address would take its route.
  for (const line of listed('ip', ['-o', '-4', 'addr', 'show'])) {
    const name = line.split(/\s+/)[1];
    if (name && line.includes(` ${hostAddress}/`)) quietly('ip', ['addr', 'del', `${hostAddress}/24`, 'dev', name]);
  }
}

/** Drops cluster datagrams between `node` and each of `peers`, in the given directions, inside `node`'s namespace. */
function drop(node: string, peers: string[], directions: { inbound: boolean; outbound: boolean }): void {
  for (const peer of peers) {
    const base = ['netns', 'exec', namespaceOf(node), 'iptables'];
    if (directions.inbound) run('ip', [...base, '-A', 'INPUT', '-p', 'udp', '-s', addressOf(peer), '-j', 'DROP']);
    if (directions.outbound) run('ip', [...base, '-A', 'OUTPUT', '-p', 'udp', '-d', addressOf(peer), '-j', 'DROP']);
  }
}

const both = { inbound: true, outbound: true };

function healAll(): void {
  for (const node of nodeIds) run('ip', ['netns', 'exec', namespaceOf(node), 'iptables', '-F']);
}

function startAgent(node: string, serverUrl: string, token: string, clusterKey: string): ChildProcess {
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
    '--profile', 'local',
    '--detector', 'phi+indirect',
    '--outbox-dir', 'memory',
    '--join-grace-ms', String(joinGraceMs),
    '--log-level', 'warn',
  ];
  const child = spawn('ip', args, {
    cwd: projectRoot,
    env: { ...process.env, FAULTLINE_AGENT_TOKEN: token, FAULTLINE_CLUSTER_KEY: clusterKey },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  child.stderr?.on('data', (chunk: Buffer) => process.stderr.write(`[agent ${node}] ${chunk.toString().slice(0, 2000)}`));
  return child;
}

async function stopAgent(child: ChildProcess): Promise<void> {
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

const reason = skipReason();
if (reason) process.stdout.write(`# real-partitions: skipped: ${reason}\n`);

describe('real partitions in network namespaces', { skip: reason ?? false, timeout: 240_000 }, () => {
  let test: TestServer | null = null;
  const agents: ChildProcess[] = [];

  const snapshot = async (): Promise<ClusterSnapshot | null> => {
    const reply = await callApi<ClusterSnapshot>(test!.url, `/api/cluster?clusterId=${clusterId}`);
    return reply.payload.ok ? reply.payload.data : null;
  };
  const partitions = async (): Promise<PartitionSummary[]> => {
    const reply = await callApi<PartitionSummary[] | { items: PartitionSummary[] }>(test!.url, `/api/partitions?clusterId=${clusterId}&limit=50`);
    assert.ok(reply.payload.ok, JSON.stringify(reply.payload));
    const data = reply.payload.data;
    return Array.isArray(data) ? data : data.items;
  };
  const whole = (latest: ClusterSnapshot | null) =>
    latest !== null && latest.nodes.length === nodeIds.length && latest.nodes.every((node) => !node.stale) && !latest.verdict.partitioned;

  /** Waits for the verdict `matches` accepts, then for the stored partition of `type`; returns both. */
  const expectPartition = async (what: string, type: PartitionSummary['type'], matches: (snapshot: ClusterSnapshot) => boolean) => {
    const cutAtMs = Date.now();
    let last: ClusterSnapshot | null = null;
    const verdict = await waitFor(`${what}: verdict`, async () => {
      const latest = await snapshot();
      last = latest;
      return latest && latest.verdict.type === type && matches(latest) ? latest : null;
    }, verdictTimeoutMs, 100).catch((error: Error) => {
      // Say what the server saw instead, and which rules the namespaces hold, so a failure can be read.
      const seen = last as ClusterSnapshot | null;
      const rules = nodeIds.map((node) => {
        try {
          const listed = execFileSync('ip', ['netns', 'exec', namespaceOf(node), 'iptables', '-S', 'INPUT'], { timeout: commandTimeoutMs });
          return `${node}: ${listed.toString().trim().replace(/\n/g, '; ')}`;
        } catch (listError) {
          return `${node}: (rules unreadable: ${(listError as Error).message.slice(0, 80)})`;
        }
      });
      const stale = seen?.nodes.filter((node) => node.stale).map((node) => node.id) ?? [];
      const discounted = seen?.verdict.discountedObservers ?? [];
      throw new Error(`${error.message}; last verdict: ${seen?.verdict.summary ?? 'none'}; stale: [${stale.join(', ')}]; discounted (unhealthy) observers: [${discounted.join(', ')}]; rules: ${rules.join(' | ')}`);
    });
    const classifiedMs = Date.now() - cutAtMs;
    const stored = await waitFor(`${what}: stored ${type} partition`, async () =>
      (await partitions()).find((partition) => partition.endedAtMs === null && partition.type === type), verdictTimeoutMs, 200);
    process.stdout.write(`# measured: ${what}: classified ${type} after ${classifiedMs} ms (heartbeat ${heartbeatIntervalMs} ms)\n`);
    return { verdict, stored };
  };
  const heal = async (partitionId: string) => {
    healAll();
    await waitFor('healed: whole cluster', async () => whole(await snapshot()), verdictTimeoutMs, 100);
    await waitFor('healed: stored partition ended', async () =>
      (await partitions()).find((partition) => partition.id === partitionId && partition.endedAtMs !== null), verdictTimeoutMs, 200);
  };

  before(async () => {
    destroyNetwork(); // Leftovers of a run killed before its own cleanup.
    createNetwork();
    test = await startTestServer({ env: { HOST: hostAddress } });
    const server = test.server;
    for (const node of nodeIds) {
      const { token } = await server.credentials.issue({ clusterId, agentId: node, createdBy: 'real-partitions-test' });
      agents.push(startAgent(node, test.url, token, server.clusterKey));
    }
    await waitFor('five agents in namespaces reporting, every link up', async () => whole(await snapshot()), 60_000, 200);
    // An agent reports every peer reachable from its first report on, before it has heard
    // them; a peer it has never heard stays unjudged for the join grace. The last agent
    // started before "whole" was first seen, so past the grace every link is judged.
    await new Promise((resolve) => setTimeout(resolve, joinGraceMs));
    await waitFor('every link up after the agents\' join grace', async () => whole(await snapshot()), verdictTimeoutMs, 200);
  });

  // A case that failed before its heal must not leave its rules to the next case.
  afterEach(async () => {
    healAll();
    await waitFor('whole again before the next case', async () => whole(await snapshot()), verdictTimeoutMs, 100);
  });

  after(async () => {
    await Promise.all(agents.map(stopAgent));
    await test?.stop();
    destroyNetwork();
  });

  it('isolate one: complete, the node alone and isolated', async () => {
    drop('n1', ['n2', 'n3', 'n4', 'n5'], both);
    // The four others lose n1 before n1 has judged all four (it lost most peers at once, so
    // its own health score makes it slower to suspect): the first two-sided verdict may not
    // yet know n1 hears nobody. Wait for n1's own reports to say so too.
    const { verdict, stored } = await expectPartition('isolate n1', 'complete', (latest) =>
      latest.verdict.components.length === 2 && latest.verdict.isolatedNodes.includes('n1'));
    assert.deepEqual(verdict.verdict.components, [['n2', 'n3', 'n4', 'n5'], ['n1']]);
    assert.equal(verdict.verdict.majorityIndex, 0);
    assert.deepEqual(verdict.verdict.isolatedNodes, ['n1'], 'n1 still reports, so it is isolated, not crashed');
    assert.deepEqual(stored.components, [['n2', 'n3', 'n4', 'n5'], ['n1']]);
    await heal(stored.id);
  });

  it('split halves: complete, the majority side named', async () => {
    drop('n1', ['n3', 'n4', 'n5'], both);
    drop('n2', ['n3', 'n4', 'n5'], both);
    const { verdict, stored } = await expectPartition('split {n1,n2}|{n3,n4,n5}', 'complete', (latest) =>
      latest.verdict.components.length === 2 && latest.verdict.components[1]!.length === 2);
    assert.deepEqual(verdict.verdict.components, [['n3', 'n4', 'n5'], ['n1', 'n2']]);
    assert.equal(verdict.verdict.majorityIndex, 0);
    assert.deepEqual(verdict.verdict.isolatedNodes, []);
    await heal(stored.id);
  });

  it('bridge: partial, hanging on n3', async () => {
    drop('n1', ['n4', 'n5'], both);
    drop('n2', ['n4', 'n5'], both);
    const { verdict, stored } = await expectPartition('bridge {n1,n2}|n3|{n4,n5}', 'partial', (latest) => latest.verdict.cutLinks.length >= 4);
    assert.deepEqual(verdict.verdict.components, [['n1', 'n2', 'n3', 'n4', 'n5']]);
    assert.deepEqual(verdict.verdict.bridgeNodes, ['n3']);
    const down = verdict.verdict.cutLinks.map((link) => [link.a, link.b].sort().join('-')).sort();
    assert.deepEqual(down, ['n1-n4', 'n1-n5', 'n2-n4', 'n2-n5']);
    await heal(stored.id);
  });

  it('one-way: asymmetric, n1 → n2 named as the failing direction', async () => {
    drop('n2', ['n1'], { inbound: true, outbound: false });
    const { verdict, stored } = await expectPartition('one-way n1→n2', 'asymmetric', (latest) => latest.verdict.oneWayLinks.length > 0);
    assert.deepEqual(verdict.verdict.oneWayLinks, [{ from: 'n1', to: 'n2' }]);
    assert.deepEqual(verdict.verdict.components, [['n1', 'n2', 'n3', 'n4', 'n5']]);
    await heal(stored.id);
  });

  it('deaf node: n4 hears nobody, everyone hears it: a one-way partition towards n4, every failing direction named', async () => {
    drop('n4', ['n1', 'n2', 'n3', 'n5'], { inbound: true, outbound: false });
    const { verdict, stored } = await expectPartition('deaf n4 (inbound DROP only)', 'asymmetric', (latest) => latest.verdict.oneWayLinks.length === 4);
    const failing = verdict.verdict.oneWayLinks.map((link) => `${link.from}>${link.to}`).sort();
    assert.deepEqual(failing, ['n1>n4', 'n2>n4', 'n3>n4', 'n5>n4']);
    assert.deepEqual(verdict.verdict.deafNodes, ['n4']);
    assert.deepEqual(verdict.verdict.components, [['n1', 'n2', 'n3', 'n4', 'n5']]);
    await heal(stored.id);
  });

  it('delayed link: n2 ↔ n5 slowed by about 200 ms with jitter is no partition, and its delay is measured', async () => {
    process.stdout.write('# measured: delay path: agent transport fault rule (this kernel has no netem qdisc)\n');
    const degrade = await callApi(test!.url, '/api/faults/degrade', { method: 'POST', body: { clusterId, from: 'n2', to: 'n5', delayMs: 200, jitterMs: 100 } });
    assert.equal(degrade.status, 200, JSON.stringify(degrade.payload));
    try {
      const before = (await partitions()).length;
      const slow = await waitFor('the delay measured on n2 ↔ n5', async () => {
        const latest = await snapshot();
        assert.ok(!latest?.verdict.partitioned, `a slow link raised a partition: ${latest?.verdict.summary}`);
        const link = latest?.verdict.slowLinks.find((item) => [item.from, item.to].sort().join('-') === 'n2-n5');
        return link && link.delayMs >= 100 ? link : null;
      }, verdictTimeoutMs, 100);
      // Slow for 8 s more: never partitioned, nothing stored.
      const untilMs = Date.now() + 8000;
      while (Date.now() < untilMs) {
        const latest = await snapshot();
        assert.ok(!latest?.verdict.partitioned, `a slow link raised a partition: ${latest?.verdict.summary}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      assert.equal((await partitions()).length, before, 'no partition stored for a slow link');
      process.stdout.write(`# measured: delayed link: ${slow.from} -> ${slow.to} +${slow.delayMs} ms, no partition\n`);
    } finally {
      await callApi(test!.url, '/api/faults/heal', { method: 'POST', body: { clusterId } });
    }
  });
});
