// Alerts over the incident machine, on the in-memory store with a fake clock: who
// wins, what is refused, what is pushed (and when), and re-escalation — no sleeps.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AlertView } from '../core/realtime-contract';
import { AlertsService } from './alerts-service';
import { MemoryAlertStore } from './alerts/alert-store';
import { AppError } from './app-error';
import { FakeClock } from './clock';

function setup() {
  const clock = new FakeClock();
  const store = new MemoryAlertStore();
  const pushed: AlertView[] = [];
  const alerts = new AlertsService(store, { alertChanged: (alert) => pushed.push(alert) }, clock);
  const raise = (rule = 'partition-detected', partitionId: string | null = 'p1', severity: 'warning' | 'critical' = 'warning') =>
    alerts.raise({ clusterId: 'c1', partitionId, rule, severity, title: `${rule} on ${partitionId}` });
  return { clock, store, pushed, alerts, raise };
}

async function conflict(work: Promise<unknown>, message: RegExp) {
  await assert.rejects(work, (error: unknown) => error instanceof AppError && error.code === 'conflict' && message.test(error.message));
}

test('raise creates a firing alert stamped by the clock and pushes it once', async () => {
  const { alerts, raise, pushed, clock } = setup();
  const alert = await raise();
  assert.deepEqual([alert.status, alert.severity, alert.firedAtMs, alert.rule], ['firing', 'warning', clock.nowMs(), 'partition']);
  assert.deepEqual(alert.entries.map((entry) => [entry.rule, entry.title]), [['partition-detected', 'partition-detected on p1']]);
  assert.deepEqual(pushed, [alert]);
  assert.deepEqual(await alerts.getOrThrow(alert.id), alert);
});

test('raising the same rule again while open changes nothing and pushes nothing', async () => {
  const { raise, pushed, alerts } = setup();
  const first = await raise();
  await alerts.acknowledge(first.id, 'alice', 'on it');
  pushed.length = 0;
  const again = await raise('partition-detected', 'p1', 'critical');
  assert.deepEqual([again.id, again.status, again.severity], [first.id, 'acknowledged', 'warning']);
  assert.equal(pushed.length, 0);
});

test('one incident per partition: another rule is an entry on it, pushed once, the acknowledgement kept', async () => {
  const { raise, alerts, pushed } = setup();
  const detected = await raise('partition-detected');
  await alerts.acknowledge(detected.id, 'alice', 'on it');
  pushed.length = 0;
  const emergency = await raise('emergency-mode', 'p1', 'critical');
  assert.equal(emergency.id, detected.id);
  assert.deepEqual([emergency.status, emergency.severity, emergency.acknowledgedBy], ['acknowledged', 'critical', 'alice']);
  assert.deepEqual(emergency.entries.map((entry) => entry.rule), ['partition-detected', 'emergency-mode']);
  assert.equal(pushed.length, 1);
  assert.equal((await alerts.list({ limit: 10 })).length, 1);
});

test('what one lifecycle step raised is one change: one push for several entries', async () => {
  const { alerts, pushed } = setup();
  await alerts.raise({ clusterId: 'c1', partitionId: 'p1', rule: 'partition-detected', severity: 'warning', title: 'split' });
  pushed.length = 0;
  const incident = await alerts.raiseForPartition('c1', 'p1', [
    { rule: 'emergency-mode', severity: 'critical', title: 'emergency: divergence-exceeded' },
    { rule: 'data-divergence', severity: 'warning', title: 'data divergence 12.0 % over the 10 % threshold' },
  ]);
  assert.equal(pushed.length, 1);
  assert.deepEqual([incident.severity, incident.entries.length], ['critical', 3]);
});

test('a resolved alert that fires again is reopened as firing, acknowledgement cleared', async () => {
  const { raise, alerts, clock } = setup();
  const first = await raise();
  await alerts.acknowledge(first.id, 'alice', 'on it');
  await alerts.resolve(first.id, 'alice');
  clock.advance(60_000);
  const again = await raise('partition-detected', 'p1', 'critical');
  assert.equal(again.id, first.id);
  assert.deepEqual([again.status, again.severity, again.firedAtMs, again.acknowledgedBy, again.note, again.resolvedAtMs], ['firing', 'critical', clock.nowMs(), null, null, null]);
});

test('acknowledge records who, when and the note; a second acknowledgement is a conflict naming the first', async () => {
  const { raise, alerts, clock } = setup();
  const alert = await raise();
  clock.advance(1000);
  const acknowledged = await alerts.acknowledge(alert.id, 'alice', 'looking');
  assert.deepEqual([acknowledged.status, acknowledged.acknowledgedBy, acknowledged.acknowledgedAtMs, acknowledged.note], ['acknowledged', 'alice', clock.nowMs(), 'looking']);
  await conflict(alerts.acknowledge(alert.id, 'bob', 'me too'), /acknowledged \(acknowledged by alice\); only a firing alert/);
});

