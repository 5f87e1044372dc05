/**
 * Proves the history export at scale on a real PostgreSQL (issue 17 item 9), with
 * 12,000 partitions whose rows are as wide as real ones (tens of nodes, cut links):
 * - JSON and CSV exports are complete (every id once, none missing past any old cap),
 *   valid, and in the requested order, also for a sort with NULLs and ties (keyset
 *   pages must not skip or repeat a row);
 * - the server's memory stays flat while exports stream (figures printed);
 * - exports past the bound are refused with a clear code and Retry-After: 429 for a
 *   caller who already runs one, 503 when the server runs its maximum; a client that
 *   goes away frees its slot;
 * - agent reports are stored and acknowledged while exports run, and even while every
 *   connection of the console pool is busy (ingest has its own pool);
 * - a server in its own process, asked for twelve exports at once, stays within a
 *   bounded resident size (VmHWM printed before and after).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { type ClientRequest, type IncomingMessage, get } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { exportsConcurrentMax } from '../../server/history-export';
import { type AgentClientSocket, connectAgentClient, makeReport, signAs } from '../helpers/agent-client';
import { type TestServer, bearerHeaders, signIn, startTestServer, testAdminPassword, waitFor } from '../helpers/server-harness';

const partitionCount = 12_000;
const clusterId = 'bulk';

/** Seeds `partitionCount` closed partitions in one INSERT ... SELECT (a second or two). */
async function seed(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`
      INSERT INTO "Partition" ("id", "clusterId", "type", "state", "startedAt", "endedAt", "detail", "nodeIds", "divergenceMax", "recoveryMs", "outcome")
      SELECT gen_random_uuid()::text, $1,
             (ARRAY['complete', 'partial', 'asymmetric', 'byzantine'])[1 + i % 4], 'Normal',
             -- pairs share a start time: the keyset must break ties by id
             TIMESTAMP '2026-11-01' + (i / 2) * INTERVAL '1 minute',
             TIMESTAMP '2026-11-01' + (i / 2) * INTERVAL '1 minute' + (i % 97) * INTERVAL '1 second',
             jsonb_build_object(
               'components', jsonb_build_array(
                 (SELECT jsonb_agg('node-' || n) FROM generate_series(1, 30) n),
                 (SELECT jsonb_agg('node-' || n) FROM generate_series(31, 40) n)),
               'cutLinks', (SELECT jsonb_agg(jsonb_build_object('a', 'node-' || n, 'b', 'node-' || (n + 30), 'state', 'down')) FROM generate_series(1, 10) n),
               'majorityIndex', 0),
             (SELECT array_agg('node-' || n) FROM generate_series(31, 40) n),
             (i % 13) / 100.0,
             CASE WHEN i % 3 = 0 THEN NULL ELSE (i % 50) * 100 END,
             CASE WHEN i % 3 = 0 THEN 'healed' ELSE 'recovered' END
      FROM generate_series(1, ${partitionCount}) i`, [clusterId]);
  } finally {
    await client.end();
  }
}

/** Samples the process's memory every 25 ms until stopped; returns the peaks in MB. */
function sampleMemory() {
  const start = process.memoryUsage();
  let peakRss = start.rss;
  let peakHeap = start.heapUsed;
  const timer = setInterval(() => {
    const now = process.memoryUsage();
    peakRss = Math.max(peakRss, now.rss);
    peakHeap = Math.max(peakHeap, now.heapUsed);
  }, 25);
  const mb = (bytes: number) => Math.round(bytes / 1024 / 1024);
  return () => {
    clearInterval(timer);
    return { rssStartMb: mb(start.rss), rssPeakMb: mb(peakRss), heapStartMb: mb(start.heapUsed), heapPeakMb: mb(peakHeap) };
  };
}

/** Resident and peak resident size of a process (MB), from /proc. */
async function residentMb(pid: number): Promise<{ rssMb: number; peakMb: number }> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const field = (name: string) => Math.round(Number(/\s(\d+) kB/.exec(status.split('\n').find((line) => line.startsWith(name)) ?? '')?.[1] ?? 0) / 1024);
  return { rssMb: field('VmRSS:'), peakMb: field('VmHWM:') };
}

/** Starts the server as its own process (test/faults/server-process.ts) and resolves with its URL. */
function spawnServer(env: Record<string, string>) {
  const script = path.join(path.dirname(fileURLToPath(import.meta.url)), '../faults/server-process.ts');
  const child = spawn(process.execPath, ['--import', 'tsx', script], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise<{ child: typeof child; url: string }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('server process did not start within 60 s')), 60_000);
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const ready = /READY (\S+)/.exec(output);
      if (ready) {
        clearTimeout(timer);
        resolve({ child, url: ready[1]! });
      }
    });
    child.once('exit', (code) => reject(new Error(`server process exited with ${code} before READY`)));
  });
}

