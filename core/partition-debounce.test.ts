// Proves the debouncer's hysteresis on a fake clock: a partition opens only after the
// open window, a flapping link yields one episode not one per flap, closing needs the
// longer close window, and a new shape replaces the published one after its window.
// With the settle and flap options: a moving shape waits to settle or opens as
// provisional; a reopening of the same links soon after a close keeps its episode and
// counts a flap (and lengthens the next close window), a different partition does not.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PartitionVerdict } from './classify-partition';
import { type DebounceEvent, initialDebounceState, stepDebounce } from './partition-debounce';

const options = { openStableMs: 100, closeStableMs: 1_000, changeStableMs: 200 };

function verdict(type: PartitionVerdict['type'], cut = 1): PartitionVerdict {
  return {
    partitioned: type !== null, type, components: [['a', 'b', 'c']], majorityIndex: 0,
    cutLinks: Array.from({ length: type ? cut : 0 }, (_, index) => ({ a: 'a', b: `x${index}`, state: 'down' as const })),
    staleNodes: [], oneWayLinks: [], bridgeNodes: [], overlappingMajorities: false, isolatedNodes: [], silentNodes: [], deafNodes: [], slowLinks: [],
    controlPlaneCutNodes: [], unknownNodes: [], conditions: [], byzantine: { nodes: [], links: [] }, untrustedTraffic: [], untrustedTrafficOmitted: 0,
    discountedObservers: [],
    evidence: [], evidenceOmitted: 0, summary: type ?? 'whole',
  };
}

function feed(series: Array<[atMs: number, value: PartitionVerdict]>): DebounceEvent[] {
  let state = initialDebounceState();
  const events: DebounceEvent[] = [];
  for (const [atMs, value] of series) {
    const stepped = stepDebounce(state, value, atMs, options);
    state = stepped.state;
    events.push(...stepped.events);
  }
  return events;
}

test('opens after the open window, not before', () => {
  assert.deepEqual(feed([[0, verdict(null)], [10, verdict('partial')], [100, verdict('partial')]]), []);
  const events = feed([[0, verdict(null)], [10, verdict('partial')], [110, verdict('partial')]]);
  assert.deepEqual(events.map((event) => [event.type, event.atMs, event.episode]), [['opened', 110, 1]]);
});

test('a blip shorter than the open window raises nothing', () => {
  assert.deepEqual(feed([[0, verdict(null)], [10, verdict('partial')], [50, verdict(null)], [60, verdict('partial')], [120, verdict(null)]]), []);
});

test('a flapping link opens one episode, closes after the close window', () => {
  const series: Array<[number, PartitionVerdict]> = [[0, verdict(null)]];
  for (let t = 100; t < 5_000; t += 100) series.push([t, verdict(Math.floor(t / 300) % 2 === 0 ? 'partial' : null)]);
  for (let t = 5_000; t <= 7_000; t += 100) series.push([t, verdict(null)]);
  const events = feed(series);
  assert.equal(events.filter((event) => event.type === 'opened').length, 1);
  assert.deepEqual(events.at(-1)!.type, 'closed');
  assert.ok(events.at(-1)!.atMs >= 5_000 + options.closeStableMs - 100);
});

test('a new shape is published after the change window', () => {
  const events = feed([[0, verdict(null)], [10, verdict('asymmetric')], [120, verdict('asymmetric')], [200, verdict('complete')], [350, verdict('complete')], [400, verdict('complete')]]);
  assert.deepEqual(events.map((event) => [event.type, event.verdict.type, event.atMs]), [['opened', 'asymmetric', 120], ['changed', 'complete', 400]]);
});

test('a first verdict that is already partitioned still waits for its window', () => {
  assert.deepEqual(feed([[0, verdict('partial')], [50, verdict('partial')]]), []);
  assert.equal(feed([[0, verdict('partial')], [100, verdict('partial')]])[0]!.type, 'opened');
});

const settling = { ...options, openSettleMs: 200, openSettleMaxMs: 500, flapWindowMs: 2_000, flapCloseFactorMax: 2 };

function feedWith(series: Array<[atMs: number, value: PartitionVerdict]>, with_: typeof settling): DebounceEvent[] {
  let state = initialDebounceState();
  const events: DebounceEvent[] = [];
  for (const [atMs, value] of series) {
    const stepped = stepDebounce(state, value, atMs, with_);
    state = stepped.state;
    events.push(...stepped.events);
  }
  return events;
}

test('a partition opens once its shape has settled, not on the first shape seen', () => {
  const events = feedWith([[0, verdict(null)], [10, verdict('asymmetric')], [120, verdict('partial')], [250, verdict('partial')], [330, verdict('partial')]], settling);
  assert.deepEqual(events.map((event) => [event.type, event.verdict.type, event.atMs, event.provisional]), [['opened', 'partial', 330, false]]);
});

test('a shape still moving past the settle limit opens as provisional', () => {
  const series: Array<[number, PartitionVerdict]> = [[0, verdict(null)]];
  for (let t = 10; t <= 600; t += 100) series.push([t, verdict('partial', 1 + Math.floor(t / 100))]);
  const events = feedWith(series, settling);
  assert.equal(events[0]!.type, 'opened');
  assert.equal(events[0]!.provisional, true);
  assert.ok(events[0]!.atMs >= 510);
});

test('a reopening of the same links within the flap window is the same episode, with a flap counted; another partition is a new one', () => {
  const down = verdict('partial');
  const series: Array<[number, PartitionVerdict]> = [[0, verdict(null)], [100, down], [400, down], [500, verdict(null)], [1_600, verdict(null)], [1_800, down], [2_100, down]];
  const events = feedWith(series, settling);
  assert.deepEqual(events.map((event) => [event.type, event.episode, event.flaps]), [['opened', 1, 0], ['closed', 1, 0], ['reopened', 1, 1]]);
  // Once reopened, the close window doubles: 1 s of health no longer closes it, 2 s does.
  const after = feedWith([...series, [2_200, verdict(null)], [3_300, verdict(null)], [4_300, verdict(null)]], settling);
  assert.deepEqual(after.slice(3).map((event) => [event.type, event.atMs]), [['closed', 4_300]]);
  const elsewhere: PartitionVerdict = { ...verdict('partial'), cutLinks: [{ a: 'q', b: 'r', state: 'down' }] };
  const other = feedWith([...series.slice(0, 5), [1_800, elsewhere], [2_100, elsewhere]], settling);
  assert.deepEqual(other.map((event) => [event.type, event.episode]), [['opened', 1], ['closed', 1], ['opened', 2]]);
});
