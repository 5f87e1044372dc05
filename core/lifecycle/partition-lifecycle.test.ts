// Proves the partition lifecycle: the brief's paths with their fences, recoveries and
// alerts; manual approval and rejection recorded; the gate back to Normal (verified
// and stable); flapping; escalation on divergence; and, over random event sequences,
// that only defined transitions are taken and persists always come first.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { type ClusterPolicy, type PartitionFacts, defaultClusterPolicy } from '../policy/cluster-policy';
import { lifecycleDefinition } from './lifecycle-definition';
import { type LifecycleEffect, type LifecycleEvent, type PartitionLifecycleState, createPartitionLifecycle, stepPartition } from './partition-lifecycle';

const majoritySplit: PartitionFacts = { type: 'complete', sides: [['a', 'b', 'c'], ['d', 'e']], majorityIndex: 0, byzantineEvidence: false, divergenceRatio: null, flapCount: 0 };
const evenSplit: PartitionFacts = { ...majoritySplit, sides: [['a', 'b'], ['c', 'd']], majorityIndex: null };

/** Feeds events with a fake clock, collecting effects. */
function run(policy: ClusterPolicy, events: [number, LifecycleEvent][]) {
  let state = createPartitionLifecycle('p1', 'c1', policy);
  const effects: LifecycleEffect[] = [];
  for (const [nowMs, event] of events) {
    const result = stepPartition(state, event, nowMs);
    state = result.state;
    effects.push(...result.effects);
  }
  return { state, effects };
}

const kinds = (effects: LifecycleEffect[], kind: LifecycleEffect['kind']) => effects.filter((effect) => effect.kind === kind);

test('majority split: detected → degraded (minority read-only) → reconciliation → normal after the stability window', () => {
  const { state, effects } = run(defaultClusterPolicy, [
    [1000, { type: 'partition-observed', facts: majoritySplit }],
    [5000, { type: 'partition-healed' }],
    [6000, { type: 'reconciliation-completed', verified: true, summary: 'ok' }],
    [20_000, { type: 'tick' }],
    [35_000, { type: 'tick' }],
  ]);
  assert.deepEqual(state.path, ['Normal', 'PartitionDetected', 'DegradedOperation', 'ReconciliationMode', 'Normal']);
  assert.deepEqual(kinds(effects, 'send-command').map((effect) => effect.kind === 'send-command' && [effect.command.type, effect.nodeIds]), [['fence', ['d', 'e']]]);
  const start = kinds(effects, 'start-recovery')[0];
  assert.equal(start?.kind === 'start-recovery' && start.strategy, 'phased');
  assert.equal(start?.kind === 'start-recovery' && start.sinceMs, 0, 'collects from a lookback before detection');
  assert.equal(state.closedAtMs, 35_000, 'not before the 30 s window since the heal');
  assert.equal(kinds(effects, 'resolve-alert').length, 1);
  const transitions = kinds(effects, 'persist-transition').map((effect) => effect.kind === 'persist-transition' && effect.transition);
  assert.deepEqual(transitions.map((transition) => transition && transition.name), ['partition-detected', 'handling-activated', 'partition-healed', 'reconciliation-verified']);
  assert.match((transitions[1] && transitions[1].cause) || '', /consistency-first: minority fenced read-only \[d, e\]/);
});

test('no majority: emergency → manual recovery waits; rejection and approval are recorded with who and why', () => {
  const { state, effects } = run(defaultClusterPolicy, [
    [0, { type: 'partition-observed', facts: evenSplit }],
    [1000, { type: 'partition-healed' }],
    [2000, { type: 'recovery-rejected', actor: 'alice', reason: 'not during peak' }],
    [3000, { type: 'recovery-approved', actor: 'bob', reason: 'window open' }],
    [4000, { type: 'reconciliation-completed', verified: true, summary: 'ok' }],
    [31_000, { type: 'tick' }],
  ]);
  assert.deepEqual(state.path, ['Normal', 'PartitionDetected', 'EmergencyMode', 'ReconciliationMode', 'Normal']);
  const commands = kinds(effects, 'send-command').map((effect) => effect.kind === 'send-command' && `${effect.command.type}:${effect.nodeIds.join('')}`);
  assert.deepEqual(commands, ['fence:abcd', 'unfence:abcd'], 'fences stay up until approval');
  assert.equal(kinds(effects, 'request-approval').length, 1);
  const decisions = kinds(effects, 'persist-decision').map((effect) => effect.kind === 'persist-decision' && [effect.decision.decision, effect.decision.actor, effect.decision.atMs]);
  assert.deepEqual(decisions, [['recovery-rejected', 'alice', 2000], ['recovery-approved', 'bob', 3000]]);
  const unfenceIndex = effects.findIndex((effect) => effect.kind === 'send-command' && effect.command.type === 'unfence');
  const startIndex = effects.findIndex((effect) => effect.kind === 'start-recovery');
  assert.ok(unfenceIndex > 0 && startIndex > unfenceIndex);
});

test('the gate: unverified reconciliation never returns to Normal; escalation asks for approval again', () => {
  const { state, effects } = run(defaultClusterPolicy, [
    [0, { type: 'partition-observed', facts: { ...majoritySplit, type: 'partial', sides: [['a', 'b', 'c']], majorityIndex: 0 } }],
    [1000, { type: 'partition-healed' }],
    [2000, { type: 'reconciliation-escalated', reason: 'digests disagree after 3 attempts' }],
    [100_000, { type: 'tick' }],
  ]);
  assert.equal(state.state, 'ReconciliationMode');
  assert.equal(state.awaitingApproval, true);
  assert.ok(kinds(effects, 'raise-alert').some((effect) => effect.kind === 'raise-alert' && effect.severity === 'critical'));
});

