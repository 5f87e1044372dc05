// Proves that a reconciliation plan resolves every changed key once, sends each
// replica exactly the keys it lacks (and every replica, holders too, a key whose kept
// version is older than one it discarded, to set its floor), lists every discarded version, and that the run
// machine completes on agreeing digests, retries with a full comparison, then escalates.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { digestOf } from '../digest';
import { describePlanChanges, keyGroupOf, planChangeSamplesMax, planReconciliation, reportReconciliation, settlesFloor } from './plan-reconciliation';
import { startReconciliation, stepReconciliation } from './reconciliation-run';
import { lastWriterWins, preferMajoritySide } from './resolver';

const at = (wallMs: number, nodeId: string) => ({ wallMs, logical: 0, nodeId });

test('plan: sync sets, conflicts and overwritten versions', () => {
  const shared = { key: 'conflict', value: 'from-a', hlc: at(10, 'a') };
  const plan = planReconciliation({
    replicas: [
      { nodeId: 'a', changes: [shared, { key: 'only-a', value: '1', hlc: at(11, 'a') }] },
      { nodeId: 'b', changes: [shared] },
      { nodeId: 'c', changes: [{ key: 'conflict', value: 'from-c', hlc: at(12, 'c') }] },
    ],
    resolver: lastWriterWins,
    majorityNodes: ['a', 'b'],
  });
  assert.equal(plan.keysCompared, 2);
  assert.equal(plan.conflicts.length, 1);
  assert.equal(plan.resolved.get('conflict')?.value, 'from-c');
  const keysFor = (nodeId: string) => plan.syncSets.find((set) => set.nodeId === nodeId)?.entries.map((entry) => entry.key);
  assert.deepEqual(keysFor('a'), ['conflict']);
  assert.deepEqual(keysFor('b'), ['conflict', 'only-a']);
  assert.deepEqual(keysFor('c'), ['only-a']);
  assert.deepEqual(plan.overwritten.map((version) => [version.key, version.lost.value, version.holders]), [['conflict', 'from-a', ['a', 'b']]]);
  assert.ok(plan.bytesToMove > 0);
  const report = reportReconciliation(plan, { startedAtMs: 100, finishedAtMs: 350, attempts: 1, verified: true });
  assert.equal(report.durationMs, 250);
  assert.equal(report.conflictCount, 1);
  assert.equal(report.overwrittenCount, 1);
  assert.deepEqual(report.changes.byTable, [{ table: 'keys', keys: 2 }]);
  assert.deepEqual(
    [...report.changes.toReceive].sort((x, y) => x.nodeId.localeCompare(y.nodeId)),
    [{ nodeId: 'a', keys: ['conflict'], more: 0 }, { nodeId: 'b', keys: ['conflict', 'only-a'], more: 0 }, { nodeId: 'c', keys: ['only-a'], more: 0 }],
    'the report names what was recovered, per replica',
  );
});

test('plan changes: rows grouped by table, at most planChangeSamplesMax keys listed per replica and the rest counted', () => {
  const changes = Array.from({ length: planChangeSamplesMax + 5 }, (_, index) => ({ key: `public.acks/{"id": ${index}}`, value: 'v', hlc: at(10 + index, 'a') }));
  const plan = planReconciliation({
    replicas: [{ nodeId: 'a', changes: [...changes, { key: 'public.users/{"id": 1}', value: 'u', hlc: at(5, 'a') }] }, { nodeId: 'b', changes: [] }],
    resolver: lastWriterWins,
    majorityNodes: ['a'],
  });
  const described = describePlanChanges(plan);
  assert.deepEqual(described.byTable, [{ table: 'public.acks', keys: planChangeSamplesMax + 5 }, { table: 'public.users', keys: 1 }]);
  const toB = described.toReceive.find((node) => node.nodeId === 'b');
  assert.equal(toB?.keys.length, planChangeSamplesMax);
  assert.equal(toB?.more, 6);
  assert.equal(keyGroupOf('plain-key'), 'keys');
});

