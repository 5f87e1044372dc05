/**
 * The real-agent half of `npm run bench:detection` (also runnable alone:
 * `tsx bench/agent-resources.ts [--peers 5,50] [--seconds 20] [--rounds 3]`).
 *
 * An agent lives beside production nodes, so it must stay light. For each way of
 * running it (`bundle`: the file `npm run build:agent` writes, dist/faultline-agent.mjs,
 * run with plain `node` and the deploy flags `agentNodeFlags`, as deployed; `tsx`: the
 * sources through tsx, as `npm run agent` and the demo run; and any `--variant` given,
 * such as the build of an older revision or other Node flags) and each peer count P, this
 * starts a cluster of P + 1 real agent processes (phi accrual with indirect probes,
 * 250 ms heartbeats, real UDP on loopback) reporting to a real control server (real
 * PostgreSQL, or embedded with `--embedded`), waits until the server sees every agent and
 * every link up, lets it settle, then measures each agent over a bounded window from
 * /proc: resident memory (VmRSS, sampled every second; the process's own and with its
 * child processes, such as tsx's esbuild service) and CPU share (utime + stime over the
 * window, as a percentage of one core). With `--rounds N` every variant is measured N
 * times, interleaved, so that load from elsewhere on the machine falls on all of them
 * alike; the summary gives the median of the rounds. Targets at 5 peers: under 50 MB
 * resident and under 1 % of a core.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { agentBuildPath, agentNodeFlags, buildAgent } from '../scripts/build-agent';
import { freeUdpPorts } from '../server/demo-cluster';
import { startTestServer } from '../test/helpers/server-harness';
import { stopProcesses } from '../test/helpers/stop-processes';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Heartbeat interval the targets are stated for (ms). */
export const benchHeartbeatIntervalMs = 250;
/** Resident memory target per agent at 5 peers (MB). */
export const residentMbTarget = 50;
/** CPU target per agent at 5 peers (% of one core). */
export const cpuPercentTarget = 1;
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
  /** How the agents were started (a variant's name). */
  runner: string;
  /** Which round of `--rounds` (1 when not repeated). */
  round: number;
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

const roundValue = (value: number, digits: number) => Math.round(value * 10 ** digits) / 10 ** digits;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

type Server = Awaited<ReturnType<typeof startTestServer>>;

/**
 * How an agent process is started: `bundle`, the one-file build with `agentNodeFlags`
 * (deployment); `tsx`, the TypeScript sources through tsx with default flags
 * (development, the demo); or a named variant: another agent file and Node flags.
 */
export interface AgentVariant {
  /** Name in the table. */
  name: string;
  /** Arguments before the agent's own: Node flags and the entry point. */
  entry: string[];
}

/** The deployed form: the build output with the deploy flags. */
export const bundleVariant = (): AgentVariant => ({ name: 'bundle', entry: [...agentNodeFlags, agentBuildPath] });
/** The development form: the sources through tsx. */
export const tsxVariant = (): AgentVariant => ({ name: 'tsx', entry: ['--import', 'tsx', path.join(projectRoot, 'agent', 'main.ts')] });

/**
 * Parses `NAME|FILE|FLAGS`: FILE empty for the fresh build, FLAGS space-separated Node
 * flags (empty: the deploy flags; `none`: no flags).
 */
export function parseVariant(text: string): AgentVariant {
  const [name = '', file = '', flags = ''] = text.split('|');
  if (!/^[\w.+-]{1,16}$/.test(name)) throw new RangeError(`variant "${text}": NAME must be 1..16 word characters`);
  const nodeFlags = flags.trim() === '' ? agentNodeFlags : flags.trim() === 'none' ? [] : flags.trim().split(/\s+/);
  return { name, entry: [...nodeFlags, file.trim() === '' ? agentBuildPath : path.resolve(file.trim())] };
}

async function startCluster(server: Server, clusterId: string, peers: number, variant: AgentVariant): Promise<Map<string, ChildProcess>> {
  const count = peers + 1;
  const ports = await freeUdpPorts(count);
  const ids = ports.map((_, index) => `a${index + 1}`);
  const addresses = ids.map((id, index) => `${id}=127.0.0.1:${ports[index]}`);
  const processes = new Map<string, ChildProcess>();
  for (const [index, id] of ids.entries()) {
    const { token } = await server.server.credentials.issue({ clusterId, agentId: id, createdBy: 'bench-agent-resources' });
    const args = [
      ...variant.entry,
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
      residentMb: roundValue(median(agent.resident), 1),
      residentTreeMb: roundValue(median(agent.tree), 1),
      peakResidentMb: roundValue((readProcess(agent.pid)?.peakKb ?? 0) / 1024, 1),
      cpuPercent: roundValue((100 * ticks) / clockTicksPerSecond / elapsedSeconds, 2),
    };
  });
}

