/**
 * The PostgreSQL adapter against real PostgreSQL 15 servers started here (a primary and
 * a streaming standby, as the `postgres` user, on free loopback ports):
 * - the fence refuses a real client's write, holds against SET, ends open sessions, and lifts;
 * - split brain through the real control server and two Faultline agents: no acknowledged
 *   write is lost, while the same script without Faultline (PostgreSQL + pg_rewind alone) loses some;
 * - bad input: an unreachable or wrong URL, a store that is not a primary, a new primary
 *   that dies mid-reconcile (the old primary keeps its writes and is not rewound).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { PostgresAdapter } from '../../agent/adapters/postgres/postgres-adapter';
import { loadAgentConfig } from '../../agent/config';
import { executeDataPlaneCommand } from '../../agent/data-plane-executor';
import { hlcFloor } from '../../core/hlc';
import { planReconciliation } from '../../core/reconcile/plan-reconciliation';
import { lastWriterWins } from '../../core/reconcile/resolver';
import { runScenario } from '../../bench/split-brain/postgres';
import { PgCluster, type PgNode, freePort, inRecovery, pgAvailable, withClient } from '../../local-stores/postgres';

const skip = pgAvailable() ? false : 'PostgreSQL 15 binaries or the postgres user are missing';
const quiet = () => undefined;

async function refusal(work: () => Promise<unknown>): Promise<string | null> {
  try {
    await work();
    return null;
  } catch (error) {
    return (error as Error).message;
  }
}

describe('PostgreSQL adapter: fence, change capture, reconcile, rejoin', { skip }, () => {
  let cluster: PgCluster;
  let primary: PgNode;
  let standby: PgNode;
  let adapterA: PostgresAdapter;
  let adapterB: PostgresAdapter;

  before(async () => {
    cluster = new PgCluster();
    primary = await cluster.startPrimary('pg-a');
    standby = await cluster.startStandby(primary, 'pg-b');
    adapterA = await PostgresAdapter.start({ url: primary.url, dataDir: primary.dataDir, peers: [standby.url], log: quiet, monitorIntervalMs: 0 });
    adapterB = await PostgresAdapter.start({ url: standby.url, dataDir: standby.dataDir, peers: [primary.url], log: quiet, monitorIntervalMs: 0 });
  });
  after(async () => {
    await adapterA?.close();
    await adapterB?.close();
    await cluster?.destroy();
  });

  it('reports the role, endpoint without credentials and lag of each server', async () => {
    await adapterA.refresh();
    const { lagBytes, ...status } = adapterA.status();
    assert.deepEqual(status, { kind: 'postgres', role: 'primary', endpoint: `postgresql://127.0.0.1:${primary.port}/app`, error: null });
    assert.ok(lagBytes === null || lagBytes >= 0, 'lag of the standby in bytes');
    await adapterB.refresh();
    assert.equal(adapterB.status().role, 'replica');
    assert.equal(adapterB.status().error, null);
  });

  it('a fenced primary refuses a real client\'s write, even after SET, ends open sessions, keeps reads, and lifts', async () => {
    await withClient(primary.appUrl, (db) => db.query("insert into acks (id, writer) values (1, 'before')"));
    const open = new pg.Client({ connectionString: primary.appUrl });
    open.on('error', () => undefined);
    await open.connect();
    await open.query('begin');
    await open.query("insert into acks (id, writer) values (2, 'open transaction')");
    await adapterA.setFence('p-1', 'read-only');
    assert.match((await refusal(() => open.query('commit'))) ?? 'committed', /terminat|Connection/i, 'the open transaction was ended, not committed');
    await withClient(primary.appUrl, async (db) => {
      assert.match((await refusal(() => db.query("insert into acks (id, writer) values (3, 'plain')"))) ?? '', /read-only transaction/);
      await db.query('set default_transaction_read_only = off');
      assert.match((await refusal(() => db.query("insert into acks (id, writer) values (3, 'after set')"))) ?? '', /Faultline fence: writes refused on pg-a: read-only for partition p-1/);
      assert.match((await refusal(() => db.query('truncate acks'))) ?? '', /Faultline fence/);
      assert.equal((await db.query('select count(*)::int as n from acks')).rows[0].n, 1, 'reads still work');
    });
    assert.deepEqual(adapterA.activeFence(), { partitionId: 'p-1', mode: 'read-only' });
    await adapterA.setFence('p-1', 'critical-only');
    await withClient(primary.appUrl, async (db) => {
      assert.match((await refusal(() => db.query("insert into acks (id, writer) values (4, 'not critical')"))) ?? '', /critical-only/);
      await db.query("set faultline.critical = 'on'");
      await db.query("insert into acks (id, writer) values (4, 'critical')");
    });
    await adapterA.setFence('p-1', null);
    assert.equal(adapterA.activeFence(), null);
    await withClient(primary.appUrl, (db) => db.query("insert into acks (id, writer) values (5, 'after unfence')"));
  });

  it('a fence survives an agent restart (kept in the server until the unfence)', async () => {
    await adapterA.setFence('p-2', 'read-only');
    const restarted = await PostgresAdapter.start({ url: primary.url, dataDir: null, peers: [], log: quiet, monitorIntervalMs: 0 });
    try {
      assert.deepEqual(restarted.activeFence(), { partitionId: 'p-2', mode: 'read-only' });
      await restarted.setFence('p-2', null);
      await withClient(primary.appUrl, (db) => db.query("insert into acks (id, writer) values (6, 'after restart')"));
    } finally {
      await restarted.close();
      await adapterA.setFence('p-2', null);
    }
  });

  it('a standby cannot take resolved values it does not receive: a clear error', async () => {
    await adapterB.refresh();
    const entry = { key: 'public.acks/{"id": 999}', value: '{"at": "2026-12-03T00:00:00+00:00", "id": 999, "writer": "x"}', hlc: { wallMs: Date.now(), logical: 0, nodeId: 'pg-a' }, supersedes: { wallMs: Date.now(), logical: 0, nodeId: 'pg-a' } };
    await assert.rejects(adapterB.apply([entry]), /is a standby \(in recovery\) and cannot take writes; 1 resolved value\(s\) did not arrive from its primary/);
  });

  it('split brain at adapter level: a dead new primary mid-reconcile keeps the old primary fenced and unrewound, then recovery completes with nothing lost', async () => {
    const since = hlcFloor(Date.now() - 60_000);
    await cluster.cutReplication(standby);
    await cluster.promote(standby);
    await withClient(primary.appUrl, (db) => db.query("insert into acks (id, writer) values (100, 'split on old primary'); update acks set writer = 'old side' where id = 1"));
    await withClient(standby.appUrl, (db) => db.query("insert into acks (id, writer) values (200, 'split on new primary'); update acks set writer = 'new side' where id = 1"));
    await adapterA.refresh();
    await adapterB.refresh();
    assert.ok(adapterA.isSuperseded(), 'the old primary sees the newer primary');
    assert.deepEqual(adapterA.activeFence(), { partitionId: 'superseded', mode: 'read-only' }, 'and holds a fence of its own');
    const changesA = await adapterA.changedSince(since);
    const changesB = await adapterB.changedSince(since);
    const plan = planReconciliation({ replicas: [{ nodeId: 'pg-a', changes: changesA }, { nodeId: 'pg-b', changes: changesB }], resolver: lastWriterWins, majorityNodes: null });
    assert.deepEqual(plan.conflicts.map((conflict) => conflict.key), ['public.acks/{"id": 1}'], 'the row both sides updated is the conflict');
    const toNew = plan.syncSets.find((set) => set.nodeId === 'pg-b')!;
    assert.ok(toNew.entries.some((entry) => entry.key === 'public.acks/{"id": 100}'), 'the old primary\'s split write goes to the new primary');

    // The new primary dies before the apply.
    await cluster.stop(standby, 'immediate');
    const failed = await executeDataPlaneCommand(adapterB, 'pg-b', { type: 'apply-resolved', runId: 'r-1', last: true, entries: [] });
    assert.equal(failed.ok, false);
    assert.match(failed.ok ? '' : failed.message, /data plane failed: .*(ECONNREFUSED|connect|terminat)/i);
    await adapterA.refresh();
    assert.equal(await inRecovery(primary.url), false, 'the old primary is not rewound while the new one is away');
    assert.equal((await withClient(primary.url, (db) => db.query('select count(*)::int as n from acks where id = 100'))).rows[0].n, 1, 'its split write is still there');

    await cluster.start(standby);
    await adapterB.refresh();
    assert.equal(adapterB.status().role, 'primary');
    assert.deepEqual(await adapterB.apply(toNew.entries), { applied: toNew.entries.length, skipped: 0 });
    await adapterA.refresh();
    assert.equal(await inRecovery(primary.url), true, 'with every version on the new primary, the old one rewound and rejoined as its standby');
    const ids = (await withClient(standby.url, (db) => db.query<{ id: string }>('select id from acks order by id'))).rows.map((row) => Number(row.id));
    for (const id of [1, 4, 5, 6, 100, 200]) assert.ok(ids.includes(id), `row ${id} kept`);
  });

  it('bad URLs: an unreachable store is an error in status and in command replies; a wrong scheme is refused at start', async () => {
    const port = await freePort();
    const unreachable = await PostgresAdapter.start({ url: `postgresql://postgres:secret@127.0.0.1:${port}/app`, dataDir: null, peers: [], log: quiet, monitorIntervalMs: 0 });
    try {
      const status = unreachable.status();
      assert.equal(status.role, 'unknown');
      assert.equal(status.endpoint, `postgresql://127.0.0.1:${port}/app`, 'no credentials in the endpoint');
      assert.match(status.error ?? '', new RegExp(`cannot use postgresql://127.0.0.1:${port}/app: .*ECONNREFUSED`));
      const reply = await executeDataPlaneCommand(unreachable, 'pg-x', { type: 'fence', partitionId: 'p-9', mode: 'read-only' });
      assert.equal(reply.ok, false);
      assert.match(reply.ok ? '' : reply.message, /ECONNREFUSED/);
    } finally {
      await unreachable.close();
    }
    const env: NodeJS.ProcessEnv = { ...process.env, FAULTLINE_AGENT_TOKEN: 'x'.repeat(16), FAULTLINE_CLUSTER_KEY: 'y'.repeat(16) };
    const base = ['--id', 'n-1', '--listen', '127.0.0.1:9', '--peers', 'n-2=127.0.0.1:1', '--server', 'http://127.0.0.1:1'];
    assert.throws(() => loadAgentConfig([...base, '--data-plane', 'mysql://db/app'], env), /dataPlane: unsupported store \("mysql:"\): expected redis:\/\/HOST:PORT, postgresql:\/\/USER@HOST:PORT\/DB/);
    assert.throws(() => loadAgentConfig([...base, '--data-plane', 'postgresql://postgres@db:5432/app', '--pg-peers', 'redis://db2:6379'], env), /pgPeers.*a store URL: postgresql:/);
    assert.throws(() => loadAgentConfig([...base, '--pg-peers', 'postgresql://postgres@db2:5432/app'], env), /need --data-plane postgresql:/);
    assert.deepEqual(loadAgentConfig([...base, '--data-plane', 'postgresql://postgres@db:5432/app', '--pg-peers', 'postgresql://postgres@db2:5432/app'], env).dataPlane,
      { kind: 'postgres', url: 'postgresql://postgres@db:5432/app', dataDir: null, peers: ['postgresql://postgres@db2:5432/app'] });
  });
});

describe('PostgreSQL split brain: Faultline against PostgreSQL + pg_rewind alone', { skip }, () => {
  it('loses no acknowledged write with Faultline; the same script without it loses some', async () => {
    const log = (line: string) => process.stdout.write(`${line}\n`);
    const withFaultline = await runScenario('faultline', { log });
    const baseline = await runScenario('baseline', { log });
    process.stdout.write(`# postgres split brain      acknowledged  present  lost\n`);
    process.stdout.write(`# with Faultline            ${String(withFaultline.acknowledged).padStart(12)}  ${String(withFaultline.present).padStart(7)}  ${String(withFaultline.lost).padStart(4)}\n`);
    process.stdout.write(`# PostgreSQL + pg_rewind    ${String(baseline.acknowledged).padStart(12)}  ${String(baseline.present).padStart(7)}  ${String(baseline.lost).padStart(4)}\n`);
    process.stdout.write(`# fence latency ${withFaultline.fenceLatencyMs} ms after detection (heartbeat ${withFaultline.heartbeatIntervalMs} ms), recovery ${withFaultline.recoveryMs} ms, dry run ${JSON.stringify(withFaultline.dryRun)}\n`);
    assert.ok(withFaultline.acknowledged > 0);
    assert.equal(withFaultline.lost, 0, 'no acknowledged write lost with Faultline');
    assert.ok(withFaultline.oldPrimaryRejoined, 'the old primary is a standby again');
    assert.ok((withFaultline.dryRun?.keysDiffering ?? 0) > 0, 'the dry run listed the rows that differ');
    assert.ok((withFaultline.dryRun?.conflicts ?? 0) > 0, 'and the conflicts');
    assert.deepEqual(withFaultline.dryRun?.tables, ['public.acks'], 'by table');
    assert.ok(withFaultline.dryRun?.samples.some((key) => /^public\.acks\/\{"id": \d+\}$/.test(key)), 'naming real rows');
    assert.deepEqual(withFaultline.recovered?.tables, ['public.acks'], 'the partition page lists what was recovered, by table');
    assert.ok(withFaultline.recovered?.keys.some((key) => /^public\.acks\/\{"id": \d+\}$/.test(key)), 'and the real rows sent');
    assert.ok(withFaultline.fenceLatencyMs !== null && withFaultline.fenceLatencyMs < 2 * withFaultline.heartbeatIntervalMs, `fence within 2 heartbeats of detection (${withFaultline.fenceLatencyMs} ms)`);
    assert.ok(baseline.lost > 0, 'PostgreSQL + pg_rewind alone loses acknowledged writes');
    assert.ok(baseline.oldPrimaryRejoined);
  });

  it('a new primary that dies before the apply: the run escalates, the partition stays in ReconciliationMode, the console names the store, the old primary keeps its writes; after a restart and a second approval nothing is lost', async () => {
    const outcome = await runScenario('faultline', { newPrimaryDiesBeforeApply: true, splitMs: 1500 });
    const seen = outcome.escalation;
    assert.ok(seen);
    assert.equal(seen.state, 'ReconciliationMode');
    assert.ok(seen.partitionOpen && seen.approvalRequestedAgain, 'escalated to the operator, partition still open');
    assert.match(seen.storeError ?? '', /cannot use postgresql:\/\/127\.0\.0\.1:\d+\/app: .*(ECONNREFUSED|connect)/);
    assert.ok(seen.oldPrimaryStillPrimary, 'the old primary was not rewound while its writes had nowhere to go');
    assert.ok(seen.oldPrimaryKeptItsWrites, 'and kept every write it acknowledged');
    assert.equal(outcome.lost, 0, 'nothing lost once the new primary is back and the operator approved again');
    assert.ok(outcome.oldPrimaryRejoined);
  });
});
