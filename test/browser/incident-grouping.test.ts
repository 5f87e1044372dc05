/**
 * One incident per partition (issue 13.1) and alerts that say enough (issue 16.5),
 * in real headless Chromium against a real server, PostgreSQL, five demo agents and
 * a real webhook receiver counting Alertmanager calls:
 * - a 2 | 2 | 1 split (no majority: partition + emergency) and a divergence past the
 *   10 % threshold are ONE incident in the alerts list, its emergency and breach
 *   entries on it, the breach with its value against the threshold; one
 *   acknowledgement covers the partition; every webhook call is for that one alert
 *   and each call is a change (no duplicate notification);
 * - the overview's guidance for EmergencyMode and for a manual recovery waiting for
 *   approval, each with its link; the incident links to the pending recovery, and
 *   the link opens that run;
 * - one cut link names only the two nodes it concerns, not all five.
 * The divergence sample is fed through the lifecycle runner as the sampler feeds
 * it, because at the demo's realistic load passing 10 % takes about two minutes.
 * Needs `npx next build` first.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import type { AlertView } from '../../core/realtime-contract';
import type { AlertmanagerPayload } from '../../server/alert-webhook';
import { activePartitionOf, signedInPage, startConsoleSuite, suiteOperator as operator } from '../helpers/browser';
import { type TestServer, callApi, waitFor } from '../helpers/server-harness';
import { type Receiver, startReceiver } from '../helpers/webhook-receiver';

describe('one incident per partition, in Chromium', () => {
  let server: TestServer;
  let browser: Browser;
  let receiver: Receiver;

  const active = () => activePartitionOf(server);
  const alertsOf = async (partitionId: string) => {
    const listed = await callApi<AlertView[]>(server.url, `/api/alerts?clusterId=demo&limit=50`);
    assert.ok(listed.payload.ok);
    return listed.payload.data.filter((alert) => alert.partitionId === partitionId);
  };
  const callsFor = (partitionId: string) => (receiver.bodies as AlertmanagerPayload[]).filter((body) => body.groupLabels.partition === partitionId);
  /** Waits until the webhook has had `count` calls for the partition and no more arrive for a while. */
  async function settledCalls(partitionId: string, count: number) {
    await waitFor(`${count} webhook calls`, () => callsFor(partitionId).length >= count, 20_000);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    return callsFor(partitionId);
  }
  const closed = () => waitFor('the partition to close', async () => (await active()) === null, 120_000, 500);

  before(async () => {
    receiver = await startReceiver();
    ({ server, browser } = await startConsoleSuite({ FAULTLINE_STABILITY_WINDOW_MS: '3000', FAULTLINE_ALERT_WEBHOOK_URL: receiver.url }));
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
    await receiver?.close();
  });

  test('a split with no majority and a divergence breach is one incident, acknowledged once, one notification per change', async () => {
    const { context, page } = await signedInPage(browser, server.url, operator);
    const split = await callApi(server.url, '/api/faults/split', { method: 'POST', body: { groups: [['node-1', 'node-2'], ['node-3', 'node-4'], ['node-5']] } });
    assert.ok(split.payload.ok, JSON.stringify(split.payload));
    const partition = await waitFor('EmergencyMode', async () => {
      const now = await active();
      return now?.state === 'EmergencyMode' ? now : null;
    }, 30_000);
    await page.locator('[data-testid="guidance"][data-state="EmergencyMode"][data-tone="act"]').waitFor({ timeout: 15_000 });
    assert.match((await page.getByTestId('guidance').textContent()) ?? '', /^Emergency: no majority side; .*Approve a manual recovery once the network is healed/);
    assert.equal(await page.getByTestId('guidance-link').getAttribute('href'), '/recovery');
    const beforeBreach = (await settledCalls(partition.id, 1)).length;

    await server.server.lifecycle.feed(partition.id, 'demo', { type: 'divergence-measured', ratio: 0.148 });
    const incidents = await waitFor('the breach on the incident', async () => {
      const listed = await alertsOf(partition.id);
      return listed.some((alert) => alert.entries.some((entry) => entry.rule === 'data-divergence')) ? listed : null;
    });
    assert.equal(incidents.length, 1, `one incident for the partition, not ${incidents.map((alert) => alert.rule).join(', ')}`);
    const incident = incidents[0]!;
    assert.deepEqual([incident.rule, incident.severity, incident.status], ['partition', 'critical', 'firing']);
    assert.equal((await settledCalls(partition.id, beforeBreach + 1)).length, beforeBreach + 1, 'the breach is one more notification');

    await page.goto(`${server.url}/alerts`);
    const rows = page.locator('[data-testid="alert-row"]');
    const row = page.locator(`[data-testid="alert-row"][data-alert-id="${incident.id}"]`);
    await row.waitFor();
    assert.equal(await rows.count(), 1, 'one open incident in the list');
    assert.match((await row.locator('[data-testid="incident-entry"][data-rule="emergency-mode"]').textContent()) ?? '', /emergency: no-majority/);
    assert.equal(await row.locator('[data-testid="incident-entry"][data-rule="emergency-mode"] [data-testid="incident-entry-link"]').getAttribute('href'), '/recovery');
    assert.match((await row.locator('[data-testid="incident-entry"][data-rule="data-divergence"]').textContent()) ?? '', /data divergence 14\.8 % of keys, over the 10 % threshold/);
    await row.getByTestId('ack-open').click();
    await row.getByTestId('ack-note').fill('Checking the switches of racks 1 to 3');
    await row.getByTestId('ack-submit').click();
    await page.locator(`[data-testid="alert-row"][data-alert-id="${incident.id}"][data-status="acknowledged"]`).waitFor();
    const counts = await callApi<{ firing: number; acknowledged: number }>(server.url, '/api/alerts/counts?clusterId=demo');
    assert.deepEqual(counts.payload.ok && counts.payload.data, { firing: 0, acknowledged: 1 }, 'one acknowledgement covers the partition');
    const afterAck = (await settledCalls(partition.id, beforeBreach + 2)).length;
    assert.equal(afterAck, beforeBreach + 2, 'the acknowledgement is one notification');

    assert.ok((await callApi(server.url, '/api/faults/heal', { method: 'POST', body: {} })).payload.ok);
    const run = await waitFor('a manual run waiting', async () => {
      const runs = await callApi<{ id: string; status: string; partitionId: string }[]>(server.url, `/api/recovery?clusterId=demo&partitionId=${partition.id}&status=pending-approval`);
      return runs.payload.ok ? runs.payload.data[0] : null;
    }, 60_000);
    await page.goto(`${server.url}/`);
    await page.locator('[data-testid="guidance"][data-tone="act"]', { hasText: 'waits for your approval' }).waitFor({ timeout: 15_000 });
    assert.equal(await page.getByTestId('guidance-link').getAttribute('href'), `/recovery?run=${run.id}`);
    await page.goto(`${server.url}/alerts`);
    const pendingLink = row.locator('[data-testid="incident-entry"][data-rule="recovery-pending"] [data-testid="incident-entry-link"]');
    await pendingLink.waitFor({ timeout: 15_000 });
    assert.equal(await pendingLink.getAttribute('href'), `/recovery?run=${run.id}`);
    await pendingLink.click();
    const card = page.locator(`[data-testid="recovery-run"][data-run-id="${run.id}"][data-focused="true"]`);
    await card.waitFor();
    await card.getByTestId('recovery-reason').fill('Network healed, plan checked');
    await card.getByTestId('recovery-approve').click();
    await closed();
    const final = await waitFor('the resolution delivered', () => callsFor(partition.id).find((call) => call.status === 'resolved') && callsFor(partition.id));
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const calls = callsFor(partition.id);
    assert.equal(new Set(calls.map((call) => call.alerts[0]!.fingerprint)).size, 1, 'every call is for the one incident');
    assert.equal(new Set(calls.map((call) => call.groupKey)).size, 1);
    const states = calls.map((call) => JSON.stringify([call.status, call.commonLabels.severity, call.commonAnnotations]));
    assert.ok(states.every((state, index) => index === 0 || state !== states[index - 1]), `each notification is a change:\n${states.join('\n')}`);
    assert.ok(final.length >= 5, `fired, breach, acknowledged, recovery waiting, resolved: ${calls.length} calls`);
    process.stdout.write(`# webhook calls for one partition (split, breach, acknowledgement, recovery waiting, approval, close): ${calls.length}; alerts for it: ${(await alertsOf(partition.id)).length}\n`);
    await context.close();
  });

  test('one cut link: the incident names the two nodes it concerns, not all five', async () => {
    const cut = await callApi(server.url, '/api/faults/cut', { method: 'POST', body: { from: 'node-1', to: 'node-2' } });
    assert.ok(cut.payload.ok, JSON.stringify(cut.payload));
    const partition = await waitFor('the partial partition', async () => {
      const now = await active();
      return now && now.type === 'partial' ? now : null;
    }, 30_000);
    const { context, page } = await signedInPage(browser, server.url, operator);
    await page.goto(`${server.url}/alerts`);
    const [incident] = await waitFor('its incident', async () => {
      const listed = await alertsOf(partition.id);
      return listed.length > 0 ? listed : null;
    });
    const title = (await page.locator(`[data-testid="alert-row"][data-alert-id="${incident!.id}"] strong`).first().textContent()) ?? '';
    assert.match(title, /node-1 ✕ node-2 cut \(nodes node-1, node-2;/);
    assert.doesNotMatch(title, /node-3|node-4|node-5/);
    assert.ok((await callApi(server.url, '/api/faults/heal', { method: 'POST', body: {} })).payload.ok);
    await closed();
    await context.close();
  });
});
