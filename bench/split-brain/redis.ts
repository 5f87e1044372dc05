/**
 * The Redis half of `npm run bench:split-brain`: the Sentinel split-brain experiment
 * (redis-scenario.ts) run several times with Faultline and as a baseline (the same
 * script, Redis and Sentinel on their own), reduced to medians.
 */
import { type RedisSplitBrainResult, runRedisSplitBrain } from './redis-scenario';

/** Medians of one mode's runs. */
export interface ModeFigures {
  acknowledged: number;
  present: number;
  lost: number;
  /** Largest loss of any run (0 is the goal with Faultline). */
  lostMax: number;
  fenceLatencyMs: number | null;
  /** Cut → first write refused on the old primary (ms): detection plus fencing. */
  cutToRefusalMs: number | null;
  recoveryMs: number;
}

/** What one store's bench reports. */
export interface Result {
  store: string;
  runs: number;
  heartbeatIntervalMs: number;
  faultline: ModeFigures;
  baseline: ModeFigures;
  /** Sentinel's failover time (cut → new primary named), median of every run (ms). */
  failoverMs: number;
}

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : Math.round((sorted[middle - 1]! + sorted[middle]!) / 2);
};

function figures(results: readonly RedisSplitBrainResult[]): ModeFigures {
  const fences = results.flatMap((result) => (result.fenceLatencyMs === null ? [] : [result.fenceLatencyMs]));
  const refusals = results.flatMap((result) => (result.cutToRefusalMs === null ? [] : [result.cutToRefusalMs]));
  return {
    acknowledged: median(results.map((result) => result.acknowledged)),
    present: median(results.map((result) => result.present)),
    lost: median(results.map((result) => result.lost)),
    lostMax: Math.max(...results.map((result) => result.lost)),
    fenceLatencyMs: fences.length > 0 ? median(fences) : null,
    cutToRefusalMs: refusals.length > 0 ? median(refusals) : null,
    recoveryMs: median(results.map((result) => result.recoveryMs)),
  };
}

/** Runs the experiment `SPLIT_BRAIN_RUNS` times (default 3) per mode. */
export async function run(runs = Number(process.env.SPLIT_BRAIN_RUNS ?? 3)): Promise<Result> {
  const faultline: RedisSplitBrainResult[] = [];
  const baseline: RedisSplitBrainResult[] = [];
  for (let index = 0; index < runs; index += 1) {
    faultline.push(await runRedisSplitBrain({ mode: 'faultline' }));
    baseline.push(await runRedisSplitBrain({ mode: 'baseline' }));
    process.stderr.write(`redis run ${index + 1}/${runs}: lost ${faultline.at(-1)!.lost} with Faultline, ${baseline.at(-1)!.lost} without\n`);
  }
  return {
    store: 'redis',
    runs,
    heartbeatIntervalMs: faultline[0]!.heartbeatIntervalMs,
    faultline: figures(faultline),
    baseline: figures(baseline),
    failoverMs: median([...faultline, ...baseline].map((result) => result.failoverMs)),
  };
}
