/**
 * Proves that PostgreSQL becoming unreachable for a while (a TCP proxy we control
 * resets every connection and refuses new ones; the machine's PostgreSQL is never
 * touched) does not bring the server down or lose a report: health says degraded,
 * readiness says no, agents are answered `unavailable` and keep their reports in
 * their outboxes, and once the database is back everything is stored exactly once.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type TestDatabase, createTestDatabase } from '../helpers/database';
import { type LoadAgent, startLoadAgent } from '../helpers/load-agent';
import { type TestServer, startTestServer } from '../helpers/server-harness';
import { type TcpProxy, startTcpProxy } from '../helpers/tcp-proxy';
import { countReports, printCounts, waitForDrain } from './fault-counts';

const clusterId = 'db-outage';
const agentCount = 3;
const reportIntervalMs = 20;
const outageMs = 5000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('fault: database unavailable for a while', { timeout: 180_000 }, () => {
  let database: TestDatabase;
  let proxy: TcpProxy;
  let test: TestServer;
  const agents: LoadAgent[] = [];

  before(async () => {
    database = await createTestDatabase();
    const target = new URL(database.url);
    proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
    const viaProxy = new URL(database.url);
    viaProxy.port = String(proxy.port);
    test = await startTestServer({ reuseDatabase: database, env: { DATABASE_URL: viaProxy.toString() } });
  });
  after(async () => {
    await Promise.all(agents.map((agent) => agent.close()));
    await test?.stop();
    await proxy?.close();
    await database?.drop();
  });

  it('stays up, reports degraded, loses nothing', async () => {
    const agentIds = Array.from({ length: agentCount }, (_, index) => `db-${index + 1}`);
    for (const agentId of agentIds) {
      const { token } = await test.server.credentials.issue({ clusterId, agentId, createdBy: 'test' });
      agents.push(await startLoadAgent({ serverUrl: test.url, token, clusterId, agentId, peers: agentIds.filter((id) => id !== agentId), intervalMs: reportIntervalMs }));
    }
    await sleep(1500);
    proxy.block();
    const outageStarted = Date.now();
    let degradedSeen = false;
    let notReadySeen = false;
    let maxWaiting = 0;
    while (Date.now() - outageStarted < outageMs) {
      const health = (await (await fetch(`${test.url}/api/health`)).json()) as { data: { status: string; database: { ok: boolean } } };
      if (health.data.status === 'degraded' && !health.data.database.ok) degradedSeen = true;
      if ((await fetch(`${test.url}/api/ready`)).status === 503) notReadySeen = true;
      maxWaiting = Math.max(maxWaiting, agents.reduce((sum, agent) => sum + agent.outbox.depth(), 0));
      await sleep(250);
    }
    proxy.unblock();
    const recoveredAt = Date.now();
    await sleep(1000);
    for (const agent of agents) agent.stopReporting();
    const drainMs = await waitForDrain(agents, 60_000);
    const ready = await fetch(`${test.url}/api/ready`);

    const counts = await countReports(database.url, clusterId, agents);
    printCounts('database-outage', counts, { outageMs, maxWaitingInOutboxes: maxWaiting, drainMs, recoveredToDrainedMs: Date.now() - recoveredAt, proxyRefused: proxy.refusedCount() });
    assert.ok(degradedSeen, 'health reported degraded during the outage');
    assert.ok(notReadySeen, 'readiness said no during the outage');
    assert.equal(ready.status, 200, 'ready again afterwards');
    assert.ok(maxWaiting > 50, `reports waited in the outboxes (${maxWaiting})`);
    assert.equal(counts.lost, 0, 'zero lost');
    assert.equal(counts.duplicates, 0, 'zero stored twice');
    assert.equal(counts.stored, counts.sent);
  });
});
