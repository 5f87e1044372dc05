// Proves that a phased plan rejoins the anchor side first then one group at a time,
// runs unfence → sync → verify per group, obeys pause/resume/abort, and that a failed
// verification stops the plan and raises an alert.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type PhasedPlan, type PhasedPlanEffect, buildPhasedPlan, stepPhasedPlan } from './phased-plan';
import { buildDryRun, quorumArithmetic } from './dry-run';
import { defaultClusterPolicy } from './cluster-policy';

const sides = { sides: [['a', 'b', 'c'], ['d', 'e']], majorityIndex: 0 };

function stagesRun(effects: PhasedPlanEffect[]): string[] {
  return effects.flatMap((effect) => (effect.kind === 'run-stage' ? [`${effect.groupIndex}:${effect.stage}`] : []));
}

function succeed(plan: PhasedPlan, nowMs: number) {
  return stepPhasedPlan(plan, { type: 'stage-succeeded', groupIndex: plan.groupIndex, stage: plan.stage }, nowMs);
}

test('groups: anchor side first, then the rest in groups', () => {
  assert.deepEqual(buildPhasedPlan('p', sides, 1).groups, [['a', 'b', 'c'], ['d'], ['e']]);
  assert.deepEqual(buildPhasedPlan('p', { sides: [['a', 'b'], ['c', 'd']], majorityIndex: null }, 2).groups, [['a', 'b'], ['c', 'd']]);
});

test('runs every stage of every group in order, then completes', () => {
  let { plan, effects } = stepPhasedPlan(buildPhasedPlan('p', sides, 1), { type: 'start' }, 0);
  const order = stagesRun(effects);
  for (let nowMs = 1; plan.status === 'running'; nowMs++) {
    ({ plan, effects } = succeed(plan, nowMs));
    order.push(...stagesRun(effects));
  }
  assert.equal(plan.status, 'completed');
  assert.deepEqual(order, ['0:unfence', '0:sync', '0:verify', '1:unfence', '1:sync', '1:verify', '2:unfence', '2:sync', '2:verify']);
  assert.equal(plan.history.length, 9);
});

test('a failed verification stops the plan and alerts; later results are ignored', () => {
  let { plan } = stepPhasedPlan(buildPhasedPlan('p', sides, 1), { type: 'start' }, 0);
  for (let index = 0; index < 4; index++) plan = succeed(plan, index).plan;
  plan = succeed(plan, 5).plan;
  assert.equal(`${plan.groupIndex}:${plan.stage}`, '1:verify');
  const failed = stepPhasedPlan(plan, { type: 'stage-failed', groupIndex: 1, stage: 'verify', reason: 'digest mismatch' }, 6);
  assert.equal(failed.plan.status, 'failed');
  assert.deepEqual(failed.effects.map((effect) => effect.kind), ['plan-status', 'raise-alert']);
  assert.equal(stagesRun(failed.effects).length, 0, 'no next group is started');
  assert.deepEqual(stepPhasedPlan(failed.plan, { type: 'resume', actor: 'ops' }, 7).effects, []);
});

test('pause holds the next stage until resume; abort ends the plan', () => {
  let { plan } = stepPhasedPlan(buildPhasedPlan('p', sides, 1), { type: 'start' }, 0);
  plan = stepPhasedPlan(plan, { type: 'pause', actor: 'ops' }, 1).plan;
  const whilePaused = succeed(plan, 2);
  assert.deepEqual(stagesRun(whilePaused.effects), []);
  assert.equal(whilePaused.plan.stage, 'sync');
  const resumed = stepPhasedPlan(whilePaused.plan, { type: 'resume', actor: 'ops' }, 3);
  assert.deepEqual(stagesRun(resumed.effects), ['0:sync']);
  const aborted = stepPhasedPlan(resumed.plan, { type: 'abort', actor: 'ops', reason: 'wrong window' }, 4);
  assert.equal(aborted.plan.status, 'aborted');
  assert.match(aborted.plan.failure ?? '', /ops: wrong window/);
});

/** A phased dry run of partition `p` over `replicas`. */
const phasedDryRun = (facts: Parameters<typeof buildDryRun>[0]['facts'], replicas: Parameters<typeof buildDryRun>[0]['replicas']) =>
  buildDryRun({ partitionId: 'p', facts, policy: defaultClusterPolicy, strategy: { strategy: 'phased', source: 'policy', reason: 'complete partition' }, replicas });

