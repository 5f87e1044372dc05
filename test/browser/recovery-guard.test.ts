/**
 * Issue 16.1, in real headless Chromium against a real server, PostgreSQL and five
 * demo agents: a recovery cannot be started while the cluster is still split — the
 * recovery page says why (the cut links) with its start buttons disabled, and the
 * API refuses with the same reason and starts nothing; the start buttons are hidden
 * while another recovery of the partition is open (a manual one waiting for
 * approval); and a run that really fails (one replica's agent is gone when the
 * operator approves) appears in the partition's timeline with its reason.
 * Needs `npx next build` first.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import type { RecoveryRunView } from '../../core/realtime-contract';
import { activePartitionOf, signedInPage, startConsoleSuite, suiteOperator as operator } from '../helpers/browser';
import { type TestServer, callApi, waitFor } from '../helpers/server-harness';

describe('recovery guard, in Chromium', () => {
  let server: TestServer;
  let browser: Browser;

  const runsOf = async (partitionId: string, status?: string) => {
    const runs = await callApi<RecoveryRunView[]>(server.url, `/api/recovery?clusterId=demo&partitionId=${partitionId}${status ? `&status=${status}` : ''}`);
    assert.ok(runs.payload.ok);
    return runs.payload.data;
  };
  const inState = (state: string) => waitFor(state, async () => {
    const active = await activePartitionOf(server);
    return active?.state === state ? active : null;
  }, 30_000);

  before(async () => {
    ({ server, browser } = await startConsoleSuite({ FAULTLINE_STABILITY_WINDOW_MS: '3000' }));
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  test('while split, starting a recovery is refused with the reason, in the page and by the API', async () => {
    const split = await callApi(server.url, '/api/faults/split', { method: 'POST', body: { groups: [['node-1', 'node-2'], ['node-3', 'node-4', 'node-5']] } });
    assert.ok(split.payload.ok, JSON.stringify(split.payload));
    const partition = await inState('DegradedOperation');
    const { context, page } = await signedInPage(browser, server.url, operator);
    await page.goto(`${server.url}/recovery`);
    const refused = page.getByTestId('start-refused');
    await refused.waitFor({ timeout: 15_000 });
    // Both directions of a cut link are reported by different agents: the page may first show one of them (one-way).
    const named = /still split: node-1 ✕ node-3 \(down\)/;
    await waitFor('the refusal names node-1 ✕ node-3 as down', async () => named.test((await refused.textContent()) ?? ''), 20_000, 250);
    assert.ok(await page.getByTestId('start-phased').isDisabled(), 'the phased start is disabled while split');
    assert.ok(await page.getByTestId('start-manual').isDisabled());
    const started = await callApi(server.url, '/api/recovery', { method: 'POST', body: { partitionId: partition.id, strategy: 'phased' } });
    assert.equal(started.status, 409);
    assert.match(started.payload.ok ? '' : started.payload.message, /cannot start a phased recovery yet: the network is still split: node-1 ✕ node-3/);
    assert.deepEqual(await runsOf(partition.id), [], 'nothing was started, nothing unfenced');
    assert.ok((await callApi(server.url, '/api/faults/heal', { method: 'POST', body: {} })).payload.ok);
    await waitFor('the partition to close', async () => (await activePartitionOf(server)) === null, 120_000, 500);
    await context.close();
  });

  test('no start button while a recovery waits; a run that fails is in the partition’s timeline', async () => {
    const split = await callApi(server.url, '/api/faults/split', { method: 'POST', body: { groups: [['node-1', 'node-2'], ['node-3', 'node-4'], ['node-5']] } });
    assert.ok(split.payload.ok, JSON.stringify(split.payload));
    const partition = await inState('EmergencyMode');
    assert.ok((await callApi(server.url, '/api/faults/heal', { method: 'POST', body: {} })).payload.ok);
    const pending = await waitFor('a manual run waiting', async () => (await runsOf(partition.id, 'pending-approval'))[0], 60_000);
    const { context, page } = await signedInPage(browser, server.url, operator);
    await page.goto(`${server.url}/recovery`);
    await page.getByTestId('start-hidden').waitFor({ timeout: 15_000 });
    assert.match((await page.getByTestId('start-hidden').textContent()) ?? '', /manual recovery of this partition is pending-approval/);
    assert.equal(await page.getByTestId('start-phased').count(), 0, 'no start button while one is open');
    assert.equal(await page.getByTestId('start-manual').count(), 0);

    // One replica's agent is gone when the operator approves: reconciliation cannot reach it and the run fails.
    const agent = server.server.demo?.processes.get('node-5');
    assert.ok(agent?.pid, 'node-5 runs');
    agent.kill('SIGKILL');
    await waitFor('node-5 gone', async () => {
      const cluster = await callApi<{ nodes: { id: string; connected: boolean }[] }>(server.url, '/api/cluster?clusterId=demo');
      return cluster.payload.ok && cluster.payload.data.nodes.some((node) => node.id === 'node-5' && !node.connected);
    });
    const card = page.locator(`[data-testid="recovery-run"][data-run-id="${pending.id}"]`);
    await card.getByTestId('recovery-reason').fill('Network healed, approving');
    await card.getByTestId('recovery-approve').click();
    const failed = await waitFor('the run to fail', async () => {
      const run = (await runsOf(partition.id)).find((candidate) => candidate.id === pending.id);
      return run?.status === 'failed' ? run : null;
    }, 120_000, 500);
    await page.goto(`${server.url}/history/${partition.id}`);
    const line = page.getByTestId('timeline').locator('tr', { hasText: 'manual recovery failed' });
    await line.waitFor({ timeout: 15_000 });
    assert.match((await line.textContent()) ?? '', new RegExp(`recovery.*manual recovery failed: ${(failed.reason ?? '').slice(0, 20).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    await context.close();
  });
});
