// Proves the simulator is deterministic (same seed, same timeline; another seed, another
// run; the seed is printed on failure so a run replays), that it runs the server's
// report fold (a control-plane cut's backlog is kept out of the present view), and that
// the agent's real membership with the real classifier passes the quick catalog
// scenarios with the default detector, across a few seeds.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { runSimulation } from './cluster-sim';
import { parseScenario } from './scenario';

const load = (name: string) => parseScenario(JSON.parse(readFileSync(new URL(`../scenarios/${name}.json`, import.meta.url), 'utf8')), name);
const quick = ['isolate-one', 'split-halves', 'random-halves', 'majorities-ring', 'bridge', 'one-way', 'flaky-link', 'corruption', 'paused-node', 'crashed-vs-isolated', 'control-plane-cut'];

test('same seed, same run; another seed, another run', () => {
  const scenario = load('flaky-link');
  const first = runSimulation(scenario, { seed: 42 });
  const second = runSimulation(scenario, { seed: 42 });
  // Two empty timelines would be equal too: the run must have published something to compare.
  assert.ok(first.timeline.length >= 2, `seed 42 published ${first.timeline.length} changes; replay: npm run sim -- scenarios/flaky-link.json --seed 42`);
  assert.ok(first.timeline.some((entry) => entry.verdict.partitioned), 'the flaky link was seen');
  assert.deepEqual(second.timeline, first.timeline);
  assert.deepEqual(second.untrusted, first.untrusted);
  assert.deepEqual({ ...second.metrics, wallMs: 0 }, { ...first.metrics, wallMs: 0 });
  // And the seed decides the draws: another seed gives another run (events and messages differ).
  const other = runSimulation(scenario, { seed: 43 });
  assert.notDeepEqual([other.metrics.events, other.metrics.messagesPerNodePerSecond], [first.metrics.events, first.metrics.messagesPerNodePerSecond]);
});

test("a control-plane cut: the outbox's backlog reaches the server's fold late and is kept out of the present view", () => {
  const result = runSimulation(load('control-plane-cut'));
  assert.ok(result.passed, JSON.stringify(result.outcomes.filter((outcome) => !outcome.held)));
  // n1 reports several times per second during the 7 s cut: all of them arrive after it, as history.
  assert.ok(result.metrics.reportsTakenAsHistory >= 20, `${result.metrics.reportsTakenAsHistory} reports taken as history`);
  const whole = runSimulation(load('isolate-one'));
  assert.equal(whole.metrics.reportsTakenAsHistory, 0, 'without a cut every report is news');
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