/** Starts an export and resolves once its headers arrived, leaving the body unread (the server must wait). */
function openExport(url: string, headers: Record<string, string>): Promise<{ request: ClientRequest; response: IncomingMessage }> {
  return new Promise((resolve, reject) => {
    const request = get(url, { headers }, (response) => resolve({ request, response }));
    request.once('error', reject);
  });
}

/** Reads a body to its end without keeping it, returning its length in bytes. */
async function drainBody(response: IncomingMessage): Promise<number> {
  let bytes = 0;
  for await (const chunk of response) bytes += (chunk as Buffer).length;
  return bytes;
}

describe('history export at scale (real PostgreSQL)', () => {
  let test: TestServer;
  let viewerA: Record<string, string>;
  let viewerB: Record<string, string>;
  let agent: AgentClientSocket;
  let agentToken: string;
  let sequence = 0;
  let allIds: string[];

  before(async () => {
    test = await startTestServer();
    await test.server.service.ensureCluster(clusterId, { name: 'bulk' });
    const seeded = Date.now();
    await seed(test.database!.url);
    console.log(`seeded ${partitionCount} partitions in ${Date.now() - seeded} ms`);
    const ids = await test.server.database.prisma.partition.findMany({ where: { clusterId }, select: { id: true } });
    allIds = ids.map((row) => row.id).sort();
    viewerA = await bearerHeaders(test, 'viewer');
    viewerB = await bearerHeaders(test, 'viewer');
    agentToken = (await test.server.credentials.issue({ clusterId, agentId: 'r1', createdBy: 'test' })).token;
    agent = await connectAgentClient(test.url, agentToken, clusterId, 'r1');
    const hello = await agent.timeout(5000).emitWithAck('hello', { clusterId, agentId: 'r1', address: '127.0.0.1:1', incarnation: 1, peers: ['peer-1'] });
    assert.equal(hello.ok, true);
  });
  after(async () => {
    agent?.close();
    await test?.stop();
  });

  /** Sends one signed report and returns how long its acknowledgement took (ms), or throws if refused. */
  async function report(): Promise<number> {
    sequence += 1;
    const started = Date.now();
    const reply = await agent.timeout(10_000).emitWithAck('report', signAs(agentToken, makeReport(clusterId, 'r1', sequence)));
    assert.equal(reply.ok, true, JSON.stringify(reply));
    return Date.now() - started;
  }

  const exportUrl = (format: string, extra = '') => `${test.url}/api/history/export?format=${format}&clusterId=${clusterId}${extra}`;

  it('exports every partition as valid JSON in order, and as CSV, with flat memory', async () => {
    const stop = sampleMemory();
    const json = await fetch(exportUrl('json'), { headers: viewerA });
    assert.equal(json.status, 200);
    const rows = JSON.parse(await json.text()) as { id: string; startedAtMs: number; components: string[][] }[];
    assert.equal(rows.length, partitionCount);
    assert.deepEqual(rows.map((row) => row.id).sort(), allIds, 'every id exactly once');
    for (let index = 1; index < rows.length; index += 1) assert.ok(rows[index - 1]!.startedAtMs >= rows[index]!.startedAtMs, `newest first at ${index}`);
    assert.equal(rows[0]!.components[0]!.length, 30);

    const csv = await fetch(exportUrl('csv'), { headers: viewerA });
    assert.equal(csv.status, 200);
    assert.match(csv.headers.get('content-type') ?? '', /text\/csv/);
    const lines = (await csv.text()).split('\r\n');
    assert.equal(lines.pop(), '', 'ends with a line break');
    assert.equal(lines[0], 'id,cluster,type,state,started_at,ended_at,duration_s,nodes,outcome,divergence_max,recovery_ms');
    const body = lines.slice(1).map((line) => line.split(','));
    assert.equal(body.length, partitionCount);
    assert.ok(body.every((cells) => cells.length === 11 && cells[1] === clusterId));
    assert.deepEqual(body.map((cells) => cells[0]!).sort(), allIds);
    console.log('one JSON + one CSV export, read one after the other:', stop());
  });

  it('keyset pages neither skip nor repeat rows on a sort with NULLs and ties', async () => {
    const response = await fetch(exportUrl('json', '&sort=recovery&order=asc'), { headers: viewerA });
    const rows = (await response.json()) as { id: string; recoveryMs: number | null }[];
    assert.deepEqual(rows.map((row) => row.id).sort(), allIds);
    const firstNull = rows.findIndex((row) => row.recoveryMs === null);
    assert.ok(firstNull > 0 && rows.slice(firstNull).every((row) => row.recoveryMs === null), 'NULLs last');
    const values = rows.slice(0, firstNull).map((row) => row.recoveryMs!);
    assert.deepEqual(values, [...values].sort((a, b) => a - b));
  });

  it('refuses exports past the bound with 429 or 503 and Retry-After, frees a slot when its client goes away, keeps storing reports', async () => {
    assert.equal(exportsConcurrentMax, 2, 'this test holds exactly two slots');
    const stop = sampleMemory();
    const first = await openExport(exportUrl('json'), viewerA);
    assert.equal(first.response.statusCode, 200);

    const sameCaller = await fetch(exportUrl('csv'), { headers: viewerA });
    assert.equal(sameCaller.status, 429);
    assert.equal(((await sameCaller.json()) as { code: string }).code, 'rate_limited');
    assert.ok(Number(sameCaller.headers.get('retry-after')) > 0);

    const second = await openExport(exportUrl('csv'), viewerB);
    assert.equal(second.response.statusCode, 200);
    const refused = await Promise.all(Array.from({ length: 10 }, () => fetch(exportUrl('json'), { headers: { authorization: `Bearer ${test.adminToken}` } })));
    for (const response of refused) {
      assert.equal(response.status, 503);
      assert.equal(((await response.json()) as { code: string }).code, 'unavailable');
      assert.ok(Number(response.headers.get('retry-after')) > 0);
    }
    assert.equal(test.server.console.exports.slots.active, 2, 'both unread exports still hold their slots (backpressure)');

    // Reports keep being stored while both exports are open.
    const latencies = [];
    for (let index = 0; index < 20; index += 1) latencies.push(await report());

    first.request.destroy();
    await waitFor('the abandoned export to free its slot', () => test.server.console.exports.slots.active === 1, 10_000);
    const third = await fetch(exportUrl('json'), { headers: viewerA });
    assert.equal(third.status, 200, 'a freed slot is usable again');
    const [thirdRows, secondBytes] = await Promise.all([third.json() as Promise<unknown[]>, drainBody(second.response)]);
    assert.equal(thirdRows.length, partitionCount);
    assert.ok(secondBytes > 0);
    for (let index = 0; index < 20; index += 1) latencies.push(await report());
    console.log('two exports at once, ten refused, one abandoned:', stop(), `report ack ms max ${Math.max(...latencies)}`);
    await waitFor('all reports stored', async () => (await test.server.database.prisma.agentReport.count({ where: { clusterId, agentId: 'r1' } })) === sequence);
  });

  it('stores reports while every console connection is busy', async () => {
    const console_ = test.server.database.prisma;
    const busyMs = 4000;
    // More sleepers than the console pool has connections: every one of them is taken.
    // (Prisma runs a query only once it is awaited: Promise.all starts them now.)
    const sleepers = Promise.all(Array.from({ length: 12 }, () => console_.$queryRawUnsafe(`SELECT pg_sleep(${busyMs / 1000})::text AS slept`)));
    await new Promise((resolve) => setTimeout(resolve, 300));
    const started = Date.now();
    const latencies = [];
    for (let index = 0; index < 5; index += 1) latencies.push(await report());
    const elapsed = Date.now() - started;
    await sleepers;
    console.log(`reports while the console pool is saturated: ack ms ${latencies.join(', ')}`);
    assert.ok(elapsed < busyMs / 2, `reports were acknowledged in ${elapsed} ms, not after the console pool freed up (${busyMs} ms)`);
  });

  it('keeps a server process within bounds when twelve exports are asked at once', { timeout: 120_000 }, async () => {
    const { child, url } = await spawnServer({
      PORT: '0',
      HOST: '127.0.0.1',
      DATABASE_URL: test.database!.url,
      FAULTLINE_DATA_DIR: test.dataDir,
      FAULTLINE_DEMO: 'off',
      FAULTLINE_ADMIN_PASSWORD: testAdminPassword,
      LOG_LEVEL: 'error',
      NODE_ENV: 'production',
    });
    try {
      const session = await signIn(url, 'admin', testAdminPassword);
      const before = await residentMb(child.pid!);
      const twelve = await Promise.all(
        Array.from({ length: 12 }, async () => {
          const response = await fetch(`${url}/api/history/export?format=json&clusterId=${clusterId}`, { headers: { cookie: session.cookie } });
          return { status: response.status, bytes: (await response.arrayBuffer()).byteLength };
        }),
      );
      const after = await residentMb(child.pid!);
      const statuses = twelve.map((result) => result.status);
      const served = twelve.filter((result) => result.status === 200);
      console.log(`server process, twelve JSON exports at once: statuses ${statuses.join(' ')}; body ${served[0]?.bytes} bytes; RSS before ${before.rssMb} MB, after ${after.rssMb} MB, peak ${after.peakMb} MB`);
      assert.ok(served.length >= 1, 'at least one export is served');
      assert.ok(statuses.every((status) => status === 200 || status === 429 || status === 503), 'the others are refused clearly, never a 500');
      assert.ok(after.peakMb - before.rssMb < 200, `peak resident size grew by ${after.peakMb - before.rssMb} MB`);
    } finally {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
    }
  });
});
