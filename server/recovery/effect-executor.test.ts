// The effect executor carries out every kind of core lifecycle effect, on the
// in-memory stores; the alert rule comes from the effect, never from its text.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LifecycleEffect } from '../../core/lifecycle/partition-lifecycle';
import { createPartitionLifecycle } from '../../core/lifecycle/partition-lifecycle';
import { defaultClusterPolicy } from '../../core/policy/cluster-policy';
import { EffectExecutor } from './effect-executor';
import type { Entry } from './orchestrator-types';
import { clusterId, partitionId, recoveryFixture } from './test-fixtures';

function setup() {
  const fixture = recoveryFixture();
  const calls: string[] = [];
  const runs = {
    request: async (_: Entry, strategy: string) => {
      calls.push(`request ${strategy}`);
      return { id: 'run-1' };
    },
    start: async (_: Entry, effect: Extract<LifecycleEffect, { kind: 'start-recovery' }>) => void calls.push(`start ${effect.strategy}`),
    abortOpen: async (id: string, reason: string) => void calls.push(`abort ${id}: ${reason}`),
  } as unknown as ConstructorParameters<typeof EffectExecutor>[1];
  const executor = new EffectExecutor(fixture.deps, runs);
  const entry: Entry = { state: createPartitionLifecycle(partitionId, clusterId, defaultClusterPolicy), clusterId, chain: Promise.resolve(), cancelled: false, ledger: null, writesAtStart: new Map(), ledgerSaved: Promise.resolve() };
  return { ...fixture, calls, executor, entry };
}

test('persist-transition appends to the timeline with the actor named', async () => {
  const { executor, entry, store } = setup();
  await executor.carryOut(entry, { kind: 'persist-transition', transition: { partitionId, from: 'Normal', to: 'PartitionDetected', name: 'partition-detected', cause: 'split', actor: { kind: 'operator', name: 'olga' }, atMs: 5 } });
  assert.deepEqual(store.timeline, [{ partitionId, kind: 'transition', atMs: 5, cause: 'split', actor: 'olga' }]);
});

test('persist-decision appends the decision and its reason', async () => {
  const { executor, entry, store } = setup();
  await executor.carryOut(entry, { kind: 'persist-decision', decision: { partitionId, decision: 'recovery-approved', actor: 'olga', reason: 'plan ok', atMs: 7 } });
  assert.deepEqual(store.timeline, [{ partitionId, kind: 'decision', atMs: 7, cause: 'recovery-approved: plan ok', actor: 'olga' }]);
});

test('send-command goes to the nodes of the entry’s cluster', async () => {
  const { executor, entry, commands } = setup();
  await executor.carryOut(entry, { kind: 'send-command', nodeIds: ['d', 'e'], command: { type: 'fence', partitionId, mode: 'read-only' } });
  assert.deepEqual(commands, [{ nodeIds: ['d', 'e'], command: { type: 'fence', partitionId, mode: 'read-only' } }]);
});

test('raise-alert adds an entry under the effect’s rule, with its reason as the title, to the partition’s incident', async () => {
  const { executor, entry, alerts } = setup();
  await executor.carryOut(entry, { kind: 'raise-alert', partitionId, rule: 'data-divergence', reason: 'emergency: looks like a threshold', severity: 'warning' });
  const [alert] = await alerts.list({ limit: 10 });
  assert.deepEqual([alert?.rule, alert?.title, alert?.clusterId, alert?.partitionId], ['partition', 'emergency: looks like a threshold', clusterId, partitionId]);
  assert.deepEqual(alert?.entries.map((item) => item.rule), ['data-divergence']);
});

test('a step’s raised alerts are one change of one incident; an emergency links to the recovery page', async () => {
  const { executor, entry, alerts, deps } = setup();
  const pushed: string[] = [];
  const raiseForPartition = deps.alerts.raiseForPartition.bind(deps.alerts);
  deps.alerts.raiseForPartition = async (...args) => {
    pushed.push(args[2].map((item) => item.rule).join('+'));
    return raiseForPartition(...args);
  };
  await executor.carryOutAll(entry, [
    { kind: 'raise-alert', partitionId, rule: 'partition-detected', reason: 'complete partition', severity: 'warning' },
    { kind: 'raise-alert', partitionId, rule: 'emergency-mode', reason: 'emergency: no-majority', severity: 'critical' },
    { kind: 'emit', partitionId, state: 'EmergencyMode' },
    { kind: 'raise-alert', partitionId, rule: 'data-divergence', reason: 'data divergence 12 %', severity: 'warning' },
  ]);
  assert.deepEqual(pushed, ['partition-detected+emergency-mode+data-divergence']);
  const all = await alerts.list({ limit: 10 });
  assert.equal(all.length, 1);
  assert.deepEqual(all[0]?.entries.map((item) => item.link), [null, '/recovery', null]);
});

test('resolve-alert resolves every open alert of the partition', async () => {
  const { executor, entry, alerts } = setup();
  for (const rule of ['partition-detected', 'emergency-mode'] as const) await executor.carryOut(entry, { kind: 'raise-alert', partitionId, rule, reason: rule, severity: 'critical' });
  await executor.carryOut(entry, { kind: 'resolve-alert', partitionId });
  assert.deepEqual(await alerts.countOpen(), { firing: 0, acknowledged: 0 });
});

test('request-approval asks for a manual run and links the incident to it; start-recovery starts the chosen strategy', async () => {
  const { executor, entry, calls, alerts } = setup();
  await executor.carryOut(entry, { kind: 'request-approval', partitionId, reason: 'no majority' });
  await executor.carryOut(entry, { kind: 'start-recovery', partitionId, strategy: 'phased', nodeIds: ['a'], majorityNodes: null, sinceMs: 0 });
  assert.deepEqual(calls, ['request manual', 'start phased']);
  const [incident] = await alerts.list({ limit: 10 });
  assert.deepEqual(incident?.entries.map((item) => [item.rule, item.link]), [['recovery-pending', '/recovery?run=run-1']], 'the incident links to the pending recovery');
});

test('cancel-recovery cancels what runs and aborts open runs with the reason', async () => {
  const { executor, entry, calls } = setup();
  await executor.carryOut(entry, { kind: 'cancel-recovery', partitionId, reason: 'partition recurred' });
  assert.equal(entry.cancelled, true);
  assert.deepEqual(calls, [`abort ${partitionId}: partition recurred`]);
});

test('emit pushes the saved partition; an unknown partition pushes nothing', async () => {
  const { executor, entry, changed } = setup();
  await executor.carryOut(entry, { kind: 'emit', partitionId, state: 'Normal' });
  await executor.carryOut(entry, { kind: 'emit', partitionId: 'gone', state: 'Normal' });
  assert.deepEqual(changed.map((row) => row.id), [partitionId]);
});

test('an effect kind it does not know is an error, not a silent skip', async () => {
  const { executor, entry } = setup();
  await assert.rejects(executor.carryOut(entry, { kind: 'teleport' } as unknown as LifecycleEffect), /unhandled lifecycle effect/);
});