test('two acknowledgements at once: exactly one wins', async () => {
  const { raise, alerts } = setup();
  const alert = await raise();
  const results = await Promise.allSettled([alerts.acknowledge(alert.id, 'alice', 'a'), alerts.acknowledge(alert.id, 'bob', 'b')]);
  assert.deepEqual(results.map((result) => result.status).sort(), ['fulfilled', 'rejected']);
  const winner = results.find((result) => result.status === 'fulfilled') as PromiseFulfilledResult<AlertView>;
  assert.equal((await alerts.getOrThrow(alert.id)).acknowledgedBy, winner.value.acknowledgedBy);
});

test('resolve twice: the second is a conflict; an unknown id is not_found', async () => {
  const { raise, alerts } = setup();
  const alert = await raise();
  assert.equal((await alerts.resolve(alert.id, 'bob')).resolvedBy, 'bob');
  await conflict(alerts.resolve(alert.id, 'bob'), /already resolved/);
  await assert.rejects(alerts.resolve('nope', 'bob'), (error: unknown) => error instanceof AppError && error.code === 'not_found');
});

test('notes are cut to the longest allowed', async () => {
  const { raise, alerts } = setup();
  const alert = await raise();
  assert.equal((await alerts.acknowledge(alert.id, 'alice', 'x'.repeat(5000))).note?.length, 2000);
});

test('re-escalation: only acknowledgements older than the timeout fire again, as critical, keeping who acknowledged', async () => {
  const { raise, alerts, clock } = setup();
  const stale = await raise('partition-detected', 'p1');
  const resolved = await raise('partition-detected', 'p2');
  await alerts.acknowledge(stale.id, 'olga', 'looking into it');
  await alerts.acknowledge(resolved.id, 'olga', 'fixed');
  await alerts.resolve(resolved.id, 'olga');
  clock.advance(10 * 60_000);
  const recent = await raise('partition-detected', 'p3');
  await alerts.acknowledge(recent.id, 'vera', 'just now');
  clock.advance(1000);
  const fired = await alerts.reescalateStale(5 * 60_000);
  assert.deepEqual(fired.map((alert) => alert.id), [stale.id]);
  const after = await alerts.getOrThrow(stale.id);
  assert.deepEqual([after.status, after.severity, after.acknowledgedBy], ['firing', 'critical', null]);
  assert.equal(after.note, 'acknowledged by olga (looking into it) but still open after 5 min');
  assert.equal((await alerts.getOrThrow(recent.id)).status, 'acknowledged');
  assert.equal((await alerts.getOrThrow(resolved.id)).status, 'resolved');
  assert.deepEqual(await alerts.reescalateStale(5 * 60_000), [], 'a re-escalated alert does not fire again until acknowledged again');
});

test('resolveForPartition resolves every open alert of the partition as system, and only those', async () => {
  const { raise, alerts } = setup();
  await raise('partition-detected', 'p1');
  await raise('emergency-mode', 'p1');
  const other = await raise('partition-detected', 'p2');
  const resolved = await alerts.resolveForPartition('p1');
  assert.deepEqual(resolved.map((alert) => [alert.status, alert.resolvedBy]), [['resolved', 'system']]);
  assert.equal((await alerts.getOrThrow(other.id)).status, 'firing');
  assert.deepEqual(await alerts.countOpen(), { firing: 1, acknowledged: 0 });
});

test('partition-less rules: one open alert per cluster and rule, resolved when the condition ends, then a new one', async () => {
  const { alerts } = setup();
  const input = { clusterId: 'c1', rule: 'agent-missing:n1', severity: 'warning' as const, title: 'n1 missing' };
  const first = await alerts.raiseForRule(input);
  assert.equal((await alerts.raiseForRule(input)).id, first.id);
  assert.deepEqual((await alerts.findOpenByRulePrefix('agent-missing:')).map((alert) => alert.id), [first.id]);
  assert.deepEqual((await alerts.resolveForRule('c1', 'agent-missing:n1')).map((alert) => alert.status), ['resolved']);
  assert.deepEqual(await alerts.findOpenByRulePrefix('agent-missing:'), []);
  assert.notEqual((await alerts.raiseForRule(input)).id, first.id);
});

test('every saved change is pushed, in order, with what was saved', async () => {
  const { raise, alerts, pushed } = setup();
  const alert = await raise();
  await alerts.acknowledge(alert.id, 'alice', 'n');
  await alerts.resolve(alert.id, 'alice');
  await conflict(alerts.resolve(alert.id, 'alice'), /already/);
  assert.deepEqual(pushed.map((view) => view.status), ['firing', 'acknowledged', 'resolved']);
  assert.deepEqual(pushed.at(-1), await alerts.getOrThrow(alert.id));
});
