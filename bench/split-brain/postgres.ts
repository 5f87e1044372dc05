/**
 * The PostgreSQL split-brain experiment: a primary and a streaming standby (real
 * PostgreSQL 15, started here), continuous writes from a real client (acknowledged =
 * the INSERT's COMMIT returned), the primary cut off (agent transport faults and the
 * standby's replication from it stopped), the standby promoted as an orchestrator would,
 * more writes to the old primary (split brain) and to the new one, then the heal.
 *
 * - `faultline`: a control server and a Faultline agent beside each server; the old
 *   primary is fenced, its writes are shown in the dry run, applied to the new primary
 *   on approval, and only then is it rewound and rejoined (by its agent).
 * - `baseline`: the same script without Faultline: the orchestrator rewinds the old
 *   primary at the heal, as PostgreSQL + pg_rewind do on their own.
 *
 * Counts acknowledged writes, those present on the new primary afterwards, and lost.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { startAgent, type RunningAgent } from '../../agent/agent';
import { loadAgentConfig } from '../../agent/config';
import type { DryRun } from '../../core/policy/dry-run';
import { PgCluster, type PgNode, freePort, inRecovery, withClient } from '../../local-stores/postgres';
import type { PartitionRecord } from '../../core/http-views';
import { type TestServer, callApi, startTestServer, waitFor } from '../../test/helpers/server-harness';
import { type TcpProxy, startTcpProxy } from '../../test/helpers/tcp-proxy';

/** Acknowledged, present after recovery, lost. */
export interface Count {
  acknowledged: number;
  present: number;
  lost: number;
}

/** One store's split-brain result. */
export interface Result {
  store: 'postgres';
  faultline: Count;
  baseline: Count;
  /** Partition detected → first write refused on the old primary (ms). */
  fenceLatencyMs: number | null;
  /** Heal → partition closed as recovered (ms). */
  recoveryMs: number | null;
}

/** What one run of the scenario measured. */
export interface ScenarioOutcome extends Count {
  fenceLatencyMs: number | null;
  recoveryMs: number | null;
  /** The dry run the operator approved (faultline only). */
  dryRun: { keysDiffering: number; conflicts: number; samples: string[]; tables: string[] } | null;
  /** What the partition's history page lists as recovered (GET /api/history/:id), faultline only. */
  recovered: { tables: string[]; keys: string[] } | null;
  /** The old primary is a standby again. */
  oldPrimaryRejoined: boolean;
  heartbeatIntervalMs: number;
  escalation: EscalationSeen | null;
}

/** Scenario timings (ms). */
export interface ScenarioOptions {
  /** Writes before the cut. */
  warmupMs?: number;
  /** How long the split lasts after the promotion. */
  splitMs?: number;
  heartbeatIntervalMs?: number;
  /** Kill the new primary after the dry run, approve (the run escalates), restart it and approve again. */
  newPrimaryDiesBeforeApply?: boolean;
  log?: (line: string) => void;
}

/** What happened when the new primary died before the apply (faultline, `newPrimaryDiesBeforeApply`). */
export interface EscalationSeen {
  /** The partition's state after the run escalated (still open). */
  state: string;
  partitionOpen: boolean;
  /** A new recovery was requested for the operator. */
  approvalRequestedAgain: boolean;
  /** What the console showed for the dead store. */
  storeError: string | null;
  /** The old primary was not rewound meanwhile, and still holds every write it acknowledged. */
  oldPrimaryStillPrimary: boolean;
  oldPrimaryKeptItsWrites: boolean;
}

/** A client writing rows as fast as it can, counting what was acknowledged. */
class Writer {
  readonly acknowledged = new Set<number>();
  firstRefusedAtMs: number | null = null;
  refusals = 0;
  private stopped = false;
  private done: Promise<void> | null = null;
  private next: number;

  constructor(private url: string, private readonly name: string, firstId: number, private readonly notBeforeMs: () => number) {
    this.next = firstId;
  }

  start(): void {
    this.done = this.loop();
  }

