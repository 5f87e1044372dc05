/**
 * The real-agent half of `npm run bench:detection` (also runnable alone:
 * `tsx bench/agent-resources.ts [--peers 5,50] [--seconds 20]`).
 *
 * An agent lives beside production nodes, so it must stay light. For each way of
 * running it (`bundle`: agent/main.ts bundled by esbuild into one module, run with
 * `agentNodeFlags`, as deployed; `tsx`: the sources through tsx, as the demo runs) and
 * each peer count P, this starts a cluster of P + 1 real agent processes (phi accrual
 * with indirect probes, 250 ms heartbeats, real UDP on loopback) reporting to a real control server (embedded PostgreSQL), waits until the
 * server sees every agent and every link up, lets it settle, then measures each agent
 * over a bounded window from /proc: resident memory (VmRSS, sampled every second; the
 * process's own and with its child processes, such as tsx's esbuild service) and CPU
 * share (utime + stime over the window, as a percentage of one core). It prints a
 * table and returns medians and maxima. Targets at 5 peers: under 64 MB resident and
 * under 2 % of a core.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freeUdpPorts } from '../server/demo-cluster';
import { startTestServer } from '../test/helpers/server-harness';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Heartbeat interval the targets are stated for (ms). */
export const benchHeartbeatIntervalMs = 250;
/** Resident memory target per agent at 5 peers (MB). */
export const residentMbTarget = 64;
/** CPU target per agent at 5 peers (% of one core). */
export const cpuPercentTarget = 2;
/** Longest wait for a cluster to come up whole (ms); the bench stops rather than hang. */
const clusterUpTimeoutMs = 120_000;
/** Settling time after the cluster is whole, before measuring (ms). */
const settleMs = 3000;
/** Kernel clock ticks per second for /proc/<pid>/stat times (USER_HZ, 100 on Linux). */
const clockTicksPerSecond = 100;

/** What one agent measured over the window. */
export interface AgentSample {
  agentId: string;
  /** Median VmRSS of the agent process over the window (MB). */
  residentMb: number;
  /** Median VmRSS of the agent and its child processes (MB). */
  residentTreeMb: number;
  /** Peak VmRSS of the agent process since it started (VmHWM, MB), startup included. */
  peakResidentMb: number;
  /** CPU time of the agent and its children over the window, as % of one core. */
  cpuPercent: number;
}

/** One peer count's result. */
export interface AgentResourceRow {
  /** How the agents were started. */
  runner: AgentRunner;
  peers: number;
  agents: number;
  windowMs: number;
  residentMbMedian: number;
  residentMbMax: number;
  residentTreeMbMedian: number;
  peakResidentMbMedian: number;
  cpuPercentMedian: number;
  cpuPercentMax: number;
  /** Whether the medians meet the targets (stated for 5 peers; reported for every row). */
  withinTargets: boolean;
  /** Whether the server saw the cluster whole (every agent reporting, no partition) before measuring. */
  whole: boolean;
}

interface ProcessTimes {
  ticks: number;
  residentKb: number;
  peakKb: number;
}

function readProcess(pid: number): ProcessTimes | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces) start at field 3.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
    return { ticks, residentKb: kb('VmRSS'), peakKb: kb('VmHWM') };
  } catch {
    return null;
  }
}

/** Child process ids of `pid`, recursively (bounded by the process table). */
function descendants(pid: number): number[] {
  const parents = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parents.set(parent, [...(parents.get(parent) ?? []), Number(entry)]);
    } catch {
      // The process ended while the table was read.
    }
  }
  const found: number[] = [];
  const queue = [...(parents.get(pid) ?? [])];
  while (queue.length > 0 && found.length < 1000) {
    const next = queue.shift()!;
    found.push(next);
    queue.push(...(parents.get(next) ?? []));
  }
  return found;
}

function treeTotals(pid: number, children: readonly number[]): { ticks: number; residentKb: number } {
  let ticks = 0;
  let residentKb = 0;
  for (const member of [pid, ...children]) {
    const times = readProcess(member);
    if (!times) continue;
    ticks += times.ticks;
    residentKb += times.residentKb;
  }
  return { ticks, residentKb };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return 0;
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

const round = (value: number, digits: number) => Math.round(value * 10 ** digits) / 10 ** digits;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function stopAll(children: readonly ChildProcess[]): Promise<void> {
  await Promise.all(
    children.map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
          child.once('exit', () => {
            clearTimeout(killer);
            resolve();
          });
          child.kill('SIGTERM');
        }),
    ),
  );
}

type Server = Awaited<ReturnType<typeof startTestServer>>;

/** How an agent process is started: the TypeScript sources through tsx with default Node flags (development, the demo), or one bundled ES module with `agentNodeFlags` (deployment). */
export type AgentRunner = 'bundle' | 'tsx';

/** Where the bench writes the agent bundle (ignored by git with the other build output). */
export const agentBundlePath = path.join(projectRoot, '.faultline', 'build', 'agent.mjs');