test('plan: a kept version older than a discarded one goes to every replica, holders included', () => {
  const majorityVersion = { key: 'k', value: 'majority', hlc: at(10, 'a') };
  const plan = planReconciliation({
    replicas: [
      { nodeId: 'a', changes: [majorityVersion, { key: 'j', value: 'j', hlc: at(11, 'a') }] },
      { nodeId: 'b', changes: [majorityVersion] },
      { nodeId: 'c', changes: [{ key: 'k', value: 'minority', hlc: at(20, 'c') }] },
    ],
    resolver: preferMajoritySide,
    majorityNodes: ['a', 'b'],
  });
  const resolved = plan.resolved.get('k')!;
  assert.equal(resolved.value, 'majority');
  assert.deepEqual(resolved.supersedes, at(20, 'c'));
  assert.equal(settlesFloor(resolved), true);
  assert.equal(settlesFloor(plan.resolved.get('j')!), false, 'a single version settles nothing');
  const keysFor = (nodeId: string) => plan.syncSets.find((set) => set.nodeId === nodeId)?.entries.map((entry) => entry.key);
  assert.deepEqual(keysFor('a'), ['k']);
  assert.deepEqual(keysFor('b'), ['j', 'k']);
  assert.deepEqual(keysFor('c'), ['j', 'k']);
});

test('run: collect → sync → verify → completed', () => {
  const rules = { resolver: lastWriterWins, majorityNodes: null };
  let { run, effects } = startReconciliation({ partitionId: 'p1', nodeIds: ['a', 'b'], since: null }, 0);
  assert.deepEqual(effects, [{ kind: 'collect-changes', nodeIds: ['a', 'b'], since: null }]);
  const entry = { key: 'k', value: 'v', hlc: at(1, 'a') };
  ({ run, effects } = stepReconciliation(run, { type: 'changes-collected', nodeId: 'a', changes: [entry] }, 1, rules));
  assert.deepEqual(effects, []);
  ({ run, effects } = stepReconciliation(run, { type: 'changes-collected', nodeId: 'b', changes: [] }, 2, rules));
  assert.deepEqual(effects.map((effect) => effect.kind), ['send-sync']);
  ({ run, effects } = stepReconciliation(run, { type: 'sync-applied', nodeId: 'b' }, 3, rules));
  assert.deepEqual(effects.map((effect) => effect.kind), ['collect-digests']);
  const digest = digestOf([entry]);
  ({ run, effects } = stepReconciliation(run, { type: 'digest-reported', nodeId: 'a', digest }, 4, rules));
  ({ run, effects } = stepReconciliation(run, { type: 'digest-reported', nodeId: 'b', digest }, 5, rules));
  assert.equal(run.phase, 'completed');
  assert.equal(effects[0]?.kind, 'reconciliation-completed');
  assert.equal(run.report?.durationMs, 5);
});

test('run: disagreeing digests retry with a full comparison, then escalate', () => {
  const rules = { resolver: lastWriterWins, majorityNodes: null };
  let { run } = startReconciliation({ partitionId: 'p1', nodeIds: ['a', 'b'], since: at(5, '-'), attemptsMax: 2 }, 0);
  const different = [digestOf([{ key: 'k', value: '1', hlc: at(1, 'a') }]), digestOf([{ key: 'k', value: '2', hlc: at(1, 'b') }])];
  for (let attempt = 1; attempt <= 2; attempt++) {
    for (const nodeId of ['a', 'b']) run = stepReconciliation(run, { type: 'changes-collected', nodeId, changes: [] }, 1, rules).run;
    assert.equal(run.phase, 'verifying');
    run = stepReconciliation(run, { type: 'digest-reported', nodeId: 'a', digest: different[0]! }, 2, rules).run;
    const last = stepReconciliation(run, { type: 'digest-reported', nodeId: 'b', digest: different[1]! }, 3, rules);
    run = last.run;
    if (attempt === 1) {
      assert.deepEqual(last.effects.map((effect) => effect.kind), ['reconciliation-retrying', 'collect-changes']);
      assert.equal(run.since, null);
    } else {
      assert.equal(run.phase, 'escalated');
      assert.equal(last.effects[0]?.kind, 'reconciliation-escalated');
    }
  }
});

test('run: replies from replicas not awaited change nothing', () => {
  const rules = { resolver: lastWriterWins, majorityNodes: null };
  const { run } = startReconciliation({ partitionId: 'p1', nodeIds: ['a'], since: null }, 0);
  const result = stepReconciliation(run, { type: 'changes-collected', nodeId: 'stranger', changes: [] }, 1, rules);
  assert.equal(result.run, run);
  assert.deepEqual(result.effects, []);
});
