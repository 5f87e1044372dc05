// Loss and one-way delay of a peer's heartbeats: every heartbeat arriving is 0 loss, every other one 0.5, none 1; delay is the median.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LinkQuality, linkQualityWindowIntervals } from './link-quality';

const intervalMs = 250;

test('every heartbeat arriving 3 ms after it was sent: no loss, 3 ms delay', () => {
  const quality = new LinkQuality(intervalMs, 0);
  for (let at = intervalMs; at <= 40 * intervalMs; at += intervalMs) quality.heard(at + 3, at);
  const figures = quality.figures(40 * intervalMs + 3);
  assert.equal(figures.delayMs, 3);
  assert.ok(figures.lossRatio !== null && figures.lossRatio < 0.06, `loss ${figures.lossRatio}`);
});

test('every other heartbeat lost: about half', () => {
  const quality = new LinkQuality(intervalMs, 0);
  for (let at = intervalMs; at <= 40 * intervalMs; at += 2 * intervalMs) quality.heard(at + 1, at);
  const loss = quality.figures(40 * intervalMs).lossRatio!;
  assert.ok(Math.abs(loss - 0.5) < 0.06, `loss ${loss}`);
});

test('a cut: loss climbs to 1 and no delay is known once the window has passed', () => {
  const quality = new LinkQuality(intervalMs, 0);
  for (let at = intervalMs; at <= 10 * intervalMs; at += intervalMs) quality.heard(at + 1, at);
  const later = 10 * intervalMs + (linkQualityWindowIntervals + 1) * intervalMs;
  assert.deepEqual(quality.figures(later), { delayMs: null, lossRatio: 1 });
});

test('no figure for loss before two intervals were watched', () => {
  const quality = new LinkQuality(intervalMs, 1000);
  quality.heard(1100, 1090);
  assert.deepEqual(quality.figures(1200), { delayMs: 10, lossRatio: null });
});
