/**
 * Proves that the simulator's speed-ups change nothing it publishes: catalog scenarios
 * and a bounded-heartbeat isolation (40 nodes, 6 peers per interval) give the same
 * timeline digest (every published verdict in full, untrusted sightings, event and
 * message counts; sim/timeline-digest.ts) on the fast path as on the reference path
 * (`reference: true`, without the decode memo) and as the code produced before the
 * speed work. Those fixed digests were computed from this branch's code just before
 * the speed-ups (after the classifier's rule 5, which changed the bounded isolation's
 * verdicts on purpose); a change that alters a timeline on purpose must recompute
 * them and say why, one that alters it by accident fails here.
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
  { name: 'isolate-one', seed: 7, digest: 'd9e7ffea7692bb6dfcf1e6f36f2d016d93a4c2c2f49771ea82c312d23810c0f5' },
  { name: 'split-halves', seed: 7, digest: '41520dd2009b2b707d695797dfbcffcd0b133e05f1b06b3f8232dcd51cc36fd2' },
  { name: 'majorities-ring', seed: 7, digest: '065440e611e1949efed263107ef46ff7ce2e5068763a2bc40c2f846dab27b640' },
  { name: 'one-way', seed: 7, digest: 'a61e0dd78d60e74e540ee0a26082adc3c0d637f04957a378e843a7981f4cb926' },
  { name: 'flaky-link', seed: 7, digest: 'a358024a12606a8384572c069d6a60880b1d71f7655d5624118cbd3d71b7cf61' },
  { name: 'corruption', seed: 7, digest: '119a8bb08f2bd3050e4d8ac1822646897f052e2384ca166be43c6320df300b4a' },
  { name: 'paused-node', seed: 7, digest: '9afd6709a034e6245760483825f7e40486d64acb0eac059c4a92710db46abb73' },
  { name: 'bounded-40', seed: 5, digest: '1938df22074a50355f4b6005edc93f863278118befd70d4d5166b7ac3914fdcb' },
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
