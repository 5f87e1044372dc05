// Recovery decisions on the in-memory store with a fake clock: each decision is
// saved, pushed, and returns the effects that must follow — nothing calls back.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RecoveryRunView } from '../../core/realtime-contract';
import { AppError } from '../app-error';
import { FakeClock } from '../clock';
import { Emitter } from '../events';
import { type RecoveryEffect, type RecoveryEvents, RecoveryService } from './recovery-service';
import { MemoryRecoveryStore } from './recovery-store';

function setup() {
  const clock = new FakeClock();
  const store = new MemoryRecoveryStore();
  store.addPartition('p1', 'c1', { type: 'complete', sides: [['a', 'b', 'c'], ['d', 'e']], majorityIndex: 0, divergenceMax: 0.1 });
  const pushed: RecoveryRunView[] = [];
  const events = new Emitter<RecoveryEvents>();
  const published: RecoveryEffect[][] = [];
  events.on('effects', (effects) => published.push(effects));
  const recovery = new RecoveryService(store, { recoveryChanged: (run) => pushed.push(run) }, clock, events);
  return { clock, store, pushed, published, recovery };
}

const kinds = (effects: RecoveryEffect[]) => effects.map((effect) => effect.kind);
const conflict = (message: RegExp) => (error: unknown) => error instanceof AppError && error.code === 'conflict' && message.test(error.message);

test('an automatic run is approved at once and asks to reconcile', async () => {
  const { recovery, pushed, clock } = setup();
  const { run, effects } = await recovery.requestRun({ partitionId: 'p1', strategy: 'automatic', requestedBy: 'system' });
  assert.deepEqual([run.status, run.clusterId, run.createdAtMs, run.phased], ['approved', 'c1', clock.nowMs(), null]);
  assert.deepEqual(effects, [{ kind: 'reconcile', run }]);
  assert.deepEqual(pushed, [run]);
});

test('a manual run waits for approval and asks for nothing until approved', async () => {
  const { recovery, clock } = setup();
  const { run, effects } = await recovery.requestRun({ partitionId: 'p1', strategy: 'manual', requestedBy: 'system' });
  assert.deepEqual([run.status, effects], ['pending-approval', []]);
  clock.advance(5000);
  const approved = await recovery.approveRun(run.id, 'olga', 'checked the plan');
  assert.deepEqual([approved.run.status, approved.run.decidedBy, approved.run.decidedAtMs, approved.run.reason], ['approved', 'olga', clock.nowMs(), 'checked the plan']);
  assert.deepEqual(kinds(approved.effects), ['reconcile']);
});

test('the second of two decisions on one run is a conflict naming the first decider', async () => {
  const { recovery } = setup();
  const { run } = await recovery.requestRun({ partitionId: 'p1', strategy: 'manual', requestedBy: 'system' });
  await recovery.rejectRun(run.id, 'olga', 'not now');
  await assert.rejects(recovery.approveRun(run.id, 'vera', 'go'), conflict(/cannot approve a manual recovery that is rejected \(decided by olga\)/));
});

test('a rejection ends the run and tells the lifecycle', async () => {
  const { recovery, clock } = setup();
  const { run } = await recovery.requestRun({ partitionId: 'p1', strategy: 'manual', requestedBy: 'system' });
  const rejected = await recovery.rejectRun(run.id, 'olga', 'x'.repeat(3000));
  assert.deepEqual([rejected.run.status, rejected.run.endedAtMs, rejected.run.reason?.length], ['rejected', clock.nowMs(), 2000]);
  assert.deepEqual(kinds(rejected.effects), ['rejected']);
});

test('one open run per partition; an unknown partition or run is not_found', async () => {
  const { recovery } = setup();
  await recovery.requestRun({ partitionId: 'p1', strategy: 'manual', requestedBy: 'system' });
  await assert.rejects(recovery.requestRun({ partitionId: 'p1', strategy: 'automatic', requestedBy: 'system' }), conflict(/already has an open manual recovery \(pending-approval\)/));
  const notFound = (error: unknown) => error instanceof AppError && error.code === 'not_found';
  await assert.rejects(recovery.requestRun({ partitionId: 'nope', strategy: 'automatic', requestedBy: 'system' }), notFound);
  await assert.rejects(recovery.approveRun('run-99', 'olga', ''), notFound);
});

test('a phased run starts at once with its first stage, and each recorded stage asks for the next', async () => {
  const { recovery } = setup();
  const { run, effects } = await recovery.requestRun({ partitionId: 'p1', strategy: 'phased', requestedBy: 'system' });
  assert.equal(run.status, 'running');
  assert.deepEqual(effects.map((effect) => effect.kind === 'run-stage' && [effect.stage.stage, effect.stage.groupIndex]), [['unfence', 0]]);
  const next = await recovery.recordStageRun(run.id, { groupIndex: 0, stage: 'unfence', ok: true });
  assert.deepEqual(next.effects.map((effect) => effect.kind === 'run-stage' && effect.stage.stage), ['sync']);
  const failed = await recovery.recordStageRun(run.id, { groupIndex: 0, stage: 'sync', ok: false, reason: 'did not converge' });
  assert.deepEqual([failed.run.status, failed.run.reason, failed.effects], ['failed', 'did not converge', []]);
});

