/**
 * Proves on the real PostgreSQL that an acknowledgement does not silence an
 * incident for ever: an alert acknowledged longer ago than the timeout and still
 * open fires again as critical, naming who acknowledged it; a recent
 * acknowledgement and a resolved alert are left alone.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type TestServer, startTestServer } from '../helpers/server-harness';

describe('acknowledgement timeout', () => {
  let test: TestServer;
  before(async () => {
    test = await startTestServer();
    await test.server.database.prisma.cluster.create({ data: { id: 'esc', name: 'esc' } });
  });
  after(async () => {
    await test?.stop();
  });

  it('re-fires a stale acknowledgement as critical and leaves recent and resolved ones', async () => {
    const alerts = test.server.console.alerts;
    const raise = (title: string) => alerts.raise({ clusterId: 'esc', partitionId: null, rule: 'partition-duration', severity: 'warning', title });
    const stale = await raise('stale');
    const resolved = await raise('resolved');
    await alerts.acknowledge(stale.id, 'olga', 'looking into it');
    await alerts.acknowledge(resolved.id, 'olga', 'fixed');
    await alerts.resolve(resolved.id, 'olga');
    await new Promise((resolve) => setTimeout(resolve, 600));
    const recent = await raise('recent');
    await alerts.acknowledge(recent.id, 'vera', 'just now');

    const fired = await alerts.reescalateStale(300);
    assert.deepEqual(fired.map((alert) => alert.id), [stale.id]);
    const after = await alerts.getOrThrow(stale.id);
    assert.equal(after.status, 'firing');
    assert.equal(after.severity, 'critical');
    assert.match(after.note ?? '', /acknowledged by olga \(looking into it\)/);
    assert.equal((await alerts.getOrThrow(recent.id)).status, 'acknowledged');
    assert.equal((await alerts.getOrThrow(resolved.id)).status, 'resolved');
    assert.deepEqual(await alerts.reescalateStale(300), [], 'a re-fired alert is not re-fired again until acknowledged');
  });
});
