// Proves the handling decision per partition type and mode (minority fenced read-only
// vs all writing; emergency for no majority, byzantine evidence, divergence, flapping),
// the brief's strategy selection with override, threshold checks, and config parsing.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type PartitionFacts, ClusterPolicySchema, decideHandling, defaultClusterPolicy } from './cluster-policy';
import { selectRecoveryStrategy } from './recovery-strategy';
import { briefThresholds, thresholdBreaches } from './thresholds';

const facts = (overrides: Partial<PartitionFacts>): PartitionFacts => ({
  type: 'complete',
  sides: [['a', 'b', 'c'], ['d', 'e']],
  majorityIndex: 0,
  byzantineEvidence: false,
  divergenceRatio: null,
  flapCount: 0,
  ...overrides,
});
const availability = { ...defaultClusterPolicy, handling: { ...defaultClusterPolicy.handling, complete: 'availability-first' as const } };

test('decideHandling: table of cases', () => {
  const cases = [
    { name: 'consistency-first fences the minority read-only', facts: facts({}), policy: defaultClusterPolicy, mode: 'degraded', fences: [{ nodeIds: ['d', 'e'], mode: 'read-only' }], reasons: [] },
    { name: 'availability-first fences nobody', facts: facts({}), policy: availability, mode: 'degraded', fences: [], reasons: [] },
    { name: 'no majority side is an emergency', facts: facts({ sides: [['a', 'b'], ['c', 'd']], majorityIndex: null }), policy: defaultClusterPolicy, mode: 'emergency', fences: [{ nodeIds: ['a', 'b', 'c', 'd'], mode: 'critical-only' }], reasons: ['no-majority'] },
    { name: 'byzantine evidence is an emergency', facts: facts({ byzantineEvidence: true }), policy: availability, mode: 'emergency', fences: [{ nodeIds: ['a', 'b', 'c', 'd', 'e'], mode: 'critical-only' }], reasons: ['byzantine-evidence'] },
    { name: 'divergence past threshold is an emergency', facts: facts({ divergenceRatio: 0.11 }), policy: availability, mode: 'emergency', fences: [{ nodeIds: ['a', 'b', 'c', 'd', 'e'], mode: 'critical-only' }], reasons: ['divergence-exceeded'] },
    { name: 'divergence at threshold is not', facts: facts({ divergenceRatio: 0.1 }), policy: availability, mode: 'degraded', fences: [], reasons: [] },
    { name: 'flapping past its limit is an emergency', facts: facts({ flapCount: 3 }), policy: defaultClusterPolicy, mode: 'emergency', fences: [{ nodeIds: ['a', 'b', 'c', 'd', 'e'], mode: 'critical-only' }], reasons: ['flapping'] },
    { name: 'partial partition (one component) fences nobody', facts: facts({ type: 'partial', sides: [['a', 'b', 'c']], majorityIndex: 0 }), policy: defaultClusterPolicy, mode: 'degraded', fences: [], reasons: [] },
  ] as const;
  for (const entry of cases) {
    const decision = decideHandling(entry.facts, entry.policy);
    assert.equal(decision.mode, entry.mode, entry.name);
    assert.deepEqual(decision.fences, entry.fences, entry.name);
    assert.deepEqual(decision.emergencyReasons, entry.reasons, entry.name);
  }
});

test('selectRecoveryStrategy: critical → manual, partial → automatic, otherwise phased; override wins', () => {
  const cases = [
    { type: 'complete', reasons: ['no-majority'], expected: 'manual' },
    { type: 'byzantine', reasons: ['byzantine-evidence'], expected: 'manual' },
    { type: 'partial', reasons: [], expected: 'automatic' },
    { type: 'asymmetric', reasons: [], expected: 'automatic' },
    { type: 'complete', reasons: [], expected: 'phased' },
  ] as const;
  for (const entry of cases) {
    assert.equal(selectRecoveryStrategy({ type: entry.type, emergencyReasons: entry.reasons }).strategy, entry.expected, `${entry.type} ${entry.reasons}`);
  }
  const overridden = selectRecoveryStrategy({ type: 'complete', emergencyReasons: ['no-majority'] }, { strategy: 'automatic', actor: 'ops', reason: 'tested' });
  assert.deepEqual([overridden.strategy, overridden.source], ['automatic', 'operator']);
});

test('thresholds: the brief values, breached only when exceeded', () => {
  assert.deepEqual(thresholdBreaches({ durationMs: 300_000, recoveryTimeMs: 600_000, divergenceRatio: 0.1 }, briefThresholds), []);
  assert.deepEqual(thresholdBreaches({ durationMs: 300_001, recoveryTimeMs: 600_001, divergenceRatio: 0.2 }, briefThresholds), [
    'partition-duration',
    'recovery-time',
    'data-divergence',
  ]);
});

test('policy config: defaults fill in, wrong values are named', () => {
  const parsed = ClusterPolicySchema.parse({ handling: { complete: 'availability-first' }, thresholds: { divergenceRatioMax: 0.05 } });
  assert.equal(parsed.handling.complete, 'availability-first');
  assert.equal(parsed.handling.partial, 'availability-first');
  assert.equal(parsed.thresholds.divergenceRatioMax, 0.05);
  assert.equal(parsed.thresholds.partitionDurationMaxMs, 300_000);
  const wrong = ClusterPolicySchema.safeParse({ stabilityWindowMs: -1 });
  assert.equal(wrong.success, false);
  assert.deepEqual(wrong.error?.issues[0]?.path, ['stabilityWindowMs']);
});