/** Measures one cluster of `peers + 1` agents started as `variant`; prints one table line. */
async function measureCluster(server: Server, peers: number, variant: AgentVariant, round: number, windowMs: number, log: (line: string) => void) {
  const clusterId = `bench-${variant.name}-${peers}-r${round}`;
  const processes = await startCluster(server, clusterId, peers, variant);
  try {
    const upMs = await waitForWholeCluster(server, clusterId, peers + 1);
    await sleep(settleMs);
    const samples = await measureWindow(processes, windowMs);
    const row: AgentResourceRow = {
      runner: variant.name,
      round,
      peers,
      agents: peers + 1,
      windowMs,
      residentMbMedian: round1(median(samples.map((sample) => sample.residentMb))),
      residentMbMax: Math.max(...samples.map((sample) => sample.residentMb)),
      residentTreeMbMedian: round1(median(samples.map((sample) => sample.residentTreeMb))),
      peakResidentMbMedian: round1(median(samples.map((sample) => sample.peakResidentMb))),
      cpuPercentMedian: roundValue(median(samples.map((sample) => sample.cpuPercent)), 2),
      cpuPercentMax: Math.max(...samples.map((sample) => sample.cpuPercent)),
      withinTargets: false,
      whole: upMs !== null,
    };
    row.withinTargets = meetsTargets(row.residentMbMedian, row.cpuPercentMedian);
    log(
      [
        variant.name.padEnd(10),
        String(round).padStart(5),
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
    await stopProcesses([...processes.values()]);
  }
}

const round1 = (value: number) => roundValue(value, 1);
const meetsTargets = (residentMb: number, cpuPercent: number) => residentMb < residentMbTarget && cpuPercent < cpuPercentTarget;

/** Per variant and peer count, the median over rounds of each round's medians. */
export interface AgentResourceSummary {
  runner: string;
  peers: number;
  rounds: number;
  residentMbMedian: number;
  peakResidentMbMedian: number;
  cpuPercentMedian: number;
  /** The rounds' CPU medians, for the spread. */
  cpuPercentRounds: number[];
  withinTargets: boolean;
}

function summarise(rows: readonly AgentResourceRow[], log: (line: string) => void): AgentResourceSummary[] {
  const groups = new Map<string, AgentResourceRow[]>();
  for (const row of rows) groups.set(`${row.runner}\u0000${row.peers}`, [...(groups.get(`${row.runner}\u0000${row.peers}`) ?? []), row]);
  const summary = [...groups.values()].map((group): AgentResourceSummary => {
    const residentMbMedian = round1(median(group.map((row) => row.residentMbMedian)));
    const cpuPercentMedian = roundValue(median(group.map((row) => row.cpuPercentMedian)), 2);
    return {
      runner: group[0]!.runner,
      peers: group[0]!.peers,
      rounds: group.length,
      residentMbMedian,
      peakResidentMbMedian: round1(median(group.map((row) => row.peakResidentMbMedian))),
      cpuPercentMedian,
      cpuPercentRounds: group.map((row) => row.cpuPercentMedian),
      withinTargets: meetsTargets(residentMbMedian, cpuPercentMedian),
    };
  });
  log('');
  log(`summary: median of ${summary[0]?.rounds ?? 0} round(s)`);
  log(`runner      peers  RSS MB  peak RSS MB  CPU % core  (each round)        targets (<${residentMbTarget} MB, <${cpuPercentTarget} %)`);
  for (const item of summary) {
    log(
      [
        item.runner.padEnd(10),
        String(item.peers).padStart(6),
        String(item.residentMbMedian).padStart(7),
        String(item.peakResidentMbMedian).padStart(12),
        String(item.cpuPercentMedian).padStart(11),
        `  (${item.cpuPercentRounds.join(', ')})`.padEnd(20),
        item.withinTargets ? 'met' : `missed by ${missedBy(item)}`,
      ].join(' '),
    );
  }
  return summary;
}

function missedBy(item: AgentResourceSummary): string {
  const misses: string[] = [];
  if (item.residentMbMedian >= residentMbTarget) misses.push(`${round1(item.residentMbMedian - residentMbTarget)} MB`);
  if (item.cpuPercentMedian >= cpuPercentTarget) misses.push(`${roundValue(item.cpuPercentMedian - cpuPercentTarget, 2)} % of a core`);
  return misses.join(' and ');
}

/** Options of `measureAgentResources`. */
export interface AgentResourceOptions {
  peerCounts?: number[];
  windowMs?: number;
  /** Ways of running the agent, measured side by side; default the build and tsx. */
  variants?: AgentVariant[];
  /** Times every variant is measured, interleaved (default 1). */
  rounds?: number;
  embedded?: boolean;
  log?: (line: string) => void;
}

/** Most rounds one run repeats every variant. */
export const roundsMax = 9;

/** Runs the measurement for each variant, peer count and round; prints a table and a summary; returns one row per cluster measured. */
export async function measureAgentResources(options: AgentResourceOptions = {}) {
  const peerCounts = options.peerCounts ?? [5, 50];
  const windowMs = options.windowMs ?? 20_000;
  const variants = options.variants ?? [bundleVariant(), tsxVariant()];
  const rounds = Math.min(roundsMax, Math.max(1, options.rounds ?? 1));
  const log = options.log ?? ((line: string) => console.log(line));
  const rows: AgentResourceRow[] = [];
  const agents: Record<string, AgentSample[]> = {};
  if (process.platform !== 'linux') {
    log(`agent resources: skipped (reads /proc; this is ${process.platform})`);
    return { skipped: `needs /proc (Linux), this is ${process.platform}`, heartbeatIntervalMs: benchHeartbeatIntervalMs, rows, summary: [], agents };
  }
  // Always the real build output, made fresh: the bench measures what `npm run build:agent` ships.
  if (variants.some((variant) => variant.entry.includes(agentBuildPath))) {
    const built = await buildAgent();
    log(`built ${path.relative(projectRoot, built.path)} (${Math.round(built.bytes / 1024)} KiB); deploy flags: ${agentNodeFlags.join(' ')}`);
  }
  const server = await startTestServer({ database: options.embedded ? 'embedded' : 'postgres' });
  try {
    log(`runner     round peers  agents  window s  RSS MB med/max  RSS+children MB  peak RSS MB  CPU % core med/max  targets (<${residentMbTarget} MB, <${cpuPercentTarget} %)`);
    for (let round = 1; round <= rounds; round += 1) {
      for (const peers of peerCounts) {
        for (const variant of variants) {
          const { row, samples } = await measureCluster(server, peers, variant, round, windowMs, log);
          rows.push(row);
          agents[`${variant.name}-${peers}-r${round}`] = samples;
        }
      }
    }
  } finally {
    await server.stop();
  }
  const summary = summarise(rows, log);
  return { skipped: null, heartbeatIntervalMs: benchHeartbeatIntervalMs, rows, summary, agents };
}

function flagValue(argv: readonly string[], name: string): string | undefined {
  const index = argv.indexOf(name);
  return index >= 0 ? argv[index + 1] : undefined;
}

function flagValues(argv: readonly string[], name: string): string[] {
  return argv.flatMap((value, index) => (value === name && argv[index + 1] !== undefined ? [argv[index + 1]!] : []));
}

/**
 * Options from `--peers 5,50`, `--seconds 20`, `--rounds N`, `--runners bundle,tsx`,
 * `--variant 'NAME|FILE|FLAGS'` (repeatable; see `parseVariant`) and `--embedded`,
 * shared with bench/detection.ts.
 */
export function agentResourceOptions(argv: readonly string[]): Required<Omit<AgentResourceOptions, 'log'>> {
  const peers = flagValue(argv, '--peers');
  const seconds = Number(flagValue(argv, '--seconds') ?? 20);
  const peerCounts = (peers ?? '5,50')
    .split(',')
    .map(Number)
    .filter((count) => Number.isInteger(count) && count >= 1 && count <= 200);
  const named: Record<string, () => AgentVariant> = { bundle: bundleVariant, tsx: tsxVariant };
  const variants = (flagValue(argv, '--runners') ?? 'bundle,tsx')
    .split(',')
    .flatMap((runner) => (named[runner] ? [named[runner]()] : []))
    .concat(flagValues(argv, '--variant').map(parseVariant));
  const rounds = Number(flagValue(argv, '--rounds') ?? 1);
  return {
    peerCounts,
    windowMs: Math.min(120, Math.max(2, seconds)) * 1000,
    variants,
    rounds: Number.isInteger(rounds) ? rounds : 1,
    embedded: argv.includes('--embedded'),
  };
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
