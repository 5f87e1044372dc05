/**
 * Proves alert delivery to an Alertmanager-compatible webhook against a real HTTP
 * receiver: an alert raised through the alerts service reaches the webhook with
 * Alertmanager's payload; a receiver that fails twice still gets the alert (retries
 * with backoff); one that never answers well is given up on without throwing, and
 * the loss is counted.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { AlertWebhook, webhookAttemptsMax } from '../../server/alert-webhook';
import { type TestServer, startTestServer, waitFor } from '../helpers/server-harness';
import { type Receiver, startReceiver } from '../helpers/webhook-receiver';

describe('alert webhook', () => {
  let receiver: Receiver;
  let test: TestServer;

  before(async () => {
    receiver = await startReceiver(0);
    test = await startTestServer({ env: { FAULTLINE_ALERT_WEBHOOK_URL: receiver.url } });
  });
  after(async () => {
    await test?.stop();
    await receiver?.close();
  });

  it('delivers a raised alert in Alertmanager format, then its resolution', async () => {
    await test.server.database.prisma.cluster.create({ data: { id: 'hook', name: 'hook' } });
    const alert = await test.server.console.alerts.raise({ clusterId: 'hook', partitionId: null, rule: 'partition-detected', severity: 'warning', title: 'split in two' });
    const body = await waitFor('webhook received the alert', () => receiver.bodies[0] as Record<string, unknown> | undefined, 10_000);
    assert.equal(body.version, '4');
    assert.equal(body.status, 'firing');
    const first = (body.alerts as { labels: Record<string, string>; annotations: Record<string, string> }[])[0]!;
    assert.equal(first.labels.alertname, 'partition-detected');
    assert.equal(first.labels.cluster, 'hook');
    assert.equal(first.annotations.summary, 'split in two');
    await test.server.console.alerts.resolve(alert.id, 'tester');
    const resolved = await waitFor('webhook received the resolution', () => receiver.bodies[1] as Record<string, unknown> | undefined, 10_000);
    assert.equal(resolved.status, 'resolved');
  });

  it('retries with backoff through failures', async () => {
    const flaky = await startReceiver(2);
    try {
      const webhook = new AlertWebhook(flaky.url, 'http://faultline.test', pino({ level: 'silent' }), { initialDelayMs: 10, maxDelayMs: 50 });
      const delivered = await webhook.deliver({ id: 'a1', clusterId: 'c', partitionId: 'p', rule: 'r', severity: 'warning', status: 'firing', title: 't', firedAtMs: 0, acknowledgedAtMs: null, acknowledgedBy: null, note: null, resolvedAtMs: null, resolvedBy: null, entries: [] });
      assert.equal(delivered, true);
      assert.equal(flaky.attempts, 3, 'two failures, then success');
      assert.equal(webhook.deliveredCount, 1);
    } finally {
      await flaky.close();
    }
  });

  it('gives up after its attempts without throwing, and counts the loss', async () => {
    const dead = await startReceiver(1000);
    try {
      const webhook = new AlertWebhook(dead.url, 'http://faultline.test', pino({ level: 'silent' }), { initialDelayMs: 5, maxDelayMs: 20 });
      const delivered = await webhook.deliver({ id: 'a2', clusterId: 'c', partitionId: null, rule: 'r', severity: 'critical', status: 'firing', title: 't', firedAtMs: 0, acknowledgedAtMs: null, acknowledgedBy: null, note: null, resolvedAtMs: null, resolvedBy: null, entries: [] });
      assert.equal(delivered, false);
      assert.equal(dead.attempts, webhookAttemptsMax);
      assert.equal(webhook.droppedCount, 1);
    } finally {
      await dead.close();
    }
  });
});
