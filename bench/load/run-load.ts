/**
 * One bounded load run against a control server: N simulated agents report at the
 * heartbeat rate for a warm-up and then a measured window; optionally D dashboard
 * clients subscribe to the cluster and faults are injected through the API during
 * the window, each timed until every dashboard has received the snapshot showing it.
 * Reads the server's RSS and CPU (/proc, when it runs on this machine) and the
 * classifier's cost per evaluation (its /metrics counters).
 */
import { writeFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { io, type Socket } from 'socket.io-client';
import type { ClientToServerEvents, ClusterSnapshot, ServerToClientEvents } from '../../core/realtime-contract';
import { type ControlServer, processUsage } from './control-server';
import { LoadAgent, disconnectReasons, percentile, provisionAgents, ringPeers, withRetries } from './load-agents';

/** Settings of one run. */
export interface LoadRunOptions {
  nodes: number;
  /** Measured window (s), after the warm-up. */
  seconds: number;
  /** Warm-up before measuring (s): connections made, the first evaluations done. */
  warmUpSeconds: number;
  /** Report interval per agent (ms): the demo heartbeat, 250 by default. */
  intervalMs: number;
  /** Peers each report names. */
  peersPerReport: number;
  /** Dashboard clients subscribed during the window (0: none). */
  dashboards: number;
  /** Faults injected through the API during the window. */
  injections: number;
  clusterId: string;
}

/** What one run measured. */
export interface LoadRunResult {
  nodes: number;
  seconds: number;
  /** Reports acknowledged per second during the window, and what the agents offered. */
  reportsPerS: number;
  offeredReportsPerS: number;
  /** Reports refused or unanswered in the window. */
  failed: number;
  ackP50Ms: number | null;
  ackP99Ms: number | null;
  /** Classifier (cluster evaluation) calls in the window and their mean cost (ms). */
  classifierCalls: number | null;
  classifierMsPerCall: number | null;
  /** Server process RSS at the end (MB) and its CPU over the window (% of one core); null for a remote server. */
  serverRssMb: number | null;
  serverCpuPercent: number | null;
  /** Injection → dashboard update latencies (ms) over every (injection, dashboard) pair. */
  dashboardP50Ms: number | null;
  dashboardP99Ms: number | null;
  dashboardSamples: number;
  /** Agent connections that closed during the run other than by the tool (by reason, e.g. `ping timeout`); a load agent does not reconnect. */
  connectionsLost: Record<string, number>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** Connections opened at once while agents connect. */
const connectConcurrency = 50;
/** Longest one injection is waited for on every dashboard (ms). */
const injectionTimeoutMs = 15_000;

async function evaluationCounters(server: ControlServer): Promise<{ count: number; seconds: number } | null> {
  const response = await fetch(`${server.url}/metrics`, { headers: server.admin });
  if (!response.ok) return null;
  const text = await response.text();
  const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? Number.NaN);
  return { count: value('faultline_cluster_evaluations_total'), seconds: value('faultline_cluster_evaluation_seconds_total') };
}

async function api(server: ControlServer, path: string, body: unknown): Promise<void> {
  const response = await fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...server.admin }, body: JSON.stringify(body) });
  const payload = (await response.json()) as { ok: boolean; message?: string };
  // A fault is saved even when some agent missed its rules ('unavailable'): the snapshot shows it all the same.
  if (!payload.ok && response.status !== 503) throw new Error(`${path} refused: ${payload.message}`);
}

type DashboardSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

async function connectDashboard(server: ControlServer, clusterId: string, index: number, onUpdate: (index: number, snapshot: ClusterSnapshot) => void): Promise<DashboardSocket> {
  const socket: DashboardSocket = io(server.url, { transports: ['websocket'], extraHeaders: server.admin, forceNew: true, reconnection: false });
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', reject);
    });
    socket.on('cluster:update', (snapshot) => onUpdate(index, snapshot));
    const reply = await socket.timeout(15_000).emitWithAck('cluster:subscribe', clusterId);
    if (!reply.ok) throw new Error(`dashboard ${index} could not subscribe: ${reply.message}`);
    return socket;
  } catch (error) {
    socket.close();
    throw error;
  }
}

