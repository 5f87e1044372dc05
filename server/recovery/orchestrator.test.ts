// The orchestrator end to end on in-memory stores, a fake clock and recorded
// agents: what a lifecycle decides becomes fences, alerts, recovery runs and
// reconciliations, in order, and the partition closes only once verified.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LifecycleRunner, factsOf } from './orchestrator';
import { clusterId, completeSplit, majoritySplit, partitionId, recoveryFixture, settle } from './test-fixtures';

async function splitAndHeal(fixture: ReturnType<typeof recoveryFixture>, verdict = majoritySplit) {
  const runner = new LifecycleRunner(fixture.deps);
  fixture.events.on('effects', (effects) => runner.handle(effects));
  await runner.feed(partitionId, clusterId, { type: 'partition-observed', facts: factsOf(verdict, null) });
  return runner;
}

test('a complete split with a majority fences the minority read-only and raises partition-detected', async () => {
  const fixture = recoveryFixture();
  const runner = await splitAndHeal(fixture, completeSplit);
  assert.equal(runner.find(partitionId)?.state, 'DegradedOperation');
  assert.deepEqual(fixture.commands, [{ nodeIds: ['d', 'e'], command: { type: 'fence', partitionId, mode: 'read-only' } }]);
  assert.deepEqual((await fixture.alerts.list({ limit: 10 })).map((alert) => [alert.rule, alert.severity, alert.entries.map((entry) => entry.rule)]), [['partition', 'warning', ['partition-detected']]]);
  assert.equal(fixture.store.partitions.get(partitionId)?.lifecycle?.state, 'DegradedOperation', 'the state is saved');
  assert.deepEqual(fixture.store.timeline.map((event) => event.kind), ['transition', 'transition']);
});

test('healing runs an automatic recovery, reconciles every replica, and closes after the stability window', async () => {
  const fixture = recoveryFixture();
  const runner = await splitAndHeal(fixture);
  await runner.feed(partitionId, clusterId, { type: 'partition-healed' });
  await settle();
  const [run] = await fixture.recovery.list({ partitionId, limit: 10 });
  assert.deepEqual([run?.strategy, run?.status], ['automatic', 'succeeded']);
  assert.deepEqual(fixture.drives, [['a', 'b', 'c', 'd', 'e']]);
  assert.deepEqual(fixture.store.reports.map((report) => report.status), ['succeeded']);
  assert.equal(fixture.store.partitions.get(partitionId)?.summary.endedAtMs, null, 'still open inside the stability window');
  fixture.clock.advance(31_000);
  await runner.feed(partitionId, clusterId, { type: 'tick' });
  const closed = fixture.store.partitions.get(partitionId)?.summary;
  assert.deepEqual([closed?.outcome, closed?.state, runner.find(partitionId)], ['recovered', 'Normal', null]);
  assert.deepEqual(await fixture.alerts.countOpen(), { firing: 0, acknowledged: 0 }, 'alerts resolve when the partition ends');
  const sampled = (name: string) => fixture.store.samples.find((sample) => sample.name === name)?.value;
  assert.ok(sampled('recovery_time_ms') !== undefined);
  // The total splits into waiting for the start (an automatic one waits for nobody) and working.
  assert.equal(sampled('recovery_wait_ms')! + sampled('recovery_work_ms')!, sampled('recovery_time_ms'));
  assert.equal(closed?.recoveryMs, sampled('recovery_time_ms'));
});

test('an escalated reconciliation raises reconciliation-escalated and the partition stays open', async () => {
  const fixture = recoveryFixture({ reconcile: (run) => ({ ...run, phase: 'escalated', failure: 'digests differ' }) });
  const runner = await splitAndHeal(fixture);
  await runner.feed(partitionId, clusterId, { type: 'partition-healed' });
  await settle();
  const runs = await fixture.recovery.list({ partitionId, limit: 10 });
  assert.deepEqual(runs.map((run) => [run.strategy, run.status, run.reason]), [['manual', 'pending-approval', null], ['automatic', 'failed', 'digests differ']], 'after escalation, recovery waits for an operator');
  const rules = (await fixture.alerts.list({ limit: 10, status: ['firing'] })).flatMap((alert) => alert.entries.map((entry) => entry.rule));
  assert.ok(rules.includes('reconciliation-escalated'), rules.join());
  assert.ok(rules.includes('recovery-pending'), 'the incident links to the run waiting for approval');
  fixture.clock.advance(60_000);
  await runner.feed(partitionId, clusterId, { type: 'tick' });
  assert.equal(fixture.store.partitions.get(partitionId)?.summary.endedAtMs, null, 'an unverified partition never closes');
});

test('an operator abort published on the recovery events cancels the running lifecycle', async () => {
  const fixture = recoveryFixture();
  const runner = await splitAndHeal(fixture);
  const requested = await fixture.recovery.request({ partitionId, strategy: 'manual', requestedBy: 'olga' });
  await fixture.recovery.abort(requested.id, 'olga', 'not now');
  assert.equal(runner.entry(partitionId)?.cancelled, true);
});

test('a re-split while recovering aborts the open run', async () => {
  const fixture = recoveryFixture({ reconcile: (run) => ({ ...run, phase: 'escalated', failure: 'x' }) });
  const runner = await splitAndHeal(fixture);
  const requested = await fixture.recovery.requestRun({ partitionId, strategy: 'manual', requestedBy: 'system' });
  await runner.feed(partitionId, clusterId, { type: 'partition-healed' });
  await runner.feed(partitionId, clusterId, { type: 'partition-observed', facts: factsOf(majoritySplit, null) });
  await settle();
  assert.equal((await fixture.recovery.getOrThrow(requested.run.id)).status, 'aborted');
});

test('acknowledgements that time out fire again on the orchestrator’s check', async () => {
  const fixture = recoveryFixture();
  const runner = await splitAndHeal(fixture);
  const [alert] = await fixture.alerts.list({ limit: 1 });
  await fixture.alerts.acknowledge(alert!.id, 'olga', 'looking');
  fixture.clock.advance(61_000);
  await runner.checkAcknowledgements();
  assert.deepEqual([(await fixture.alerts.getOrThrow(alert!.id)).status, (await fixture.alerts.getOrThrow(alert!.id)).severity], ['firing', 'critical']);
});

test('a partial split keeps every side writing: no fences are sent', async () => {
  const fixture = recoveryFixture();
  const runner = await splitAndHeal(fixture);
  assert.equal(runner.find(partitionId)?.state, 'DegradedOperation');
  assert.deepEqual(fixture.commands, []);
});
