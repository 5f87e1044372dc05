// Proves the simulator is deterministic (same seed, same timeline; the seed is printed
// on failure so a run replays) and that the real detector and classifier pass the
// quick catalog scenarios with the default detector, across a few seeds.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { runSimulation } from './cluster-sim';
import { parseScenario } from './scenario';

const load = (name: string) => parseScenario(JSON.parse(readFileSync(new URL(`../scenarios/${name}.json`, import.meta.url), 'utf8')), name);
const quick = ['isolate-one', 'split-halves', 'random-halves', 'majorities-ring', 'bridge', 'one-way', 'flaky-link', 'corruption', 'paused-node', 'crashed-vs-isolated', 'control-plane-cut'];

test('same seed, same run', () => {
  const scenario = load('flaky-link');
  const first = runSimulation(scenario, { seed: 42 });
  const second = runSimulation(scenario, { seed: 42 });
  assert.deepEqual(first.timeline.map((entry) => [entry.atMs, entry.summary]), second.timeline.map((entry) => [entry.atMs, entry.summary]));
  assert.equal(first.metrics.events, second.metrics.events);
});

test('quick catalog holds across seeds', () => {
  for (const name of quick) {
    const scenario = load(name);
    for (const seed of [scenario.seed, 1001, 2002]) {
      const result = runSimulation(scenario, { seed });
      const failed = result.outcomes.filter((outcome) => !outcome.held).map((outcome) => `${outcome.expectation.kind}: ${outcome.detail}`);
      assert.deepEqual(failed, [], `${name} failed with seed ${seed}; replay: npm run sim -- scenarios/${name}.json --seed ${seed}`);
    }
  }
});