async function connectDashboards(server: ControlServer, clusterId: string, count: number, onUpdate: (index: number, snapshot: ClusterSnapshot) => void): Promise<DashboardSocket[]> {
  const sockets: DashboardSocket[] = [];
  for (let index = 0; index < count; index += connectConcurrency) {
    const indexes = Array.from({ length: Math.min(connectConcurrency, count - index) }, (_, offset) => index + offset);
    sockets.push(...(await Promise.all(indexes.map((each) => withRetries(() => connectDashboard(server, clusterId, each, onUpdate))))));
  }
  return sockets;
}

/** Injects isolations one after another and times each until every dashboard shows it. */
async function timeInjections(server: ControlServer, options: LoadRunOptions, dashboards: number, pending: { node: string | null; startedMs: number; seen: Set<number>; latencies: number[]; done: () => void }) {
  const gapMs = (options.seconds * 1000) / (options.injections + 1);
  for (let injection = 0; injection < options.injections; injection += 1) {
    await sleep(gapMs / 2);
    const node = `n${((injection * 7) % options.nodes) + 1}`;
    const allSeen = new Promise<void>((resolve) => {
      pending.done = resolve;
    });
    pending.seen = new Set();
    pending.startedMs = performance.now();
    pending.node = node;
    await api(server, '/api/faults/isolate', { clusterId: options.clusterId, node });
    await Promise.race([allSeen, sleep(injectionTimeoutMs)]);
    pending.node = null;
    if (pending.seen.size < dashboards) console.log(`  injection ${injection + 1}: ${pending.seen.size}/${dashboards} dashboards saw it within ${injectionTimeoutMs} ms`);
    await api(server, '/api/faults/heal', { clusterId: options.clusterId });
    await sleep(gapMs / 2);
  }
}