test('dry run: quorum arithmetic, affected nodes, conflicts and how they are decided', () => {
  assert.deepEqual(quorumArithmetic([['a', 'b'], ['c', 'd']]).majorityIndex, null);
  assert.equal(quorumArithmetic([['a', 'b', 'c'], ['d', 'e']]).quorumSize, 3);
  const facts = { type: 'complete' as const, ...sides, byzantineEvidence: false, divergenceRatio: null, flapCount: 0 };
  const hlc = (wallMs: number, nodeId: string) => ({ wallMs, logical: 0, nodeId });
  const dryRun = buildDryRun({
    partitionId: 'p',
    facts,
    policy: defaultClusterPolicy,
    strategy: { strategy: 'phased', source: 'policy', reason: 'complete partition' },
    replicas: [
      { nodeId: 'a', changes: [{ key: 'k', value: 'A', hlc: hlc(2, 'a') }] },
      { nodeId: 'b', changes: [] },
      { nodeId: 'c', changes: [] },
      { nodeId: 'd', changes: [{ key: 'k', value: 'D', hlc: hlc(3, 'd') }, { key: 'j', value: 'D', hlc: hlc(3, 'd') }] },
      { nodeId: 'e', changes: [] },
    ],
  });
  assert.equal(dryRun.keysDiffering, 2);
  assert.equal(dryRun.keysChanged, 2);
  assert.equal(dryRun.conflicts.total, 1);
  assert.deepEqual(dryRun.conflicts.byRule, { 'latest-hlc': 1 });
  assert.deepEqual(dryRun.conflicts.samples[0]?.keptFrom, ['d']);
  assert.equal(dryRun.affectedNodes.find((node) => node.nodeId === 'b')?.keysToReceive, 2);
  assert.equal(dryRun.steps.length, 4);
});

test('dry run: a key every replica already holds in the same version was changed but does not differ', () => {
  const facts = { type: 'complete' as const, sides: [['a'], ['b']], majorityIndex: null, byzantineEvidence: false, divergenceRatio: null, flapCount: 0 };
  const same = { key: 'agreed', value: 'x', hlc: { wallMs: 5, logical: 0, nodeId: 'a' } };
  const dryRun = phasedDryRun(facts, [
    { nodeId: 'a', changes: [same, { key: 'only-a', value: 'A', hlc: { wallMs: 6, logical: 0, nodeId: 'a' } }] },
    { nodeId: 'b', changes: [same] },
  ]);
  assert.equal(dryRun.keysChanged, 2);
  assert.equal(dryRun.keysDiffering, 1, 'only the key b lacks differs: the one that moves');
  assert.equal(dryRun.affectedNodes.reduce((sum, node) => sum + node.keysToReceive, 0), 1);
});

test('dry run lists the rows that will change, by table (a real store\'s <schema>.<table>/<row> keys) and per node', () => {
  const facts = { type: 'complete' as const, sides: [['a'], ['b']], majorityIndex: null, byzantineEvidence: false, divergenceRatio: null, flapCount: 0 };
  const hlc = (wallMs: number, nodeId: string) => ({ wallMs, logical: 0, nodeId });
  const dryRun = buildDryRun({
    partitionId: 'p',
    facts,
    policy: defaultClusterPolicy,
    strategy: { strategy: 'manual', source: 'policy', reason: 'critical partition (no-majority)' },
    replicas: [
      { nodeId: 'a', changes: [{ key: 'public.acks/{"id": 1}', value: '{}', hlc: hlc(2, 'a') }, { key: 'demo-1', value: 'x', hlc: hlc(2, 'a') }] },
      { nodeId: 'b', changes: [{ key: 'public.users/{"id": 7}', value: null, hlc: hlc(3, 'b') }] },
    ],
  });
  assert.deepEqual(dryRun.changes?.byTable, [{ table: 'keys', keys: 1 }, { table: 'public.acks', keys: 1 }, { table: 'public.users', keys: 1 }]);
  assert.deepEqual(dryRun.changes?.toReceive, [
    { nodeId: 'a', keys: ['public.users/{"id": 7}'], more: 0 },
    { nodeId: 'b', keys: ['demo-1', 'public.acks/{"id": 1}'], more: 0 },
  ]);
});
