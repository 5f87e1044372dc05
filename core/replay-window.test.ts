/**
 * Proves the anti-replay window: in-order and reordered sequence numbers within the
 * window are admitted exactly once, exact duplicates are told apart from
 * contradictions, numbers too far behind are replays, and a new incarnation starts
 * afresh while an older one is a replay.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Admission, admitSequence, createReplayWindow, replayWindowSize } from './replay-window';

type Step = [incarnation: number, sequence: number, digest?: string];

function run(steps: readonly Step[]): Admission[] {
  const window = createReplayWindow();
  return steps.map(([incarnation, sequence, digest]) => admitSequence(window, incarnation, sequence, digest ?? `d${incarnation}.${sequence}`));
}

const cases: { name: string; steps: Step[]; expected: Admission[] }[] = [
  { name: 'in order', steps: [[1, 1], [1, 2], [1, 3]], expected: ['new', 'new', 'new'] },
  { name: 'exact duplicate', steps: [[1, 1], [1, 1]], expected: ['new', 'duplicate'] },
  { name: 'same number, other bytes', steps: [[1, 1], [1, 1, 'other']], expected: ['new', 'contradiction'] },
  { name: 'reordered within the window', steps: [[1, 5], [1, 3], [1, 4], [1, 3]], expected: ['new', 'new', 'new', 'duplicate'] },
  { name: 'too far behind', steps: [[1, 100], [1, 100 - replayWindowSize]], expected: ['new', 'replay'] },
  { name: 'just inside the window', steps: [[1, 100], [1, 101 - replayWindowSize]], expected: ['new', 'new'] },
  { name: 'slot reused after the window moved', steps: [[1, 1], [1, 1 + replayWindowSize], [1, 1]], expected: ['new', 'new', 'replay'] },
  { name: 'new incarnation resets', steps: [[1, 50], [2, 1], [2, 1]], expected: ['new', 'new', 'duplicate'] },
  { name: 'older incarnation is a replay', steps: [[2, 1], [1, 99]], expected: ['new', 'replay'] },
];

for (const { name, steps, expected } of cases) {
  test(`replay window: ${name}`, () => assert.deepEqual(run(steps), expected));
}

test('replay window: a shuffled block inside the window is admitted once, then only duplicates', () => {
  const order = [7, 2, 9, 1, 3, 8, 4, 6, 5, 10];
  const verdicts = run([...order, ...order].map((sequence): Step => [1, sequence]));
  assert.deepEqual(verdicts.slice(0, order.length), order.map(() => 'new'));
  assert.deepEqual(verdicts.slice(order.length), order.map(() => 'duplicate'));
});
