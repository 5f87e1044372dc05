/**
 * Proves that the simulator's speed-ups change nothing it publishes: catalog scenarios
 * and a bounded-heartbeat isolation (40 nodes, 6 peers per interval) give the same
 * timeline digest (every published verdict in full, untrusted sightings, event and
 * message counts; sim/timeline-digest.ts) on the fast path as on the reference path
 * (`reference: true`, without the simulator's speed-ups) and as the code produced before the
 * speed work. Those fixed digests were computed on the reference path, first just before
 * the speed-ups (after the classifier's rule 5, which changed the bounded isolation's
 * verdicts on purpose), then again when the detection changes of issue 14 merged (late
 * grace, settle before publishing, deaf and mass-failure readings: timelines changed on
 * purpose); a change that alters a timeline on purpose must recompute them and say why,
 * one that alters it by accident fails here.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { runSimulation } from './cluster-sim';
import { parseScenario } from './scenario';
import { timelineDigest } from './timeline-digest';

const load = (name: string) => parseScenario(JSON.parse(readFileSync(new URL(`../scenarios/${name}.json`, import.meta.url), 'utf8')), name);

/** The bounded-heartbeat isolation: most links unheard in any one interval. */
const boundedIsolation = parseScenario(
  {
    name: 'bounded-40',
    nodes: 40,
    seed: 5,
    durationMs: 12000,
    peersPerIntervalMax: 6,
    network: { delayMs: 1, jitterMs: 5, lossRatio: 0.01 },
    faults: [{ kind: 'isolate', nodes: ['n7'], atMs: 4000, untilMs: 9000 }],
    expect: [{ kind: 'episodes', max: 1 }],
  },
  'bounded-40',
);

/** Digests before the speed work: catalog scenarios at seed 7, the bounded isolation at its seed 5. */
const expected: Array<{ name: string; seed: number; digest: string }> = [
  { name: 'isolate-one', seed: 7, digest: 'ad9fd87da0b1b5c1c79369fbdfe7d9300374f082fd1993edcd8c11d99b219d68' },
  { name: 'split-halves', seed: 7, digest: 'e6018b89666ac594cb22dd9993b5f53d3266df19229e64e5d49ce01c7f322f01' },
  { name: 'majorities-ring', seed: 7, digest: '1a3bb6c108693d58c56b81ac19847a5e0cab3a417eb05e53490ad10c9b62834f' },
  { name: 'one-way', seed: 7, digest: '1b530a4628cf021f0123635e7af64ef1a268db8a38e6f088774091baf688e5af' },
  { name: 'flaky-link', seed: 7, digest: '513a4660b563afd3abafbfda8006dae7b9c0701568edc478658075a9a4dd8b31' },
  { name: 'corruption', seed: 7, digest: '119a8bb08f2bd3050e4d8ac1822646897f052e2384ca166be43c6320df300b4a' },
  { name: 'paused-node', seed: 7, digest: '72f73318558f39627ec8a24efbc1f637054b70e6a117fcb3bdf7dcbc7b96c94a' },
  { name: 'bounded-40', seed: 5, digest: '9652ac978154ba874be4a6d8d0013ed40df838a89293a96fffc0cfdfa98d276a' },
];

for (const { name, seed, digest } of expected) {
  test(`${name} (seed ${seed}): the fast path publishes what the reference path and the code before it did`, () => {
    const scenario = name === 'bounded-40' ? boundedIsolation : load(name);
    const fast = runSimulation(scenario, { seed });
    const reference = runSimulation(scenario, { seed, reference: true });
    // Something must have happened for equal digests to mean anything (corruption publishes nothing but its sightings).
    assert.ok(fast.timeline.length > 0 || fast.untrusted.length > 0, `nothing published; replay: npm run sim -- scenarios/${name}.json --seed ${seed}`);
    assert.equal(timelineDigest(fast), timelineDigest(reference), 'fast and reference paths differ');
    assert.equal(timelineDigest(fast), digest, 'the timeline differs from the one before the speed work');
  });
}