  private async loop(): Promise<void> {
    let client: pg.Client | null = null;
    while (!this.stopped) {
      try {
        if (client === null) {
          client = new pg.Client({ connectionString: this.url, connectionTimeoutMillis: 1000 });
          client.on('error', () => undefined);
          await client.connect();
        }
        const id = this.next;
        this.next += 1;
        await client.query('insert into acks (id, writer) values ($1, $2)', [id, this.name]);
        this.acknowledged.add(id);
        // A few shared rows both sides update: the conflicts the dry run shows (not counted as acknowledged inserts).
        if (id % 10 === 0) await client.query('insert into acks (id, writer) values ($1, $2) on conflict (id) do update set writer = excluded.writer', [-1 - (id % 50) / 10, `${this.name}#${id}`]);
      } catch {
        this.refusals += 1;
        if (this.firstRefusedAtMs === null && Date.now() >= this.notBeforeMs()) this.firstRefusedAtMs = Date.now();
        await client?.end().catch(() => undefined);
        client = null;
        await sleep(20);
      }
      await sleep(2);
    }
    await client?.end().catch(() => undefined);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.done;
  }
}

async function presentIds(node: PgNode): Promise<Set<number>> {
  return withClient(node.url, async (db) => new Set((await db.query<{ id: string }>('select id from acks')).rows.map((row) => Number(row.id))));
}

function count(acknowledged: Set<number>, present: Set<number>): Count {
  let kept = 0;
  for (const id of acknowledged) if (present.has(id)) kept += 1;
  return { acknowledged: acknowledged.size, present: kept, lost: acknowledged.size - kept };
}

/** The agent reaches its peer's server through `peerUrl` (a proxy the scenario cuts with the rest). */
async function startPgAgent(test: TestServer, id: string, node: PgNode, peer: { id: string; peerUrl: string; port: number }, port: number, heartbeatIntervalMs: number): Promise<RunningAgent> {
  const { token } = await test.server.credentials.issue({ clusterId: 'pg', agentId: id, createdBy: 'split-brain' });
  const config = loadAgentConfig([
    '--id', id, '--cluster', 'pg', '--listen', `127.0.0.1:${port}`, '--peers', `${peer.id}=127.0.0.1:${peer.port}`,
    '--server', test.url, '--heartbeat-interval-ms', String(heartbeatIntervalMs), '--outbox-dir', 'memory', '--log-level', process.env.TEST_AGENT_LOG ?? 'error',
    '--data-plane', node.url, '--pg-data-dir', node.dataDir, '--pg-peers', peer.peerUrl,
  ], { ...process.env, FAULTLINE_AGENT_TOKEN: token, FAULTLINE_CLUSTER_KEY: test.server.clusterKey });
  return startAgent(config);
}

