// Proves the detection classes of issue 14 with the recommended detector (phi+indirect)
// over a few seeds each (the benchmark sweeps 20): a latency spike raises nothing and
// its delay is shown, a deaf node is named with every failing direction within 2.5
// intervals, a flapping bridge is one incident with its flap count, the first verdict
// of a 7-node majorities ring is already the ring, `isolate` and `isolate-group` mean
// what the schema says, a mass failure is named and never published as health, and a
// long lossy soak raises nothing.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { type SimulationResult, runSimulation } from './cluster-sim';
import { parseScenario } from './scenario';

const load = (name: string) => parseScenario(JSON.parse(readFileSync(new URL(`../scenarios/${name}.json`, import.meta.url), 'utf8')), name);

function runSeeds(name: string, seeds = 3): SimulationResult[] {
  const scenario = load(name);
  return Array.from({ length: seeds }, (_, run) => {
    const seed = scenario.seed + run * 7919;
    const result = runSimulation(scenario, { seed });
    const failed = result.outcomes.filter((outcome) => !outcome.held).map((outcome) => `${outcome.expectation.kind}: ${outcome.detail}`);
    assert.deepEqual(failed, [], `${name} failed with seed ${seed}; replay: npm run sim -- scenarios/${name}.json --seed ${seed}`);
    return result;
  });
}

test('slow is not partitioned: latency onsets and spikes raise nothing, and the measured delay is published', () => {
  runSeeds('latency-onset');
  runSeeds('latency-spike');
});

test('a deaf node is named as a one-way partition towards it within 2.5 intervals', () => {
  for (const result of runSeeds('deaf-node')) {
    const opened = result.timeline.find((entry) => entry.type === 'opened')!;
    assert.deepEqual(opened.verdict.deafNodes, ['n4']);
    const latency = result.outcomes.find((outcome) => outcome.expectation.kind === 'verdict')!.latencyMs!;
    assert.ok(latency <= 2.5 * result.heartbeatIntervalMs, `${latency} ms`);
  }
});

test('a flapping bridge is one incident, and its flaps are counted', () => {
  for (const result of runSeeds('flapping-bridge')) {
    assert.deepEqual([...new Set(result.timeline.filter((entry) => entry.verdict.partitioned).map((entry) => entry.episode))], [1]);
    assert.ok(Math.max(...result.timeline.map((entry) => entry.flaps)) >= 3, 'flaps counted');
  }
});

test('the first verdict of a majorities ring is the ring', () => {
  for (const result of runSeeds('majorities-ring-7')) {
    const opened = result.timeline.find((entry) => entry.type === 'opened')!;
    assert.equal(opened.verdict.overlappingMajorities, true);
    assert.equal(opened.provisional, false);
  }
});

test('isolate cuts each listed node alone; isolate-group cuts them off together', () => {
  runSeeds('isolate-several', 2);
});

test('a mass failure is named, never "cluster whole"', () => {
  runSeeds('mass-crash');
  runSeeds('lone-survivor');
});

test('2 % loss and 20 % jitter on every link of 12 nodes for 5 minutes raise nothing', () => {
  runSeeds('lossy-jitter-soak', 1);
});
