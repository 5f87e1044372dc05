/**
 * Proves that three control servers on one PostgreSQL work as one control plane,
 * through every real part: three server processes on their own ports and one
 * fresh database, five real agent processes (agent/main.ts, real UDP, the
 * reference store under a write load) given all three URLs and reporting to the
 * first (A), a dashboard Socket.IO client on B, faults injected through C's API.
 *
 * - one instance leads, and every instance says which in /api/ready;
 * - a session and the sign-in lockout counters made on one instance hold on the others;
 * - the dashboard on B sees the cut that agents reported to A, within the usual time;
 * - killed with -9 mid-partition, the leader (A) is replaced within a few seconds,
 *   the agents fail over to another instance by themselves, and the partition
 *   (healed through B) closes once: counted in the database, one partition, one
 *   alert per rule, one recovery run, one detection event; the alert webhook got
 *   no alert's firing twice; the dashboard on B saw it close.
 *
 * Prints the measured figures: cut → dashboard on B, kill → new leader, kill →
 * every agent back.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import type { Readiness } from '../../core/http-views';
import type { ClusterSnapshot } from '../../core/realtime-contract';
import { freeLoopbackPorts } from '../../local-stores/ports';
import { type LocalCluster, startLocalCluster } from '../../server/demo-cluster';
import { createLogger } from '../../server/logger';
import { type TestDatabase, createTestDatabase } from '../helpers/database';
import { callApi, connectDashboard, signIn, waitFor } from '../helpers/server-harness';
import { type ServerProcess, startServerProcess } from './server-launch';

const adminToken = 'multi-instance-admin-token-0123456789';
const adminPassword = 'multi-instance-password-1';
const clusterId = 'multi';
const agentCount = 5;
/** The usual time for a cut to show on a dashboard (as on one instance: detection plus the debouncer); generous under load. */
const cutSeenWithinMs = 15_000;
/** A follower must lead within this long of the leader's kill -9. */
const takeoverWithinMs = 10_000;

interface WebhookPost {
  alerts: { status: string; labels: Record<string, string>; fingerprint?: string }[];
}

/** An Alertmanager-compatible receiver that keeps every post. */
async function startWebhook(): Promise<{ server: Server; url: string; posts: WebhookPost[] }> {
  const posts: WebhookPost[] = [];
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      posts.push(JSON.parse(body) as WebhookPost);
      response.writeHead(200).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, posts };
}

const artifactsDir = path.resolve('test-artifacts', 'multi-instance');

const readiness = async (url: string): Promise<Readiness> => ((await (await fetch(`${url}/api/ready`)).json()) as { data: Readiness }).data;