/** Runs the scenario once, with Faultline or without (baseline). Cleans up everything it started. */
export async function runScenario(mode: 'faultline' | 'baseline', options: ScenarioOptions = {}): Promise<ScenarioOutcome> {
  const warmupMs = options.warmupMs ?? 1500;
  const splitMs = options.splitMs ?? 3000;
  const heartbeatIntervalMs = options.heartbeatIntervalMs ?? 200;
  const log = options.log ?? (() => undefined);
  const cluster = new PgCluster();
  let test: TestServer | null = null;
  const agents: RunningAgent[] = [];
  const writers: Writer[] = [];
  const proxies: TcpProxy[] = [];
  try {
    const a = await cluster.startPrimary('pg-a');
    const b = await cluster.startStandby(a, 'pg-b');
    let cutAtMs = Number.POSITIVE_INFINITY;
    if (mode === 'faultline') {
      test = await startTestServer({ env: { FAULTLINE_STABILITY_WINDOW_MS: '1000', FAULTLINE_DIVERGENCE_SAMPLE_MS: '500' } });
      const [portA, portB] = [await freePort(), await freePort()];
      // Each agent sees the other member's server only through a proxy, cut with the network: while split, the
      // old primary's agent cannot see the promotion, as in a real partition.
      const toB = await startTcpProxy({ host: '127.0.0.1', port: b.port });
      const toA = await startTcpProxy({ host: '127.0.0.1', port: a.port });
      proxies.push(toA, toB);
      agents.push(await startPgAgent(test, 'pg-a', a, { id: 'pg-b', peerUrl: `postgresql://postgres@127.0.0.1:${toB.port}/app`, port: portB }, portA, heartbeatIntervalMs));
      agents.push(await startPgAgent(test, 'pg-b', b, { id: 'pg-a', peerUrl: `postgresql://postgres@127.0.0.1:${toA.port}/app`, port: portA }, portB, heartbeatIntervalMs));
      const server = test.server;
      await waitFor('both agents reporting, cluster whole', () => {
        const snapshot = server.service.snapshot('pg');
        return snapshot.nodes.length === 2 && snapshot.nodes.every((node) => !node.stale && node.dataPlane?.store?.role !== 'unknown') && !snapshot.verdict.partitioned;
      }, 30_000, 100);
    }
    const writerA = new Writer(a.appUrl, 'old-primary', 1, () => cutAtMs);
    writers.push(writerA);
    writerA.start();
    await sleep(warmupMs);

    // The cut: Faultline's agents stop hearing each other, and the standby stops replicating.
    cutAtMs = Date.now();
    if (test) {
      const cut = await callApi(test.url, '/api/faults/split', { method: 'POST', body: { clusterId: 'pg', groups: [['pg-a'], ['pg-b']] } });
      if (!cut.payload.ok) throw new Error(`split refused: ${cut.payload.message}`);
      for (const proxy of proxies) proxy.block();
    }
    await cluster.cutReplication(b);
    await sleep(300);
    await cluster.promote(b);
    log(`# ${mode}: cut at ${new Date(cutAtMs).toISOString()}, pg-b promoted`);
    const writerB = new Writer(b.appUrl, 'new-primary', 1_000_000_000, () => Number.POSITIVE_INFINITY);
    writers.push(writerB);
    writerB.start();
    await sleep(splitMs);

    let fenceLatencyMs: number | null = null;
    let recoveryMs: number | null = null;
    let dryRun: ScenarioOutcome['dryRun'] = null;
    let recovered: ScenarioOutcome['recovered'] = null;
    let escalation: EscalationSeen | null = null;
    if (test) {
      const server = test.server;
      const prisma = server.database.prisma;
      const partition = await prisma.partition.findFirst({ where: { clusterId: 'pg' }, orderBy: { startedAt: 'asc' } });
      if (!partition) throw new Error('Faultline opened no partition');
      if (writerA.firstRefusedAtMs !== null) fenceLatencyMs = writerA.firstRefusedAtMs - partition.startedAt.getTime();
      log(`# detected ${partition.startedAt.getTime() - cutAtMs} ms after the cut; first write refused on the old primary ${writerA.firstRefusedAtMs === null ? 'never' : `${writerA.firstRefusedAtMs - cutAtMs} ms after the cut`}`);
      await writerA.stop();
      for (const proxy of proxies) proxy.unblock();
      await callApi(test.url, '/api/faults/heal', { method: 'POST', body: { clusterId: 'pg' } });
      const pending = await waitFor('a recovery waiting for approval', async () =>
        (await server.console.recovery.list({ partitionId: partition.id, status: ['pending-approval'], limit: 1 }))[0], 30_000, 100);
      const plan = pending.plan as Partial<DryRun> | null;
      dryRun = {
        keysDiffering: plan?.keysDiffering ?? 0,
        conflicts: plan?.conflicts?.total ?? 0,
        samples: [...(plan?.conflicts?.samples.map((sample) => sample.key) ?? []), ...(plan?.changes?.toReceive.flatMap((node) => node.keys.slice(0, 3)) ?? [])],
        tables: plan?.changes?.byTable.map((group) => group.table) ?? [],
      };
      log(`# dry run: ${dryRun.keysDiffering} rows differ, ${dryRun.conflicts} conflicts`);
      if (options.newPrimaryDiesBeforeApply) {
        await cluster.stop(b, 'immediate');
        await server.console.recovery.approve(pending.id, 'split-brain-bench', 'rows checked in the dry run');
        await waitFor('the reconciliation escalated', () => prisma.reconciliationReport.findFirst({ where: { partitionId: partition.id, status: 'escalated' } }), 60_000, 100);
        const again = await waitFor('a new recovery waiting for approval', async () =>
          (await server.console.recovery.list({ partitionId: partition.id, status: ['pending-approval'], limit: 1 })).find((run) => run.id !== pending.id), 30_000, 100);
        const storeError = await waitFor('the dead store named in the console', () =>
          server.service.snapshot('pg').nodes.find((node) => node.id === 'pg-b')?.dataPlane?.store?.error, 15_000, 100);
        const row = await prisma.partition.findUniqueOrThrow({ where: { id: partition.id } });
        const onOld = await presentIds(a);
        escalation = {
          state: row.state,
          partitionOpen: row.endedAt === null,
          approvalRequestedAgain: again !== undefined,
          storeError,
          oldPrimaryStillPrimary: !(await inRecovery(a.url)),
          oldPrimaryKeptItsWrites: [...writerA.acknowledged].every((id) => onOld.has(id)),
        };
        log(`# new primary died: ${JSON.stringify(escalation)}`);
        await cluster.start(b);
        await server.console.recovery.approve(again.id, 'split-brain-bench', 'new primary back');
      } else {
        await server.console.recovery.approve(pending.id, 'split-brain-bench', 'rows checked in the dry run');
      }
      const closed = await waitFor('the partition closed as recovered', async () => {
        const row = await prisma.partition.findUniqueOrThrow({ where: { id: partition.id } });
        return row.endedAt ? row : null;
      }, 90_000, 100);
      recoveryMs = closed.recoveryMs;
      if (closed.outcome !== 'recovered') throw new Error(`partition ended ${closed.outcome}`);
      const history = await callApi<PartitionRecord>(test.url, `/api/history/${encodeURIComponent(partition.id)}`);
      if (!history.payload.ok) throw new Error(`history of ${partition.id}: ${history.payload.message}`);
      const succeeded = history.payload.data.reports.filter((report) => report.status === 'succeeded' && report.recovered);
      recovered = {
        tables: [...new Set(succeeded.flatMap((report) => report.recovered?.byTable.map((group) => group.table) ?? []))],
        keys: succeeded.flatMap((report) => report.recovered?.toReceive.flatMap((node) => node.keys) ?? []),
      };
      await waitFor('the old primary rejoined as a standby', () => inRecovery(a.url), 60_000, 200);
    } else {
      await writerA.stop();
      await cluster.rewindAndRejoin(a, b);
    }
    await writerB.stop();
    const present = await presentIds(b);
    const acknowledged = new Set([...writerA.acknowledged, ...writerB.acknowledged]);
    const outcome = count(acknowledged, present);
    const oldPrimaryRejoined = await inRecovery(a.url).catch(() => false);
    return { ...outcome, fenceLatencyMs, recoveryMs, dryRun, recovered, oldPrimaryRejoined, heartbeatIntervalMs, escalation };
  } finally {
    for (const writer of writers) await writer.stop().catch(() => undefined);
    for (const agent of agents) await agent.close().catch(() => undefined);
    for (const proxy of proxies) await proxy.close().catch(() => undefined);
    await test?.stop().catch(() => undefined);
    await cluster.destroy();
  }
}

