/**
 * Chromium benchmark of the console's topology at 1,000 nodes (WebGL, sigma.js):
 * the real Topology component on the harness page. Prints the first render (from
 * handing the component a snapshot to the picture drawn, on a fresh page each
 * time) for a 1,000-node split and a whole cluster with flaky links, then the
 * frame times while new 1,000-node snapshots arrive every 250 ms (the demo's
 * heartbeat), cycling through flaky links, a split and heals. JSON last line.
 * Run: npm run bench:topology [-- --updates 80]
 */
import { parseArgs } from 'node:util';
import { launchChromium, startHarness } from './harness';

const { values } = parseArgs({ options: { updates: { type: 'string', default: '80' }, runs: { type: 'string', default: '3' }, 'interval-ms': { type: 'string', default: '250' } } });
const updates = Number(values.updates);
const runs = Number(values.runs);
const intervalMs = Number(values['interval-ms']);

const quantile = (samples: readonly number[], q: number) => {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
};
const round = (value: number) => Math.round(value * 10) / 10;

const harness = await startHarness();
const browser = await launchChromium();
try {
  const firstRenderMs: Record<string, number[]> = {};
  for (const shape of ['split-halves-1000', 'whole-1000-flaky']) {
    firstRenderMs[shape] = [];
    for (let run = 0; run < runs; run += 1) {
      const page = await browser.newPage({ viewport: { width: 1300, height: 900 } });
      await page.goto(harness.url);
      await page.waitForFunction(() => 'topologyHarness' in window);
      // show() builds the snapshot (500,000 pairs) before its clock starts: that is test data, not the console's work.
      const ms = await page.evaluate((name) => (window as unknown as { topologyHarness: { show: (name: string) => Promise<number> } }).topologyHarness.show(name), shape);
      firstRenderMs[shape]!.push(ms);
      await page.close();
    }
    process.stdout.write(`first render, ${shape}: ${firstRenderMs[shape]!.map((ms) => Math.round(ms)).join(', ')} ms (median ${Math.round(quantile(firstRenderMs[shape]!, 0.5))} ms)\n`);
  }
  const page = await browser.newPage({ viewport: { width: 1300, height: 900 } });
  await page.goto(harness.url);
  await page.waitForFunction(() => 'topologyHarness' in window);
  await page.evaluate(() => (window as unknown as { topologyHarness: { show: (name: string) => Promise<number> } }).topologyHarness.show('whole-1000-flaky'));
  const measured = await page.evaluate(
    ([count, interval]) => (window as unknown as { topologyHarness: { measureUpdates: (count: number, interval: number) => Promise<{ frameMs: number[]; updateMs: number[] }> } }).topologyHarness.measureUpdates(count!, interval!),
    [updates, intervalMs],
  );
  const result = {
    nodes: 1000,
    renderer: 'webgl (sigma.js 3.0.3)',
    firstRenderMedianMs: round(quantile(firstRenderMs['split-halves-1000']!, 0.5)),
    firstRenderWholeMedianMs: round(quantile(firstRenderMs['whole-1000-flaky']!, 0.5)),
    updates,
    updateIntervalMs: intervalMs,
    frames: measured.frameMs.length,
    frameP50Ms: round(quantile(measured.frameMs, 0.5)),
    frameP95Ms: round(quantile(measured.frameMs, 0.95)),
    frameMaxMs: round(Math.max(...measured.frameMs)),
    updateP50Ms: round(quantile(measured.updateMs, 0.5)),
    updateP95Ms: round(quantile(measured.updateMs, 0.95)),
  };
  process.stdout.write(`updates: ${updates} snapshots of 1,000 nodes every ${intervalMs} ms; frames ${result.frames}: p50 ${result.frameP50Ms} ms, p95 ${result.frameP95Ms} ms, max ${result.frameMaxMs} ms; update (layout + React commit) p50 ${result.updateP50Ms} ms, p95 ${result.updateP95Ms} ms\n`);
  process.stdout.write(`${JSON.stringify(result)}\n`);
} finally {
  await browser.close();
  await harness.close();
}
