/**
 * "Reproduce this incident" round trip: the scenario written from a recorded
 * partition parses with the scenario schema, runs as an experiment (its plan and
 * blast radius), maps the cluster's nodes onto themselves, and its plan cuts
 * exactly the recorded sides (complete), the recorded cut links (partial) and the
 * failing direction of a one-way link, for as long as the partition lasted.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type RecordedPartition, reproduceLeadInMs, reproducePartition } from '../../core/experiments/reproduce-partition';
import type { LiveScenarioStep } from '../live-scenario-plan';
import { prepareExperiment } from './experiment-plan';

const cluster = ['node-1', 'node-2', 'node-3', 'node-4', 'node-5', 'node-10'];
const t0 = 1_700_000_000_000;
const limit = { nodesMax: 100, fractionMax: 1 };

/** Components of the graph of pairs no rule impairs (both directions up). */
function twoWayComponents(step: LiveScenarioStep, nodes: readonly string[]): string[][] {
  const impaired = new Set<string>();
  for (const [owner, rules] of step.rules) for (const rule of rules) impaired.add([owner, rule.peerId].sort().join('|'));
  const seen = new Set<string>();
  const components: string[][] = [];
  for (const start of nodes) {
    if (seen.has(start)) continue;
    const component: string[] = [];
    const queue = [start];
    seen.add(start);
    while (queue.length > 0) {
      const node = queue.shift()!;
      component.push(node);
      for (const other of nodes) {
        if (seen.has(other) || impaired.has([node, other].sort().join('|'))) continue;
        seen.add(other);
        queue.push(other);
      }
    }
    components.push(component.sort());
  }
  return components.sort((a, b) => b.length - a.length);
}

const recorded = (overrides: Partial<RecordedPartition>): RecordedPartition => ({
  id: '7f0c5a7e-1111-4222-8333-444455556666', type: 'complete', components: [], cutLinks: [], nodeIds: [], startedAtMs: t0, endedAtMs: t0 + 42_000, ...overrides,
});

describe('reproduce a recorded partition', () => {
  it('a complete partition: the file parses and its plan cuts the recorded sides for as long', () => {
    const partition = recorded({ components: [['node-1', 'node-10', 'node-2'], ['node-3', 'node-4', 'node-5']], nodeIds: ['node-3', 'node-4', 'node-5'] });
    const prepared = prepareExperiment(reproducePartition(partition, cluster, t0 + 100_000), cluster, limit);
    assert.deepEqual(Object.entries(prepared.plan.mapping).filter(([from, to]) => from !== to), [], 'the cluster maps onto itself');
    assert.equal(prepared.faultStartMs, reproduceLeadInMs);
    assert.equal(prepared.healAtMs - reproduceLeadInMs, 42_000);
    const during = prepared.plan.steps.find((step) => step.atMs === reproduceLeadInMs)!;
    assert.deepEqual(twoWayComponents(during, cluster), partition.components.map((side) => [...side].sort()));
    assert.deepEqual(prepared.expected, { type: 'complete', components: [['node-1', 'node-10', 'node-2'], ['node-3', 'node-4', 'node-5']] });
    assert.deepEqual(prepared.shapes, ['halves']);
  });
  it('a partial partition: its cut links, and only the failing direction of a one-way link', () => {
    const partition = recorded({
      type: 'partial',
      components: [cluster],
      cutLinks: [{ a: 'node-1', b: 'node-2', state: 'down' }, { a: 'node-3', b: 'node-4', state: 'one-way', workingDirection: { from: 'node-3', to: 'node-4' } }],
      endedAtMs: null,
    });
    const file = reproducePartition(partition, cluster, t0 + 8_000);
    const prepared = prepareExperiment(file, cluster, limit);
    const during = prepared.plan.steps.find((step) => step.atMs === reproduceLeadInMs)!;
    const directed = [...during.rules].flatMap(([owner, rules]) => rules.filter((rule) => rule.dropOutbound).map((rule) => `${owner}->${rule.peerId}`)).sort();
    assert.deepEqual(directed, ['node-1->node-2', 'node-2->node-1', 'node-4->node-3']);
    assert.equal(prepared.healAtMs - reproduceLeadInMs, 8_000, 'an open partition lasts until now');
    assert.deepEqual(prepared.expected, { type: 'partial', sides: [6] });
  });
});
