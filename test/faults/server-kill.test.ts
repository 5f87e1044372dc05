/**
 * Proves that killing the control server with SIGKILL while 5 agents report under
 * load loses nothing and stores nothing twice: the agents' durable outboxes keep
 * every report until it is acknowledged, the server acknowledges only after the
 * database commit, and a re-sent report (its acknowledgement died with the server)
 * is answered as a duplicate instead of being stored again. Counts are taken in
 * the database against the sequence numbers each agent sent.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type TestDatabase, createTestDatabase } from '../helpers/database';
import { type LoadAgent, startLoadAgent } from '../helpers/load-agent';
import { countReports, printCounts, waitForDrain } from './fault-counts';

const here = path.dirname(fileURLToPath(import.meta.url));
const adminToken = 'fault-test-admin-token-0123456789';
const clusterId = 'kill-test';
const agentCount = 5;
/** Each agent writes a report this often: 5 agents x 100 reports/s. */
const reportIntervalMs = 10;
const loadBeforeKillMs = 2000;
const downMs = 1500;
const loadAfterRestartMs = 2000;

async function freeTcpPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function startServerProcess(env: Record<string, string>): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(here, 'server-process.ts')], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('server did not start within 60 s')), 60_000);
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('READY ')) {
        clearTimeout(timer);
        resolve(child);
      }
    });
    child.once('exit', (code) => reject(new Error(`server exited with ${code} before READY`)));
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('fault: kill -9 of the server under load', { timeout: 180_000 }, () => {
  let database: TestDatabase;
  let dataDir: string;
  let server: ChildProcess | null = null;
  const agents: LoadAgent[] = [];

  before(async () => {
    database = await createTestDatabase();
    dataDir = await mkdtemp(path.join(tmpdir(), 'faultline-kill-'));
  });
  after(async () => {
    await Promise.all(agents.map((agent) => agent.close()));
    server?.kill('SIGKILL');
    await database?.drop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('loses no report and stores none twice', async () => {
    const port = await freeTcpPort();
    const env = {
      PORT: String(port),
      HOST: '127.0.0.1',
      DATABASE_URL: database.url,
      FAULTLINE_DATA_DIR: dataDir,
      FAULTLINE_DEMO: 'off',
      FAULTLINE_ADMIN_TOKEN: adminToken,
      LOG_LEVEL: 'error',
      NODE_ENV: 'production',
    };
    server = await startServerProcess(env);
    const url = `http://127.0.0.1:${port}`;
    const agentIds = Array.from({ length: agentCount }, (_, index) => `load-${index + 1}`);
    for (const agentId of agentIds) {
      const response = await fetch(`${url}/api/agent-credentials`, {
        method: 'POST',
        headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ clusterId, agentId }),
      });
      assert.equal(response.status, 201);
      const { data } = (await response.json()) as { data: { token: string } };
      agents.push(await startLoadAgent({ serverUrl: url, token: data.token, clusterId, agentId, peers: agentIds.filter((id) => id !== agentId), intervalMs: reportIntervalMs }));
    }

    await sleep(loadBeforeKillMs);
    const acknowledgedBeforeKill = agents.reduce((sum, agent) => sum + agent.link.acknowledgedCount, 0);
    server.kill('SIGKILL');
    await new Promise((resolve) => server!.once('exit', resolve));
    await sleep(downMs);
    const waitingWhileDown = agents.reduce((sum, agent) => sum + agent.outbox.depth(), 0);
    server = await startServerProcess(env);
    await sleep(loadAfterRestartMs);
    for (const agent of agents) agent.stopReporting();
    const drainMs = await waitForDrain(agents, 60_000);

    const counts = await countReports(database.url, clusterId, agents);
    printCounts('server-kill', counts, { acknowledgedBeforeKill, waitingWhileDown, drainMs });
    assert.ok(counts.sent > 1000, `load was real (${counts.sent} reports)`);
    assert.ok(acknowledgedBeforeKill > 0 && waitingWhileDown > 0, 'the kill happened mid-stream');
    assert.equal(counts.lost, 0, 'zero lost');
    assert.equal(counts.duplicates, 0, 'zero stored twice');
    assert.equal(counts.unexpected, 0);
    assert.equal(counts.stored, counts.sent);
  });
});