function traceEvery(server: ControlServer, agents: LoadAgent[], everyMs: number): { stop(): void } {
  const delay = monitorEventLoopDelay({ resolution: 20 });
  delay.enable();
  let last = { sent: 0, acked: 0, failed: 0 };
  const timer = setInterval(() => {
    const now = agents.reduce((sum, agent) => ({ sent: sum.sent + agent.tally.sent, acked: sum.acked + agent.tally.acked, failed: sum.failed + agent.tally.failed }), { sent: 0, acked: 0, failed: 0 });
    const lagMs = delay.max / 1e6;
    delay.reset();
    const askedMs = performance.now();
    void fetch(`${server.url}/metrics`, { headers: server.admin })
      .then((response) => response.text())
      .then((text) => {
        const queue = /^faultline_report_write_queue_depth (\S+)$/m.exec(text)?.[1];
        const results = [...text.matchAll(/^faultline_reports_total\{result="([^"]+)"\} (\S+)$/gm)].map((match) => `${match[1]}=${match[2]}`).join(' ');
        const lost = [...disconnectReasons.values()].reduce((sum, count) => sum + count, 0);
        console.log(`  trace: ${lost} agent connections lost; sent +${now.sent - last.sent} acked +${now.acked - last.acked} failed +${now.failed - last.failed}; server write queue ${queue}, reports ${results}; generator loop lag max ${lagMs.toFixed(0)} ms; /metrics answered in ${(performance.now() - askedMs).toFixed(0)} ms`);
        last = now;
      }, () => undefined);
  }, everyMs);
  return { stop: () => clearInterval(timer) };
}

/** Runs one load and returns what it measured. */
export async function runLoad(server: ControlServer, options: LoadRunOptions): Promise<LoadRunResult> {
  disconnectReasons.clear();
  const phaseStartedMs = performance.now();
  const phase = (what: string) => console.log(`  ${what} after ${((performance.now() - phaseStartedMs) / 1000).toFixed(1)} s`);
  const identities = await provisionAgents(server.url, server.admin, options.clusterId, options.nodes);
  phase(`${identities.length} credentials issued`);
  const agents: LoadAgent[] = [];
  for (let index = 0; index < identities.length; index += connectConcurrency) {
    const slice = identities.slice(index, index + connectConcurrency);
    agents.push(...(await Promise.all(slice.map((identity, offset) => LoadAgent.connect(server.url, options.clusterId, identity, ringPeers(index + offset, options.nodes, options.peersPerReport))))));
  }
  phase(`${agents.length} agents connected`);
  const pending = { node: null as string | null, startedMs: 0, seen: new Set<number>(), latencies: [] as number[], done: () => undefined as void };
  const updates = { count: 0, bytes: 0 };
  const dashboards = await connectDashboards(server, options.clusterId, options.dashboards, (index, snapshot) => {
    updates.count += 1;
    if (process.env.FAULTLINE_LOAD_SNAPSHOT_BYTES && index === 0) {
      updates.bytes += JSON.stringify(snapshot).length;
      writeFileSync(process.env.FAULTLINE_LOAD_SNAPSHOT_BYTES, JSON.stringify(snapshot));
    }
    if (pending.node === null || pending.seen.has(index)) return;
    const shown = snapshot.nodes.find((node) => node.id === pending.node)?.faults.length ?? 0;
    if (shown === 0) return;
    pending.seen.add(index);
    pending.latencies.push(performance.now() - pending.startedMs);
    if (pending.seen.size === options.dashboards) pending.done();
  });
  if (options.dashboards > 0) phase(`${dashboards.length} dashboards subscribed`);
  // Agents start reporting once the dashboards are in: subscribing 100 dashboards (a 1,000-node snapshot each) under full load took 106 s here.
  agents.forEach((agent, index) => agent.start(options.intervalMs, (index / agents.length) * options.intervalMs));
  // FAULTLINE_LOAD_TRACE=1: every 2 s, the server's write queue and reports by outcome, and this process's event-loop lag.
  const trace = process.env.FAULTLINE_LOAD_TRACE ? traceEvery(server, agents, 2000) : null;
  try {
    await sleep(options.warmUpSeconds * 1000);
    const before = { usage: server.pid ? processUsage(server.pid) : null, counters: await evaluationCounters(server), tallies: agents.map((agent) => ({ ...agent.tally })), atMs: performance.now() };
    for (const agent of agents) agent.measuring = true;
    const window = sleep(options.seconds * 1000);
    if (options.dashboards > 0 && options.injections > 0) await timeInjections(server, options, options.dashboards, pending);
    await window;
    for (const agent of agents) agent.measuring = false;
    // Counted at the window's end, before the slow reads below: reports sent while /metrics answers are not in the window.
    const elapsedS = (performance.now() - before.atMs) / 1000;
    const delta = (field: 'acked' | 'sent' | 'failed') => agents.reduce((sum, agent, index) => sum + agent.tally[field] - before.tallies[index]![field], 0);
    const [acked, sent, failed] = [delta('acked'), delta('sent'), delta('failed')];
    const usage = server.pid ? processUsage(server.pid) : null;
    const counters = await evaluationCounters(server);
    if (options.dashboards > 0) console.log(`  ${updates.count} dashboard updates received${updates.bytes ? `, dashboard 0: ${updates.bytes} bytes` : ''}`);
    const latencies = agents.flatMap((agent) => agent.tally.ackLatenciesMs);
    const calls = counters && before.counters ? counters.count - before.counters.count : null;
    return {
      nodes: options.nodes,
      seconds: Number(elapsedS.toFixed(1)),
      reportsPerS: Math.round(acked / elapsedS),
      offeredReportsPerS: Math.round(sent / elapsedS),
      failed,
      ackP50Ms: percentile(latencies, 50),
      ackP99Ms: percentile(latencies, 99),
      classifierCalls: calls,
      classifierMsPerCall: calls && counters && before.counters ? ((counters.seconds - before.counters.seconds) * 1000) / calls : null,
      serverRssMb: usage ? Math.round(usage.rssBytes / 1024 / 1024) : null,
      serverCpuPercent: usage && before.usage ? Math.round(((usage.cpuMs - before.usage.cpuMs) / (elapsedS * 1000)) * 100) : null,
      dashboardP50Ms: percentile(pending.latencies, 50),
      dashboardP99Ms: percentile(pending.latencies, 99),
      dashboardSamples: pending.latencies.length,
      connectionsLost: Object.fromEntries(disconnectReasons),
    };
  } finally {
    trace?.stop();
    for (const agent of agents) agent.close();
    for (const dashboard of dashboards) dashboard.close();
  }
}