test('pause holds the next stage; resume asks for it; pausing a paused run is a conflict', async () => {
  const { recovery } = setup();
  const { run } = await recovery.requestRun({ partitionId: 'p1', strategy: 'phased', requestedBy: 'system' });
  const paused = await recovery.pauseRun(run.id, 'olga', 'look first');
  assert.deepEqual([paused.run.status, paused.run.reason], ['paused', 'paused by olga: look first']);
  const recorded = await recovery.recordStageRun(run.id, { groupIndex: 0, stage: 'unfence', ok: true });
  assert.deepEqual(recorded.effects, [], 'a paused plan starts no stage');
  await assert.rejects(recovery.pauseRun(run.id, 'olga', 'again'), conflict(/cannot pause a phased recovery that is paused/));
  const resumed = await recovery.resumeRun(run.id, 'olga', 'ok');
  assert.equal(resumed.run.status, 'running');
  assert.deepEqual(resumed.effects.map((effect) => effect.kind === 'run-stage' && effect.stage.stage), ['sync']);
});

test('abort stops what is in flight, for every strategy; a manual run has no phases to pause', async () => {
  const { recovery, store } = setup();
  const manual = await recovery.requestRun({ partitionId: 'p1', strategy: 'manual', requestedBy: 'system' });
  await assert.rejects(recovery.pauseRun(manual.run.id, 'olga', ''), conflict(/a manual recovery has no phases to pause/));
  const aborted = await recovery.abortRun(manual.run.id, 'olga', 'wrong partition');
  assert.deepEqual([aborted.run.status, aborted.run.reason, kinds(aborted.effects)], ['aborted', 'aborted by olga: wrong partition', ['stop']]);
  store.addPartition('p2', 'c1', { type: 'complete', sides: [['a', 'b', 'c'], ['d', 'e']], majorityIndex: 0, divergenceMax: 0 });
  const phased = await recovery.requestRun({ partitionId: 'p2', strategy: 'phased', requestedBy: 'system' });
  const stopped = await recovery.abortRun(phased.run.id, 'olga', 'stop');
  assert.deepEqual([stopped.run.status, kinds(stopped.effects)], ['aborted', ['stop']]);
  await assert.rejects(recovery.abortRun(phased.run.id, 'olga', 'again'), conflict(/abort/));
});

test('markRunning and finish move an approved run to its end, stamped by the clock', async () => {
  const { recovery, clock } = setup();
  const { run } = await recovery.requestRun({ partitionId: 'p1', strategy: 'automatic', requestedBy: 'system' });
  clock.advance(10);
  assert.equal((await recovery.markRunning(run.id)).startedAtMs, clock.nowMs());
  clock.advance(10);
  const finished = await recovery.finish(run.id, 'failed', 'escalated');
  assert.deepEqual([finished.status, finished.endedAtMs, finished.reason], ['failed', clock.nowMs(), 'escalated']);
  await assert.rejects(recovery.finish(run.id, 'succeeded'), conflict(/cannot finish/));
});

test('operator actions publish their effects on the recovery events and return the run', async () => {
  const { recovery, published } = setup();
  const requested = await recovery.request({ partitionId: 'p1', strategy: 'manual', requestedBy: 'olga' });
  assert.deepEqual(published, [], 'a run waiting for approval asks for nothing');
  const approved = await recovery.approve(requested.id, 'olga', 'go');
  assert.deepEqual(published, [[{ kind: 'reconcile', run: approved }]]);
  assert.deepEqual((await recovery.list({ partitionId: 'p1', limit: 10 })).map((run) => run.status), ['approved']);
});

test('the dry run of a partition uses its stored sides', async () => {
  const { recovery } = setup();
  const plan = await recovery.dryRun('p1', 'manual', 'olga');
  assert.deepEqual(plan.quorum.sides.map((side) => side.nodeIds), [['a', 'b', 'c'], ['d', 'e']]);
  assert.equal(plan.quorum.majorityIndex, 0);
});

test('an operator’s start is refused, with the cut link named, until the links it needs are up', async () => {
  const { recovery, store } = setup();
  const split = () => ({ links: [{ a: 'a', b: 'd', state: 'down' as const }], staleNodeIds: [] });
  await assert.rejects(recovery.request({ partitionId: 'p1', strategy: 'phased', requestedBy: 'olga' }, split), conflict(/cannot start a phased recovery yet: the network is still split: a ✕ d \(down\)/));
  assert.deepEqual(await store.list({ partitionId: 'p1', limit: 5 }), [], 'nothing was started');
  const healed = await recovery.request({ partitionId: 'p1', strategy: 'phased', requestedBy: 'olga' }, () => ({ links: [], staleNodeIds: [] }));
  assert.equal(healed.status, 'running');
  assert.equal(await recovery.startRefusal('p1', () => null), null, 'no live view of the cluster: nothing to check');
});

test('a run that fails or is aborted is written to its partition’s timeline with the reason', async () => {
  const { recovery, store, clock } = setup();
  const { run } = await recovery.requestRun({ partitionId: 'p1', strategy: 'automatic', requestedBy: 'system' });
  await recovery.markRunning(run.id);
  clock.advance(1000);
  await recovery.finish(run.id, 'failed', 'sync did not converge');
  const { run: second } = await recovery.requestRun({ partitionId: 'p1', strategy: 'manual', requestedBy: 'olga' });
  await recovery.abortRun(second.id, 'olga', 'wrong plan');
  assert.deepEqual(store.outcomes.map((outcome) => outcome.cause), ['automatic recovery failed: sync did not converge', 'manual recovery aborted: aborted by olga: wrong plan']);
  assert.equal(store.outcomes[0]?.atMs, clock.nowMs());
});
