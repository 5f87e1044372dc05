/**
 * Proves that restarting the control server, cleanly (SIGTERM) or by kill -9,
 * under 5 reporting agents that are processes of their own, costs no report and
 * stores none twice, and that every agent is back within 10 s of the server
 * listening again: the agents reconnect by themselves whatever way the server
 * dropped them (and log going down), their durable outboxes keep every report
 * until it is acknowledged, the server acknowledges only after the database
 * commit, and a re-sent report whose acknowledgement died with the server is
 * answered as a duplicate instead of being stored again. Counts are taken in the
 * database against the sequence numbers each agent sent.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, fork } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type TestDatabase, createTestDatabase } from '../helpers/database';
import type { AgentProcessCommand, AgentProcessSettings, AgentProcessStatus } from './agent-process';
import { countReports, printCounts } from './fault-counts';
import { startServerProcess } from './server-launch';
import { freePort } from '../../local-stores/ports';

const here = path.dirname(fileURLToPath(import.meta.url));
const adminToken = 'fault-test-admin-token-0123456789';
const agentCount = 5;
/** Each agent writes a report this often: 5 agents x 50 reports/s. */
const reportIntervalMs = 20;
const loadBeforeRestartMs = 3000;
const downMs = 1500;
const loadAfterRestartMs = 2000;
/** Every agent must be back (greeted) within this long of the server listening again. */
const reconnectWithinMs = 10_000;
const drainTimeoutMs = 60_000;

/** A load agent in a process of its own (agent-process.ts), spoken to over IPC. */
class AgentProcess {
  readonly lines: string[] = [];
  private constructor(
    readonly agentId: string,
    private readonly child: ChildProcess,
  ) {
    child.stdout!.on('data', (chunk: Buffer) => this.lines.push(...chunk.toString().split('\n').filter(Boolean)));
  }

  static async start(settings: AgentProcessSettings): Promise<AgentProcess> {
    const child = fork(path.join(here, 'agent-process.ts'), [], {
      execArgv: ['--import', 'tsx'],
      env: { ...process.env, FAULT_AGENT: JSON.stringify(settings) },
      stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    });
    const agent = new AgentProcess(settings.agentId, child);
    await agent.request({ type: 'status' }, 'status', 30_000);
    return agent;
  }

