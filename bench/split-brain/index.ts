/**
 * `npm run bench:split-brain`: the split-brain experiments per real store (PostgreSQL
 * here; each store's module exports `run(): Promise<Result>`). Prints, per store, a table
 * of acknowledged / present / lost writes with Faultline and without (baseline: the
 * same script, the store's own failover and rejoin), fence latency and recovery time
 * (medians of SPLIT_BRAIN_RUNS runs, default 3), then one JSON line with every result.
 * Needs PostgreSQL 15 in /usr/lib/postgresql/15/bin, a `postgres` user, and the
 * machine's PostgreSQL on 5432 for the control server's database.
 */
import { type Result, run as runPostgres } from './postgres';

const stores: { name: string; run: () => Promise<Result> }[] = [{ name: 'postgres', run: runPostgres }];

const pad = (value: unknown, width: number) => String(value ?? '—').padStart(width);

const results: Result[] = [];
for (const store of stores) {
  const result = await store.run();
  results.push(result);
  process.stdout.write(`\n${result.store}          acknowledged  present  lost\n`);
  process.stdout.write(`  faultline   ${pad(result.faultline.acknowledged, 12)}  ${pad(result.faultline.present, 7)}  ${pad(result.faultline.lost, 4)}\n`);
  process.stdout.write(`  baseline    ${pad(result.baseline.acknowledged, 12)}  ${pad(result.baseline.present, 7)}  ${pad(result.baseline.lost, 4)}\n`);
  process.stdout.write(`  fence latency ${pad(result.fenceLatencyMs, 1)} ms after detection, recovery ${pad(result.recoveryMs, 1)} ms (heal → closed)\n`);
}
process.stdout.write(`${JSON.stringify({ splitBrain: results })}\n`);
process.exit(0);