const median = (values: number[]) => {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted.length === 0 ? 0 : (sorted[Math.floor((sorted.length - 1) / 2)] ?? 0);
};

/** Runs both modes `runs` times (default 3) and returns the medians. */
export async function run(runs = Number(process.env.SPLIT_BRAIN_RUNS ?? 3)): Promise<Result> {
  const faultline: ScenarioOutcome[] = [];
  const baseline: ScenarioOutcome[] = [];
  for (let index = 0; index < runs; index += 1) {
    const withFaultline = await runScenario('faultline');
    const without = await runScenario('baseline');
    faultline.push(withFaultline);
    baseline.push(without);
    process.stdout.write(`# postgres run ${index + 1}/${runs}: faultline ${withFaultline.acknowledged} acknowledged, ${withFaultline.lost} lost, fence ${withFaultline.fenceLatencyMs} ms, recovery ${withFaultline.recoveryMs} ms; baseline ${without.acknowledged} acknowledged, ${without.lost} lost\n`);
  }
  const medianCount = (outcomes: ScenarioOutcome[]): Count => ({
    acknowledged: median(outcomes.map((outcome) => outcome.acknowledged)),
    present: median(outcomes.map((outcome) => outcome.present)),
    lost: median(outcomes.map((outcome) => outcome.lost)),
  });
  const latencies = faultline.flatMap((outcome) => (outcome.fenceLatencyMs === null ? [] : [outcome.fenceLatencyMs]));
  const recoveries = faultline.flatMap((outcome) => (outcome.recoveryMs === null ? [] : [outcome.recoveryMs]));
  return {
    store: 'postgres',
    faultline: medianCount(faultline),
    baseline: medianCount(baseline),
    fenceLatencyMs: latencies.length === 0 ? null : median(latencies),
    recoveryMs: recoveries.length === 0 ? null : median(recoveries),
  };
}
