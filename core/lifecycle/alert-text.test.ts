// Proves the words of a partition's alerts: a partial partition names only its cut
// links and their ends (not every node of its one component), complete ones their
// sides, and breaches and emergencies carry the value against the threshold.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PartitionFacts } from '../policy/cluster-policy';
import { briefThresholds } from '../policy/thresholds';
import { describeBreach, describeEmergency, describePartition, titleLinksMax } from './alert-text';

const five = ['node-1', 'node-2', 'node-3', 'node-4', 'node-5'];
const base: PartitionFacts = { type: 'partial', sides: [five], majorityIndex: 0, byzantineEvidence: false, divergenceRatio: null, flapCount: 0 };

test('one cut link: the two nodes it concerns, not all five', () => {
  const text = describePartition({ ...base, cutLinks: [{ a: 'node-1', b: 'node-2' }] });
  assert.equal(text, 'partial partition: node-1 ✕ node-2 cut (nodes node-1, node-2; every node still reaches a majority)');
  assert.doesNotMatch(text, /node-3|node-4|node-5/);
});

test('many cut links are counted past the first few', () => {
  const links = five.slice(1).flatMap((b) => [{ a: 'node-1', b }, ...(b === 'node-5' ? [{ a: 'node-2', b: 'node-5' }] : [])]);
  assert.match(describePartition({ ...base, cutLinks: links }), new RegExp(`and ${links.length - titleLinksMax} more cut`));
});

test('a complete partition is named by its sides', () => {
  const facts: PartitionFacts = { ...base, type: 'complete', sides: [['node-3', 'node-4', 'node-5'], ['node-1', 'node-2']], cutLinks: [{ a: 'node-1', b: 'node-3' }] };
  assert.equal(describePartition(facts), 'complete partition [node-3, node-4, node-5] | [node-1, node-2], majority side 1');
  assert.equal(describePartition({ ...facts, majorityIndex: null }), 'complete partition [node-3, node-4, node-5] | [node-1, node-2], no majority');
});

test('breaches say the value against the threshold', () => {
  const metrics = { durationMs: 312_400, recoveryTimeMs: 601_000, divergenceRatio: 0.148 };
  assert.deepEqual(
    (['data-divergence', 'partition-duration', 'recovery-time'] as const).map((breach) => describeBreach(breach, metrics, briefThresholds)),
    ['data divergence 14.8 % of keys, over the 10 % threshold', 'partition open 312 s, over the 300 s threshold', 'recovery running 601 s, over the 600 s threshold'],
  );
});

test('an emergency names its reasons, with the divergence against its limit', () => {
  assert.equal(describeEmergency(['no-majority'], base, briefThresholds), 'emergency: no-majority');
  assert.equal(describeEmergency(['divergence-exceeded', 'flapping'], { ...base, divergenceRatio: 0.148 }, briefThresholds), 'emergency: divergence-exceeded (14.8 % > 10 %), flapping');
});