  private request(command: AgentProcessCommand, answer: string, timeoutMs = 5000): Promise<{ status?: AgentProcessStatus }> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`agent ${this.agentId}: no ${answer} within ${timeoutMs} ms`)), timeoutMs);
      const onMessage = (message: { type: string; status?: AgentProcessStatus }) => {
        if (message.type !== answer) return;
        clearTimeout(timer);
        this.child.off('message', onMessage);
        resolve(message);
      };
      this.child.on('message', onMessage);
      if (this.child.connected) this.child.send(command);
    });
  }

  async status(): Promise<AgentProcessStatus> {
    return (await this.request({ type: 'status' }, 'status')).status!;
  }

  async stopReporting(): Promise<void> {
    await this.request({ type: 'stop-reporting' }, 'stopped');
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    if (this.child.connected) this.child.send({ type: 'close' } satisfies AgentProcessCommand);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const statuses = (agents: AgentProcess[]) => Promise.all(agents.map((agent) => agent.status()));

/** Polls until every agent has greeted the server more often than `before`; returns how long that took (ms). */
async function waitForReconnect(agents: AgentProcess[], before: AgentProcessStatus[], timeoutMs: number): Promise<number> {
  const started = Date.now();
  for (;;) {
    const now = await statuses(agents);
    if (now.every((status, index) => status.connected && status.greetings > before[index]!.greetings)) return Date.now() - started;
    if (Date.now() - started > timeoutMs) {
      throw new Error(`not every agent reconnected within ${timeoutMs} ms: ${now.map((status) => `${status.agentId}=${status.connected ? 'up' : 'down'}`).join(' ')}`);
    }
    await sleep(100);
  }
}

/** Waits until every outbox is empty and nothing more is appended; returns the final statuses. */
async function waitForDrain(agents: AgentProcess[], timeoutMs: number): Promise<{ statuses: AgentProcessStatus[]; drainMs: number }> {
  const started = Date.now();
  let previous: AgentProcessStatus[] | null = null;
  for (;;) {
    const now = await statuses(agents);
    const drained = now.every((status, index) => status.outboxDepth === 0 && status.sent > 0 && previous?.[index]?.sent === status.sent);
    if (drained) return { statuses: now, drainMs: Date.now() - started };
    if (Date.now() - started > timeoutMs) throw new Error(`outboxes not drained after ${timeoutMs} ms: ${now.map((status) => `${status.agentId}=${status.outboxDepth}`).join(' ')}`);
    previous = now;
    await sleep(100);
  }
}

describe('fault: server restarts (SIGTERM and kill -9) under 5 agent processes', { timeout: 600_000 }, () => {
  let database: TestDatabase;
  let dataDir: string;
  let server: ChildProcess | null = null;
  let env: Record<string, string>;
  let url: string;
  const agents: AgentProcess[] = [];

  before(async () => {
    database = await createTestDatabase();
    dataDir = await mkdtemp(path.join(tmpdir(), 'faultline-kill-'));
    const port = await freePort();
    env = {
      PORT: String(port),
      HOST: '127.0.0.1',
      DATABASE_URL: database.url,
      FAULTLINE_DATA_DIR: dataDir,
      FAULTLINE_DEMO: 'off',
      FAULTLINE_ADMIN_TOKEN: adminToken,
      LOG_LEVEL: 'error',
      NODE_ENV: 'production',
    };
    url = `http://127.0.0.1:${port}`;
    server = (await startServerProcess(env)).child;
  });
  after(async () => {
    await Promise.all(agents.map((agent) => agent.close()));
    server?.kill('SIGKILL');
    await database?.drop();
    await rm(dataDir, { recursive: true, force: true });
  });

  for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
    it(`${signal}: every agent back within ${reconnectWithinMs / 1000} s, no report lost, none stored twice`, async () => {
      const clusterId = `restart-${signal.toLowerCase()}`;
      const agentIds = Array.from({ length: agentCount }, (_, index) => `load-${index + 1}`);
      const cohort: AgentProcess[] = [];
      for (const agentId of agentIds) {
        const response = await fetch(`${url}/api/agent-credentials`, {
          method: 'POST',
          headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
          body: JSON.stringify({ clusterId, agentId }),
        });
        assert.equal(response.status, 201);
        const { data } = (await response.json()) as { data: { token: string } };
        const agent = await AgentProcess.start({ serverUrl: url, token: data.token, clusterId, agentId, peers: agentIds.filter((id) => id !== agentId), intervalMs: reportIntervalMs });
        agents.push(agent);
        cohort.push(agent);
      }
      await waitForReconnect(cohort, cohort.map(() => ({ greetings: 0 }) as AgentProcessStatus), 30_000);

      await sleep(loadBeforeRestartMs);
      const beforeRestart = await statuses(cohort);
      const exited = new Promise((resolve) => server!.once('exit', resolve));
      server!.kill(signal);
      await exited;
      await sleep(downMs);
      const whileDown = await statuses(cohort);
      server = (await startServerProcess(env)).child;
      const reconnectMs = await waitForReconnect(cohort, beforeRestart, reconnectWithinMs);

      await sleep(loadAfterRestartMs);
      await Promise.all(cohort.map((agent) => agent.stopReporting()));
      const drained = await waitForDrain(cohort, drainTimeoutMs);
      const counted = drained.statuses.map((status) => ({ ...status, sentCount: () => status.sent, link: { duplicateCount: status.duplicateAcks } }));
      const counts = await countReports(database.url, clusterId, counted);
      const acknowledgedBeforeRestart = beforeRestart.reduce((sum, status) => sum + status.acknowledged, 0);
      const waitingWhileDown = whileDown.reduce((sum, status) => sum + status.outboxDepth, 0);
      printCounts(`server-restart-${signal}`, counts, { acknowledgedBeforeRestart, waitingWhileDown, reconnectMs, drainMs: drained.drainMs });

      assert.ok(counts.sent > 500, `load was real (${counts.sent} reports)`);
      assert.ok(acknowledgedBeforeRestart > 0 && waitingWhileDown > 0, 'the restart happened mid-stream');
      assert.ok(reconnectMs <= reconnectWithinMs, `all back in ${reconnectMs} ms`);
      for (const agent of cohort) {
        assert.ok(agent.lines.some((line) => line.includes('disconnected from control server')), `${agent.agentId} logged going down`);
        assert.ok(agent.lines.some((line) => line.includes('reconnected to control server')), `${agent.agentId} logged coming back`);
      }
      assert.equal(counts.lost, 0, 'zero lost');
      assert.equal(counts.duplicates, 0, 'zero stored twice');
      assert.equal(counts.unexpected, 0);
      assert.equal(counts.stored, counts.sent);
      await Promise.all(cohort.map((agent) => agent.close()));
    });
  }
});
