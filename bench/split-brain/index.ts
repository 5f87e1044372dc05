/**
 * `npm run bench:split-brain`: split-brain experiments on real stores. Per store a
 * table of acknowledged, present and lost writes with Faultline and without it
 * (baseline: the same script, the store's own failover alone), fence latency
 * (partition on the console → first write refused on the minority) and recovery time
 * (heal → partition recovered); the last line is JSON of every store's figures.
 * Stores whose binaries are missing are skipped and named. `SPLIT_BRAIN_RUNS` sets
 * the runs per store (medians are reported).
 */
import { redisServerAvailable } from '../../agent/adapters/redis/local-redis';
import * as redis from './redis';

/** One store's experiment: whether it can run here, and the run. */
interface StoreBench {
  name: string;
  available: () => boolean;
  run: () => Promise<redis.Result>;
}

const stores: StoreBench[] = [{ name: 'redis', available: redisServerAvailable, run: () => redis.run() }];

const cell = (value: number | null, unit = '') => (value === null ? '—' : `${value}${unit}`);

function table(result: redis.Result): string {
  const rows = [
    ['', 'acknowledged', 'present', 'lost (median)', 'lost (max)', 'fence latency', 'cut → refused', 'recovery'],
    ...(['faultline', 'baseline'] as const).map((mode) => {
      const figures = result[mode];
      return [mode, String(figures.acknowledged), String(figures.present), String(figures.lost), String(figures.lostMax), cell(figures.fenceLatencyMs, ' ms'), cell(figures.cutToRefusalMs, ' ms'), cell(figures.recoveryMs, ' ms')];
    }),
  ];
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows.map((row) => row.map((text, column) => text.padEnd(widths[column]!)).join('  ')).join('\n');
}

const results: redis.Result[] = [];
for (const store of stores) {
  if (!store.available()) {
    process.stdout.write(`${store.name}: skipped (binary not installed)\n`);
    continue;
  }
  const result = await store.run();
  results.push(result);
  process.stdout.write(`\n${store.name}: ${result.runs} runs, heartbeat ${result.heartbeatIntervalMs} ms, failover (store's own) ${result.failoverMs} ms\n${table(result)}\n`);
}
process.stdout.write(`${JSON.stringify({ stores: results })}\n`);
process.exit(0);