test('flapping: a re-split while reconciling re-enters handling; repeated flaps become an emergency', () => {
  const events: [number, LifecycleEvent][] = [[0, { type: 'partition-observed', facts: majoritySplit }]];
  for (let flap = 1; flap <= 3; flap++) {
    events.push([flap * 1000, { type: 'partition-healed' }], [flap * 1000 + 500, { type: 'partition-observed', facts: majoritySplit }]);
  }
  const { state, effects } = run(defaultClusterPolicy, events);
  assert.equal(state.flapCount, 3);
  assert.equal(state.state, 'EmergencyMode');
  assert.equal(kinds(effects, 'cancel-recovery').length, 3);
  assert.deepEqual(state.path.slice(-2), ['PartitionDetected', 'EmergencyMode']);
});

test('availability-first: divergence past its threshold escalates DegradedOperation → EmergencyMode', () => {
  const policy = { ...defaultClusterPolicy, handling: { ...defaultClusterPolicy.handling, complete: 'availability-first' as const } };
  const { state, effects } = run(policy, [
    [0, { type: 'partition-observed', facts: majoritySplit }],
    [1000, { type: 'divergence-measured', ratio: 0.05 }],
    [2000, { type: 'divergence-measured', ratio: 0.15 }],
  ]);
  assert.deepEqual(state.path, ['Normal', 'PartitionDetected', 'DegradedOperation', 'EmergencyMode']);
  assert.deepEqual(kinds(effects, 'send-command').map((effect) => effect.kind === 'send-command' && effect.command), [{ type: 'fence', partitionId: 'p1', mode: 'critical-only' }]);
  assert.equal(kinds(effects, 'raise-alert').filter((effect) => effect.kind === 'raise-alert' && /^data divergence \d+\.\d % of keys, over the 10 % threshold$/.test(effect.reason)).length, 1);
});

test('duration threshold alerts once', () => {
  const { effects } = run(defaultClusterPolicy, [
    [0, { type: 'partition-observed', facts: majoritySplit }],
    [299_000, { type: 'tick' }],
    [301_000, { type: 'tick' }],
    [400_000, { type: 'tick' }],
  ]);
  assert.equal(kinds(effects, 'raise-alert').filter((effect) => effect.kind === 'raise-alert' && /^partition open \d+ s, over the 300 s threshold$/.test(effect.reason)).length, 1);
});

const eventArbitrary: fc.Arbitrary<LifecycleEvent> = fc.oneof(
  fc.constantFrom<LifecycleEvent>(
    { type: 'partition-observed', facts: majoritySplit },
    { type: 'partition-observed', facts: evenSplit },
    { type: 'partition-healed' },
    { type: 'divergence-measured', ratio: 0.5 },
    { type: 'emergency-declared', actor: 'ops', reason: 'drill' },
    { type: 'strategy-overridden', override: { strategy: 'automatic', actor: 'ops', reason: 'fast' } },
    { type: 'recovery-approved', actor: 'ops', reason: 'go' },
    { type: 'recovery-rejected', actor: 'ops', reason: 'no' },
    { type: 'reconciliation-completed', verified: true, summary: 'ok' },
    { type: 'reconciliation-completed', verified: false, summary: 'bad' },
    { type: 'reconciliation-escalated', reason: 'x' },
    { type: 'tick' },
  ),
);

/** Every edge of the definition, read from the table itself (not through `findTransition`, which the lifecycle uses too). */
const definedEdges = new Set(lifecycleDefinition.transitions.map((transition) => `${transition.from}|${transition.name}|${transition.to}`));

test('property: only defined transitions, persists first, closed lifecycles are inert', () => {
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 60_000 }), eventArbitrary), { maxLength: 40 }), (steps) => {
      let state: PartitionLifecycleState = createPartitionLifecycle('p1', 'c1', defaultClusterPolicy);
      let nowMs = 0;
      for (const [delayMs, event] of steps) {
        nowMs += delayMs;
        const wasClosed = state.closedAtMs !== null;
        const result = stepPartition(state, event, nowMs);
        if (wasClosed) assert.deepEqual(result.effects, []);
        const firstOther = result.effects.findIndex((effect) => !effect.kind.startsWith('persist-'));
        const lastPersist = result.effects.map((effect) => effect.kind.startsWith('persist-')).lastIndexOf(true);
        if (firstOther !== -1) assert.ok(lastPersist < firstOther, 'persist effects come before all others');
        // The state moves only along persisted transitions, each one in the definition:
        // the chain starts where the step started and ends where it left the state.
        const taken = result.effects.flatMap((effect) => (effect.kind === 'persist-transition' ? [effect.transition] : []));
        let at = state.state;
        for (const transition of taken) {
          assert.equal(transition.from, at, `${transition.name} leaves ${transition.from}, but the lifecycle was in ${at}`);
          assert.ok(definedEdges.has(`${transition.from}|${transition.name}|${transition.to}`), `undefined transition ${transition.from} -${transition.name}-> ${transition.to}`);
          at = transition.to;
        }
        assert.equal(result.state.state, at, `state ${result.state.state} not reached through persisted transitions ${JSON.stringify(taken.map((t) => t.name))}`);
        assert.deepEqual(result.state.path.slice(-taken.length - 1), [state.state, ...taken.map((transition) => transition.to)].slice(-result.state.path.length));
        if (result.state.state !== state.state) assert.ok(result.effects.some((effect) => effect.kind === 'emit'));
        state = result.state;
        if (state.state === 'Normal' && state.detectedAtMs !== null) assert.notEqual(state.closedAtMs, null);
      }
    }),
  );
});