describe('fault: three server instances on one PostgreSQL, leader killed with -9 mid-partition', { timeout: 180_000 }, () => {
  let database: TestDatabase;
  let dataDir: string;
  let webhook: Awaited<ReturnType<typeof startWebhook>>;
  let cluster: LocalCluster | null = null;
  const servers = new Map<string, ServerProcess>();
  const urls: string[] = [];
  let db: pg.Client;

  before(async () => {
    database = await createTestDatabase();
    dataDir = await mkdtemp(path.join(tmpdir(), 'faultline-multi-'));
    webhook = await startWebhook();
    const ports = await freeLoopbackPorts(3);
    const envFor = (port: number, name: string) => ({
      PORT: String(port),
      HOST: '127.0.0.1',
      DATABASE_URL: database.url,
      FAULTLINE_DATA_DIR: path.join(dataDir, name),
      FAULTLINE_INSTANCE_ID: name,
      FAULTLINE_DEMO: 'off',
      FAULTLINE_ADMIN_TOKEN: adminToken,
      FAULTLINE_ADMIN_PASSWORD: adminPassword,
      FAULTLINE_ALERT_WEBHOOK_URL: webhook.url,
      FAULTLINE_LEADER_POLL_MS: '250',
      FAULTLINE_STABILITY_WINDOW_MS: '1500',
      FAULTLINE_DIVERGENCE_SAMPLE_MS: '500',
      FAULTLINE_DIVERGENCE_RATIO_MAX: '1',
      FAULTLINE_READY_REQUIRES_AGENTS: 'off',
      LOG_LEVEL: 'info',
      NODE_ENV: 'production',
    });
    // A first, so that it leads; B and C together, as a deployment starts them.
    const names = ['a', 'b', 'c'];
    servers.set('a', await startServerProcess(envFor(ports[0]!, 'a')));
    const rest = await Promise.all([1, 2].map((index) => startServerProcess(envFor(ports[index]!, names[index]!))));
    servers.set('b', rest[0]!);
    servers.set('c', rest[1]!);
    urls.push(...ports.map((port) => `http://127.0.0.1:${port}`));
    db = new pg.Client({ connectionString: database.url });
    await db.connect();
  });
  after(async () => {
    await cluster?.stop();
    for (const server of servers.values()) server.child.kill('SIGKILL');
    // Each instance's log, for a reader of a failure.
    await mkdir(artifactsDir, { recursive: true });
    for (const [name, server] of servers) await writeFile(path.join(artifactsDir, `server-${name}.log`), `${server.lines.join('\n')}\n`);
    await db?.end();
    webhook?.server.close();
    await database?.drop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('leads with one instance, shares sessions and lockouts, and survives the leader', async () => {
    const [urlA, urlB, urlC] = urls as [string, string, string];
    const leadership = await waitFor('one leader, three instances listed everywhere', async () => {
      const views = await Promise.all(urls.map(readiness));
      const all = views.map((view) => view.leadership!);
      return all.filter((view) => view.leader).length === 1 && all.every((view) => view.instances.length === 3 && view.leaderId === 'a') ? all : null;
    }, 20_000, 200);
    assert.deepEqual(leadership.map((view) => view.leader), [true, false, false]);
    assert.ok(servers.get('a')!.lines.some((line) => line.includes('this instance leads now')), 'the leader says so in its log');

    // A session signed in on A is valid on C; lockout counters counted on A hold on B (five failures are free, the sixth makes the name wait).
    const session = await signIn(urlA, 'admin', adminPassword);
    const onC = await callApi(urlC, '/api/auth/session', { headers: session });
    assert.equal(onC.status, 200, `session from A on C: ${JSON.stringify(onC.payload)}`);
    for (let attempt = 0; attempt < 6; attempt += 1) {
      const refused = await fetch(`${urlA}/api/auth/sign-in`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'ghost', password: 'wrong-password-0' }) });
      assert.equal(refused.status, 401);
    }
    const locked = await fetch(`${urlB}/api/auth/sign-in`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'ghost', password: 'wrong-password-0' }) });
    assert.equal(locked.status, 429, 'six failures on A (five are free) make B wait too');

    const created = await callApi<{ token: string }>(urlA, '/api/tokens', { method: 'POST', body: { name: 'multi-operator', role: 'operator' }, headers: session });
    assert.ok(created.payload.ok, JSON.stringify(created.payload));
    const operator = { authorization: `Bearer ${created.payload.data.token}` };

    const tokens = new Map<string, string>();
    for (let index = 1; index <= agentCount; index += 1) {
      const issued = await callApi<{ token: string }>(urlA, '/api/agent-credentials', { method: 'POST', body: { clusterId, agentId: `node-${index}` }, headers: { authorization: `Bearer ${adminToken}` } });
      assert.equal(issued.status, 201, JSON.stringify(issued.payload));
      if (issued.payload.ok) tokens.set(`node-${index}`, issued.payload.data.token);
    }
    cluster = await startLocalCluster({
      clusterId,
      agentCount,
      serverUrl: urls.join(','),
      agentToken: (agentId) => tokens.get(agentId)!,
      clusterKey: 'multi-instance-cluster-key-0123',
      heartbeatIntervalMs: 200,
      missedHeartbeatsMax: 3,
      logger: createLogger('silent'),
      outboxRoot: path.join(dataDir, 'outbox'),
    });

    const dashboard = await waitFor('a dashboard on B subscribed to the cluster', async () => {
      const connected = await connectDashboard(urlB, clusterId, { headers: operator });
      if (connected.first.ok) return connected;
      connected.close();
      return null;
    }, 30_000, 500);
    // Beside it, a dashboard on A, the leader: the same push without the fan-out (the baseline).
    const onLeader = await connectDashboard(urlA, clusterId, { headers: operator });
    await waitFor('B shows 5 agents connected, fresh, whole', () => {
      const latest: ClusterSnapshot | null = dashboard.updates.at(-1) ?? (dashboard.first.ok ? dashboard.first.data : null);
      return latest && latest.nodes.length === agentCount && latest.nodes.every((node) => node.connected && !node.stale) && !latest.verdict.partitioned;
    }, 60_000, 100);

    // The cut, through C's API; agents report it to A (the leader); B's dashboard shows it.
    const cutAtMs = Date.now();
    const cut = await callApi(urlC, '/api/faults/cut', { method: 'POST', body: { from: 'node-1', to: 'node-2' }, headers: operator });
    assert.equal(cut.status, 200, JSON.stringify(cut.payload));
    await waitFor('the cut on the dashboard of B', () => dashboard.updates.some((update) => update.atMs >= cutAtMs && update.activePartition !== null), cutSeenWithinMs, 20);
    const cutSeenMs = Date.now() - cutAtMs;
    const seenOnLeader = await waitFor('the cut on the dashboard of A', () => onLeader.updates.find((update) => update.atMs >= cutAtMs && update.activePartition !== null), 5000, 20);
    const cutSeenOnLeaderMs = seenOnLeader.atMs - cutAtMs;
    const seenOnB = dashboard.updates.find((update) => update.atMs >= cutAtMs && update.activePartition !== null)!;
    assert.equal(seenOnB.seq, seenOnLeader.seq, 'B shows the leader\'s snapshot, with its sequence');
    onLeader.close();
    const opened = await waitFor('the partition open in the database', async () => (await db.query<{ id: string }>('SELECT id FROM "Partition" WHERE "endedAt" IS NULL')).rows[0], 10_000, 100);

    // kill -9 the leader mid-partition.
    const killedAtMs = Date.now();
    servers.get('a')!.child.kill('SIGKILL');
    const successor = await waitFor('a new leader', async () => {
      const views = await Promise.all([urlB, urlC].map((url) => readiness(url).catch(() => null)));
      return views.find((view) => view?.leadership?.leader)?.leadership ?? null;
    }, takeoverWithinMs, 50);
    const takeoverMs = Date.now() - killedAtMs;
    assert.ok(successor.epoch !== null && successor.epoch >= 2, `the lease epoch grew at the takeover: ${successor.epoch}`);
    // Back: each agent connected to B or C since the kill (their logs say when), and B's dashboard shows every node fresh.
    const reconnectedAtMs = (agentId: string) =>
      ['b', 'c'].flatMap((name) => servers.get(name)!.lines)
        .map((line) => (line.startsWith('{') ? (JSON.parse(line) as { msg?: string; agentId?: string; time?: number }) : {}))
        .filter((entry) => entry.msg === 'agent connected' && entry.agentId === agentId && (entry.time ?? 0) > killedAtMs)
        .map((entry) => entry.time!)[0];
    const agentIds = Array.from({ length: agentCount }, (_, index) => `node-${index + 1}`);
    const backAtMs = await waitFor('every agent back on B or C', () => {
      const times = agentIds.map(reconnectedAtMs);
      return times.every((time) => time !== undefined) ? Math.max(...(times as number[])) : null;
    }, 30_000, 100);
    const agentsBackMs = backAtMs - killedAtMs;
    await waitFor('every node fresh on the dashboard of B', () => {
      const latest = dashboard.updates.at(-1);
      return latest && latest.atMs > backAtMs && latest.nodes.every((node) => node.connected && !node.stale);
    }, 30_000, 50);

    // Heal through B: the partition goes through reconciliation and closes, once.
    const heal = await callApi(urlB, '/api/faults/heal', { method: 'POST', body: {}, headers: operator });
    assert.equal(heal.status, 200, JSON.stringify(heal.payload));
    await waitFor('the partition closed', async () => (await db.query('SELECT 1 FROM "Partition" WHERE id = $1 AND "endedAt" IS NOT NULL', [opened.id])).rowCount === 1, 60_000, 200);
    await waitFor('the dashboard on B saw it close', () => dashboard.partitions.some((partition) => partition.id === opened.id && partition.endedAtMs !== null), 10_000, 100);

    const count = async (sql: string) => Number((await db.query<{ n: string }>(sql, [opened.id])).rows[0]!.n);
    assert.equal(Number((await db.query<{ n: string }>('SELECT count(*) AS n FROM "Partition"')).rows[0]!.n), 1, 'one partition, opened once');
    assert.equal(await count(`SELECT count(*) AS n FROM "PartitionEvent" WHERE "partitionId" = $1 AND kind = 'detected'`), 1, 'detected once');
    const alerts = await db.query<{ rule: string }>('SELECT rule FROM "Alert" WHERE "partitionId" = $1', [opened.id]);
    assert.ok(alerts.rows.length >= 1, 'the partition raised its alert');
    assert.equal(new Set(alerts.rows.map((row) => row.rule)).size, alerts.rows.length, 'one alert per rule');
    const runs = await db.query<{ status: string }>('SELECT status FROM "RecoveryRun" WHERE "partitionId" = $1', [opened.id]);
    assert.deepEqual(runs.rows.map((row) => row.status), ['succeeded'], 'one recovery run, run once');
    const outcome = (await db.query<{ outcome: string }>('SELECT outcome FROM "Partition" WHERE id = $1', [opened.id])).rows[0]!.outcome;
    assert.equal(outcome, 'recovered');
    // The webhook: no alert fired twice, whichever instance led. (A firing still in flight
    // when its instance is killed is lost with it, as on one instance: deliveries are not
    // kept in the database; the resolution is posted by the new leader.)
    const posted = webhook.posts.flatMap((post) => post.alerts).filter((alert) => alert.labels.partition === opened.id);
    const firingKeys = posted.filter((alert) => alert.status === 'firing').map((alert) => alert.labels.alertname);
    assert.ok(posted.some((alert) => alert.status === 'resolved'), `the webhook heard the alert resolve: ${JSON.stringify(webhook.posts)}`);
    assert.equal(new Set(firingKeys).size, firingKeys.length, `no alert fired twice at the webhook: ${firingKeys.join(', ')}`);
    dashboard.close();

    process.stdout.write(`# measured: cut → dashboard on B ${cutSeenMs} ms (the leader pushed it ${cutSeenOnLeaderMs} ms after the cut); kill -9 → new leader (${successor.instanceId}, epoch ${successor.epoch}) ${takeoverMs} ms; kill -9 → the last agent connected to another instance ${agentsBackMs} ms\n`);
    process.stdout.write(`${JSON.stringify({ cutSeenMs, cutSeenOnLeaderMs, takeoverMs, agentsBackMs })}\n`);
  });
});
