/**
 * `npm run bench:split-brain`: split-brain experiments on real stores (Redis with
 * Sentinel, PostgreSQL primary and standby). Per store a table of acknowledged,
 * present and lost writes with Faultline and without it (baseline: the same script,
 * the store's own failover and rejoin alone), fence latency (partition detected →
 * first write refused on the minority) and recovery time; the last line is JSON of
 * every store's figures. A store whose binaries are missing is skipped and named.
 * `SPLIT_BRAIN_RUNS` sets the runs per store (medians are reported). PostgreSQL needs
 * /usr/lib/postgresql/15/bin and a `postgres` user; both need the machine's
 * PostgreSQL on 5432 for the control server's database.
 */
import { existsSync } from 'node:fs';
import { redisServerAvailable } from '../../local-stores/redis';
import * as postgres from './postgres';
import * as redis from './redis';

/** Acknowledged, present and lost writes of one mode, with its timings. */
interface ModeRow {
  acknowledged: number;
  present: number;
  lost: number;
  fenceLatencyMs: number | null;
  recoveryMs: number | null;
}

/** One store's figures, the same shape for every store. */
interface StoreSummary {
  store: string;
  faultline: ModeRow;
  baseline: ModeRow;
  /** The store's own result, as its module reports it. */
  details: redis.Result | postgres.Result;
}

/** One store's experiment: whether it can run here, and the run. */
interface StoreBench {
  name: string;
  available: () => boolean;
  run: () => Promise<StoreSummary>;
}

const stores: StoreBench[] = [
  {
    name: 'redis',
    available: redisServerAvailable,
    run: async () => {
      const result = await redis.run();
      const row = (mode: 'faultline' | 'baseline'): ModeRow => {
        const { acknowledged, present, lost, fenceLatencyMs, recoveryMs } = result[mode];
        return { acknowledged, present, lost, fenceLatencyMs, recoveryMs };
      };
      return { store: 'redis', faultline: row('faultline'), baseline: row('baseline'), details: result };
    },
  },
  {
    name: 'postgres',
    available: () => existsSync('/usr/lib/postgresql/15/bin/initdb'),
    run: async () => {
      const result = await postgres.run();
      const row = (mode: 'faultline' | 'baseline'): ModeRow => ({
        ...result[mode],
        fenceLatencyMs: mode === 'faultline' ? result.fenceLatencyMs : null,
        recoveryMs: mode === 'faultline' ? result.recoveryMs : null,
      });
      return { store: 'postgres', faultline: row('faultline'), baseline: row('baseline'), details: result };
    },
  },
];

const cell = (value: number | null, unit = '') => (value === null ? '—' : `${value}${unit}`);

function table(summary: StoreSummary): string {
  const rows = [
    ['', 'acknowledged', 'present', 'lost', 'fence latency', 'recovery'],
    ...(['faultline', 'baseline'] as const).map((mode) => {
      const figures = summary[mode];
      return [mode, String(figures.acknowledged), String(figures.present), String(figures.lost), cell(figures.fenceLatencyMs, ' ms'), cell(figures.recoveryMs, ' ms')];
    }),
  ];
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows.map((row) => row.map((text, column) => text.padEnd(widths[column]!)).join('  ')).join('\n');
}

const only = process.env.SPLIT_BRAIN_STORES?.split(',').map((name) => name.trim());
const results: StoreSummary[] = [];
for (const store of stores) {
  if (only && !only.includes(store.name)) continue;
  if (!store.available()) {
    process.stdout.write(`${store.name}: skipped (binary not installed)\n`);
    continue;
  }
  const summary = await store.run();
  results.push(summary);
  process.stdout.write(`\n${store.name}\n${table(summary)}\n`);
  if ('failoverMs' in summary.details) process.stdout.write(`  ${summary.details.runs} runs, heartbeat ${summary.details.heartbeatIntervalMs} ms, Sentinel's own failover ${summary.details.failoverMs} ms\n`);
}
process.stdout.write(`${JSON.stringify({ splitBrain: results.map(({ store, faultline, baseline }) => ({ store, faultline, baseline })) })}\n`);
process.exit(0);
