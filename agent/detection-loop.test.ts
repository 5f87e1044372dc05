// Proves the agent's one timer on a fake clock (node:test's timers): checks run on a
// fixed-rate grid, idle ones are slept through and counted to the next, the report runs
// at its own rate from the same timer, an arrival that makes a check busy brings it
// forward (`replan`), a stall is reported once as lateness, not replayed, and the grid
// can start where the agent puts it (a multiple of the interval since the epoch).
import assert from 'node:assert/strict';
import { afterEach, beforeEach, mock, test } from 'node:test';
import { startDetectionLoop } from './detection-loop';

const checkIntervalMs = 100;

beforeEach(() => mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000 }));
afterEach(() => mock.timers.reset());

/** Moves the fake clock forward a millisecond at a time: Node 20's `tick(ms)` sets the clock to the end before it runs what fell due on the way. */
function advance(ms: number) {
  for (let step = 0; step < ms; step += 1) mock.timers.tick(1);
}

function loopRecording(idle: { checks: number }, reportIntervalMs = 1000, firstCheckAtMs?: number) {
  const checks: Array<{ atMs: number; scheduledAtMs: number; skipped: number }> = [];
  const reports: number[] = [];
  const loop = startDetectionLoop({
    checkIntervalMs,
    reportIntervalMs,
    ...(firstCheckAtMs !== undefined && { firstCheckAtMs: 1_000_000 + firstCheckAtMs }),
    nowMs: () => Date.now(),
    check: (atMs, scheduledAtMs, skipped) => checks.push({ atMs: atMs - 1_000_000, scheduledAtMs: scheduledAtMs - 1_000_000, skipped }),
    idleChecksAhead: () => idle.checks,
    report: () => reports.push(Date.now() - 1_000_000),
  });
  return { loop, checks, reports };
}

test('with no idle checks, every slot runs on time', () => {
  const { loop, checks } = loopRecording({ checks: 0 });
  advance(450);
  loop.stop();
  assert.deepEqual(
    checks.map((check) => check.scheduledAtMs),
    [100, 200, 300, 400],
  );
  assert.ok(checks.every((check) => check.skipped === 0 && check.atMs === check.scheduledAtMs));
});

test('idle checks are slept through and counted; the report keeps its own rate from the same timer', () => {
  const { loop, checks, reports } = loopRecording({ checks: 3 }, 250);
  advance(1_000);
  loop.stop();
  // Slots 100, 200, 300 idle, the check at 400 runs with 3 skipped; then 500..700 idle, 800 runs.
  assert.deepEqual(checks, [
    { atMs: 400, scheduledAtMs: 400, skipped: 3 },
    { atMs: 800, scheduledAtMs: 800, skipped: 3 },
  ]);
  // The first report is one report interval after the first check (100).
  assert.deepEqual(reports, [350, 600, 850]);
});

test('an arrival that makes a check busy brings it forward', () => {
  const idle = { checks: 3 };
  const { loop, checks } = loopRecording(idle);
  advance(150);
  idle.checks = 0;
  loop.replan();
  advance(50);
  loop.stop();
  assert.deepEqual(checks, [{ atMs: 200, scheduledAtMs: 200, skipped: 1 }]);
});

test('a stall is one late run carrying its due time, then the plan resumes on the grid', () => {
  const { loop, checks } = loopRecording({ checks: 0 });
  advance(100);
  // The process is stopped for 350 ms: the clock moves, no timer runs meanwhile.
  mock.timers.tick(350);
  advance(100);
  loop.stop();
  assert.deepEqual(checks, [
    { atMs: 100, scheduledAtMs: 100, skipped: 0 },
    { atMs: 450, scheduledAtMs: 200, skipped: 0 },
    { atMs: 500, scheduledAtMs: 500, skipped: 0 },
  ]);
});

test('the grid starts at the given first check and the report follows it', () => {
  const { loop, checks, reports } = loopRecording({ checks: 0 }, 200, 30);
  advance(250);
  loop.stop();
  assert.deepEqual(
    checks.map((check) => check.scheduledAtMs),
    [30, 130, 230],
  );
  assert.deepEqual(reports, [230]);
});