/**
 * Node flags a deployed agent runs with: a small young generation and a bounded old one
 * (the agent's live data is a few hundred kilobytes), and no V8 worker pool (its GC and
 * compile threads cost resident stacks and are not needed at this load).
 */
export const agentNodeFlags = ['--max-semi-space-size=1', '--max-old-space-size=48', '--v8-pool-size=0'];

/** Bundles agent/main.ts into one ES module (npm packages stay external, resolved from node_modules). */
export async function buildAgentBundle(): Promise<string> {
  const { build } = await import('esbuild');
  await build({
    entryPoints: [path.join(projectRoot, 'agent', 'main.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    outfile: agentBundlePath,
    logLevel: 'warning',
  });
  return agentBundlePath;
}

async function startCluster(server: Server, clusterId: string, peers: number, runner: AgentRunner): Promise<Map<string, ChildProcess>> {
  const count = peers + 1;
  const ports = await freeUdpPorts(count);
  const ids = ports.map((_, index) => `a${index + 1}`);
  const addresses = ids.map((id, index) => `${id}=127.0.0.1:${ports[index]}`);
  const processes = new Map<string, ChildProcess>();
  for (const [index, id] of ids.entries()) {
    const { token } = await server.server.credentials.issue({ clusterId, agentId: id, createdBy: 'bench-agent-resources' });
    const entry = runner === 'tsx' ? ['--import', 'tsx', path.join(projectRoot, 'agent', 'main.ts')] : [...agentNodeFlags, agentBundlePath];
    const args = [
      ...entry,
      '--id', id,
      '--cluster', clusterId,
      '--listen', `127.0.0.1:${ports[index]}`,
      '--peers', addresses.filter((_, peerIndex) => peerIndex !== index).join(','),
      '--server', server.url,
      '--heartbeat-interval-ms', String(benchHeartbeatIntervalMs),
      '--detector', 'phi+indirect',
      '--outbox-dir', 'memory',
      '--log-level', 'warn',
      '--join-grace-ms', String(clusterUpTimeoutMs),
    ];
    const child = spawn(process.execPath, args, {
      cwd: projectRoot,
      env: { ...process.env, FAULTLINE_AGENT_TOKEN: token, FAULTLINE_CLUSTER_KEY: server.server.clusterKey },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    child.stderr?.on('data', (chunk: Buffer) => process.stderr.write(`[${clusterId}/${id}] ${chunk.toString().slice(0, 500)}`));
    processes.set(id, child);
  }
  return processes;
}

/** Waits until the server sees every agent reporting and no partition; returns how long it took, or null after the bound. */
async function waitForWholeCluster(server: Server, clusterId: string, agents: number): Promise<number | null> {
  const startedAtMs = Date.now();
  while (Date.now() - startedAtMs < clusterUpTimeoutMs) {
    const cluster = server.server.service.findCluster(clusterId);
    if (cluster) {
      const snapshot = server.server.service.snapshot(clusterId);
      if (snapshot.nodes.length === agents && snapshot.nodes.every((node) => !node.stale) && !snapshot.verdict.partitioned) return Date.now() - startedAtMs;
    }
    await sleep(250);
  }
  // Measured anyway, and flagged: on a small machine a large all-real cluster may never settle.
  return null;
}

/** Measures every agent of a running cluster over `windowMs`. */
async function measureWindow(processes: Map<string, ChildProcess>, windowMs: number): Promise<AgentSample[]> {
  const tracked = [...processes.entries()].map(([agentId, child]) => {
    const pid = child.pid!;
    const children = descendants(pid);
    return { agentId, pid, children, startTicks: treeTotals(pid, children).ticks, resident: [] as number[], tree: [] as number[] };
  });
  const startedAtMs = Date.now();
  while (Date.now() - startedAtMs < windowMs) {
    await sleep(Math.min(1000, windowMs - (Date.now() - startedAtMs)));
    for (const agent of tracked) {
      agent.resident.push((readProcess(agent.pid)?.residentKb ?? 0) / 1024);
      agent.tree.push(treeTotals(agent.pid, agent.children).residentKb / 1024);
    }
  }
  const elapsedSeconds = (Date.now() - startedAtMs) / 1000;
  return tracked.map((agent) => {
    const ticks = treeTotals(agent.pid, agent.children).ticks - agent.startTicks;
    return {
      agentId: agent.agentId,
      residentMb: round(median(agent.resident), 1),
      residentTreeMb: round(median(agent.tree), 1),
      peakResidentMb: round((readProcess(agent.pid)?.peakKb ?? 0) / 1024, 1),
      cpuPercent: round((100 * ticks) / clockTicksPerSecond / elapsedSeconds, 2),
    };
  });
}

/** Measures one cluster of `peers + 1` agents started by `runner`; prints one table line. */
async function measureCluster(server: Server, peers: number, runner: AgentRunner, windowMs: number, log: (line: string) => void) {
  const clusterId = `bench-${runner}-${peers}`;
  const processes = await startCluster(server, clusterId, peers, runner);
  try {
    const upMs = await waitForWholeCluster(server, clusterId, peers + 1);
    await sleep(settleMs);
    const samples = await measureWindow(processes, windowMs);
    const row: AgentResourceRow = {
      runner,
      peers,
      agents: peers + 1,
      windowMs,
      residentMbMedian: round(median(samples.map((sample) => sample.residentMb)), 1),
      residentMbMax: Math.max(...samples.map((sample) => sample.residentMb)),
      residentTreeMbMedian: round(median(samples.map((sample) => sample.residentTreeMb)), 1),
      peakResidentMbMedian: round(median(samples.map((sample) => sample.peakResidentMb)), 1),
      cpuPercentMedian: round(median(samples.map((sample) => sample.cpuPercent)), 2),
      cpuPercentMax: Math.max(...samples.map((sample) => sample.cpuPercent)),
      withinTargets: false,
      whole: upMs !== null,
    };
    row.withinTargets = row.residentMbMedian < residentMbTarget && row.cpuPercentMedian < cpuPercentTarget;
    log(
      [
        runner.padEnd(7),
        String(peers).padStart(5),
        String(peers + 1).padStart(7),
        String(windowMs / 1000).padStart(9),
        `${row.residentMbMedian}/${row.residentMbMax}`.padStart(15),
        String(row.residentTreeMbMedian).padStart(16),
        String(row.peakResidentMbMedian).padStart(12),
        `${row.cpuPercentMedian}/${row.cpuPercentMax}`.padStart(19),
        `  ${row.withinTargets ? 'met' : 'missed'} (${upMs === null ? `NOT whole after ${clusterUpTimeoutMs} ms` : `whole after ${upMs} ms`})`,
      ].join(' '),
    );
    return { row, samples };
  } finally {
    await stopAll([...processes.values()]);
  }
}

/** Runs the measurement for each runner and peer count; prints a table; returns one row per pair. */
export async function measureAgentResources(
  options: { peerCounts?: number[]; windowMs?: number; runners?: AgentRunner[]; embedded?: boolean; log?: (line: string) => void } = {},
) {
  const peerCounts = options.peerCounts ?? [5, 50];
  const windowMs = options.windowMs ?? 20_000;
  const runners = options.runners ?? ['bundle', 'tsx'];
  const log = options.log ?? ((line: string) => console.log(line));
  const rows: AgentResourceRow[] = [];
  const agents: Record<string, AgentSample[]> = {};
  if (process.platform !== 'linux') {
    log(`agent resources: skipped (reads /proc; this is ${process.platform})`);
    return { skipped: `needs /proc (Linux), this is ${process.platform}`, heartbeatIntervalMs: benchHeartbeatIntervalMs, rows, agents };
  }
  if (runners.includes('bundle')) await buildAgentBundle();
  const server = await startTestServer({ database: options.embedded ? 'embedded' : 'postgres' });
  try {
    log(`runner  peers  agents  window s  RSS MB med/max  RSS+children MB  peak RSS MB  CPU % core med/max  targets (<${residentMbTarget} MB, <${cpuPercentTarget} %)`);
    for (const runner of runners) {
      for (const peers of peerCounts) {
        const { row, samples } = await measureCluster(server, peers, runner, windowMs, log);
        rows.push(row);
        agents[`${runner}-${peers}`] = samples;
      }
    }
  } finally {
    await server.stop();
  }
  return { skipped: null, heartbeatIntervalMs: benchHeartbeatIntervalMs, rows, agents };
}

function flagValue(argv: readonly string[], name: string): string | undefined {
  const index = argv.indexOf(name);
  return index >= 0 ? argv[index + 1] : undefined;
}

/** Options from `--peers 5,50`, `--seconds 20`, `--runners bundle,tsx` and `--embedded`, shared with bench/detection.ts. */
export function agentResourceOptions(argv: readonly string[]): { peerCounts: number[]; windowMs: number; runners: AgentRunner[]; embedded: boolean } {
  const peers = flagValue(argv, '--peers');
  const seconds = Number(flagValue(argv, '--seconds') ?? 20);
  const peerCounts = (peers ?? '5,50')
    .split(',')
    .map(Number)
    .filter((count) => Number.isInteger(count) && count >= 1 && count <= 200);
  const runners = (flagValue(argv, '--runners') ?? 'bundle,tsx')
    .split(',')
    .filter((runner): runner is AgentRunner => runner === 'bundle' || runner === 'tsx');
  return { peerCounts, windowMs: Math.min(120, Math.max(2, seconds)) * 1000, runners, embedded: argv.includes('--embedded') };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  measureAgentResources(agentResourceOptions(process.argv.slice(2)))
    .then((result) => {
      console.log(JSON.stringify({ benchmark: 'agent-resources', ...result }));
      process.exit(0);
    })
    .catch((error: unknown) => {
      console.error(error);
      process.exit(1);
    });
}
