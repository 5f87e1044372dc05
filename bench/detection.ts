/**
 * `npm run bench:detection [-- --seeds N] [--large]`
 * Runs the scenario catalog in the simulator with each detector configuration side by
 * side (the brief's fixed rule, phi accrual, phi accrual with indirect probes) and
 * prints a table and, as its last line, one JSON object with, per scenario and
 * configuration: detection latency p50/p99 in ms and in heartbeat intervals, whether
 * the classification was right (every expectation held, over all seeds), false
 * positives per node-hour in the healthy soak, and messages per node per second.
 *
 * Per detector it also prints (issue 14): the p99 over all runs of all scenarios and the
 * worst scenario's p99 beside the median of per-scenario figures; false partitions
 * raised under latency (scenarios named `latency-*`, goal 0); time to name a deaf node
 * (`deaf-node`, goal ≤ 2.5 intervals); episodes per flapping incident (`flapping-*`,
 * goal 1); the fraction of first verdicts later changed while the faults stayed the
 * same (goal 0, provisional ones counted apart); and false partitions per node-hour
 * over every soak (scenarios without faults, `--soak-seeds N` seeds each, default 10)
 * with the 95 % upper confidence bound of a Poisson rate. `--only a,b` runs only the
 * named scenarios.
 *
 * Then it runs real agent processes at 5 and 50 peers with 250 ms heartbeats, in the
 * form `npm run build:agent` ships (the one file, plain `node`, the deploy flags) and
 * through tsx, and reports each agent's resident memory and CPU share
 * (bench/agent-resources.ts; flags `--peers`, `--seconds`, `--rounds`, `--runners`,
 * `--variant`; `--no-agents` skips it); the JSON line carries them under `agentResources`.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { type DetectorMode, detectorModes } from '../core/detectors/detector-profiles';
import { type SimulationResult, runSimulation } from '../sim/cluster-sim';
import { agentResourceOptions, measureAgentResources } from './agent-resources';
import { type FirstVerdictTally, tallyFirstVerdicts } from '../sim/expectations';
import { type Scenario, parseScenario } from '../sim/scenario';

/** Seeds per scenario and configuration unless `--seeds` says otherwise. */
const seedsDefault = 20;
/** Scenarios too slow to repeat: run once per configuration. */
const runOnce = new Set(['healthy-soak', 'large-isolate']);
/** Seeds per soak scenario (one without faults) unless `--soak-seeds` says otherwise; `runOnce` soaks stay at one. */
const soakSeedsDefault = 10;

interface Row {
  scenario: string;
  detector: DetectorMode;
  runs: number;
  latencyP50Ms: number | null;
  latencyP99Ms: number | null;
  latencyP50Intervals: number | null;
  latencyP99Intervals: number | null;
  correct: boolean;
  correctRuns: number;
  falsePositivesPerNodeHour: number | null;
  rawPeerLossesPerNodeHour: number;
  messagesPerNodePerSecond: number;
  wallMs: number;
  /** Detection latencies of every run (intervals), for the p99 over all runs. */
  latencyIntervals: number[];
  /** Partitions opened over all runs (reopenings of a flapping one not counted). */
  opened: number;
  /** Node-hours simulated over all runs. */
  nodeHours: number;
  /** First verdicts: opened, provisional, changed while the faults stayed the same. */
  firstVerdicts: FirstVerdictTally;
}

function percentile(sorted: readonly number[], fraction: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)]!;
}

/** Detection latency of a run: time to meet its first expectation of a partition verdict. */
function detectionLatencyMs(result: SimulationResult): number | null {
  const outcome = result.outcomes.find((item) => item.expectation.kind === 'verdict' && item.expectation.type !== null);
  return outcome?.latencyMs ?? null;
}

function measure(scenario: Scenario, mode: DetectorMode, seeds: number, soakSeeds: number): Row {
  const isSoak = scenario.faults.length === 0;
  const runs = runOnce.has(scenario.name) ? 1 : isSoak ? soakSeeds : seeds;
  const latencies: number[] = [];
  let correctRuns = 0;
  let messages = 0;
  let rawLosses = 0;
  let opened = 0;
  let intervalMs = 0;
  let nodeHours = 0;
  const firstVerdicts: FirstVerdictTally = { opened: 0, provisional: 0, changed: 0 };
  const startedMs = performance.now();
  for (let run = 0; run < runs; run += 1) {
    const result = runSimulation(scenario, { mode, seed: scenario.seed + run * 7919 });
    intervalMs = result.heartbeatIntervalMs;
    if (result.passed) correctRuns += 1;
    const latency = detectionLatencyMs(result);
    if (latency !== null) latencies.push(latency);
    messages += result.metrics.messagesPerNodePerSecond;
    rawLosses += result.metrics.peerLossesPerNodeHour;
    opened += result.timeline.filter((entry) => entry.type === 'opened').length;
    nodeHours += (result.nodeCount * scenario.durationMs) / 3_600_000;
    const tally = tallyFirstVerdicts(scenario, result.timeline);
    firstVerdicts.opened += tally.opened;
    firstVerdicts.provisional += tally.provisional;
    firstVerdicts.changed += tally.changed;
  }
  latencies.sort((x, y) => x - y);
  const p50 = percentile(latencies, 0.5);
  const p99 = percentile(latencies, 0.99);
  return {
    scenario: scenario.name,
    detector: mode,
    runs,
    latencyP50Ms: p50,
    latencyP99Ms: p99,
    latencyP50Intervals: p50 === null ? null : p50 / intervalMs,
    latencyP99Intervals: p99 === null ? null : p99 / intervalMs,
    correct: correctRuns === runs,
    correctRuns,
    falsePositivesPerNodeHour: isSoak ? opened / nodeHours : null,
    rawPeerLossesPerNodeHour: rawLosses / runs,
    messagesPerNodePerSecond: messages / runs,
    wallMs: performance.now() - startedMs,
    latencyIntervals: latencies.map((value) => value / intervalMs),
    opened,
    nodeHours,
    firstVerdicts,
  };
}

/** P(X ≤ k) for a Poisson variable of mean `mean`. */
function poissonCdf(k: number, mean: number): number {
  let term = Math.exp(-mean);
  let sum = term;
  for (let i = 1; i <= k; i += 1) {
    term *= mean / i;
    sum += term;
  }
  return sum;
}

/** The one-sided upper confidence bound (level `confidence`) of a Poisson rate after `events` in `exposure` units; for 0 events at 95 % it is ≈ 3 / exposure. */
export function poissonRateUpperBound(events: number, exposure: number, confidence = 0.95): number {
  if (exposure <= 0) return Number.POSITIVE_INFINITY;
  let low = events;
  let high = events + 10 + 10 * Math.sqrt(events + 1);
  for (let step = 0; step < 100; step += 1) {
    const middle = (low + high) / 2;
    if (poissonCdf(events, middle) > 1 - confidence) low = middle;
    else high = middle;
  }
  return high / exposure;
}

/** The issue-14 figures of one detector, from its rows. */
function generalisation(mine: readonly Row[]) {
  const all = mine.flatMap((row) => row.latencyIntervals).sort((x, y) => x - y);
  const worst = mine.filter((row) => row.latencyP99Intervals !== null).sort((x, y) => y.latencyP99Intervals! - x.latencyP99Intervals!)[0];
  const latencyRows = mine.filter((row) => row.scenario.startsWith('latency-'));
  const deaf = mine.find((row) => row.scenario === 'deaf-node');
  const flapping = mine.filter((row) => row.scenario.startsWith('flapping-'));
  const soaks = mine.filter((row) => row.falsePositivesPerNodeHour !== null);
  const soakEvents = soaks.reduce((sum, row) => sum + row.opened, 0);
  const soakNodeHours = soaks.reduce((sum, row) => sum + row.nodeHours, 0);
  const first = mine.reduce(
    (sum, row) => ({ opened: sum.opened + row.firstVerdicts.opened, provisional: sum.provisional + row.firstVerdicts.provisional, changed: sum.changed + row.firstVerdicts.changed }),
    { opened: 0, provisional: 0, changed: 0 },
  );
  const flappingRuns = flapping.reduce((sum, row) => sum + row.runs, 0);
  return {
    p99AllRunsIntervals: percentile(all, 0.99),
    worstScenario: worst ? { scenario: worst.scenario, p99Intervals: worst.latencyP99Intervals } : null,
    latencyOnsetFalsePartitions: latencyRows.length === 0 ? null : latencyRows.reduce((sum, row) => sum + row.opened, 0),
    latencyOnsetRuns: latencyRows.reduce((sum, row) => sum + row.runs, 0),
    deafNodeNamedP50Intervals: deaf?.latencyP50Intervals ?? null,
    deafNodeNamedMaxIntervals: deaf && deaf.latencyIntervals.length > 0 ? Math.max(...deaf.latencyIntervals) : null,
    deafNodeNamedRuns: deaf ? `${deaf.latencyIntervals.length}/${deaf.runs}` : null,
    episodesPerFlappingIncident: flappingRuns === 0 ? null : flapping.reduce((sum, row) => sum + row.opened, 0) / flappingRuns,
    firstVerdicts: first,
    firstVerdictsChangedFraction: first.opened === 0 ? null : first.changed / first.opened,
    soakFalsePartitions: soakEvents,
    soakNodeHours,
    soakFalsePartitionsPerNodeHour: soakNodeHours === 0 ? null : soakEvents / soakNodeHours,
    soakFalsePartitionsPerNodeHourUpper95: soakNodeHours === 0 ? null : poissonRateUpperBound(soakEvents, soakNodeHours),
  };
}

function format(value: number | null, digits = 0): string {
  return value === null ? '-' : value.toFixed(digits);
}

/** The per-detector figures of issue 14, one block per detector. */
function printGeneralisation(summary: Record<string, ReturnType<typeof generalisation> & { medianOfP50Intervals: number | null; medianOfP99Intervals: number | null }>): void {
  for (const [mode, figures] of Object.entries(summary)) {
    const worst = figures.worstScenario ? `${figures.worstScenario.scenario} ${format(figures.worstScenario.p99Intervals, 2)} I` : '-';
    const first = figures.firstVerdicts;
    console.log(`${mode}:`);
    console.log(
      `  latency p50 (median of scenarios) ${format(figures.medianOfP50Intervals, 2)} I; p99: median of scenarios ${format(figures.medianOfP99Intervals, 2)} I, over all runs ${format(figures.p99AllRunsIntervals, 2)} I, worst scenario ${worst}`,
    );
    console.log(`  false partitions under latency onset: ${figures.latencyOnsetFalsePartitions ?? '-'} in ${figures.latencyOnsetRuns} run(s) (goal 0)`);
    console.log(
      `  deaf node named: p50 ${format(figures.deafNodeNamedP50Intervals, 2)} I, max ${format(figures.deafNodeNamedMaxIntervals, 2)} I, named in ${figures.deafNodeNamedRuns ?? '-'} run(s) (goal ≤ 2.5 I)`,
    );
    console.log(`  episodes per flapping incident: ${format(figures.episodesPerFlappingIncident, 2)} (goal 1)`);
    console.log(
      `  first verdicts later changed: ${first.changed}/${first.opened} (${format(figures.firstVerdictsChangedFraction === null ? null : figures.firstVerdictsChangedFraction * 100, 1)} %), ${first.provisional} published as provisional (goal 0)`,
    );
    console.log(
      `  soak: ${figures.soakFalsePartitions} false partition(s) in ${format(figures.soakNodeHours, 1)} node-hours = ${format(figures.soakFalsePartitionsPerNodeHour, 3)}/node-h, 95 % upper bound ${format(figures.soakFalsePartitionsPerNodeHourUpper95, 3)}/node-h (goal 0)`,
    );
  }
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const seedsIndex = argv.indexOf('--seeds');
  const seeds = seedsIndex >= 0 ? Math.max(1, Number(argv[seedsIndex + 1])) : seedsDefault;
  const soakSeedsIndex = argv.indexOf('--soak-seeds');
  const soakSeeds = soakSeedsIndex >= 0 ? Math.max(1, Number(argv[soakSeedsIndex + 1])) : soakSeedsDefault;
  const onlyIndex = argv.indexOf('--only');
  const only = onlyIndex >= 0 ? new Set(String(argv[onlyIndex + 1]).split(',')) : null;
  const includeLarge = argv.includes('--large');
  const directory = new URL('../scenarios/', import.meta.url);
  const scenarios = readdirSync(directory)
    .filter((file) => file.endsWith('.json') && file !== 'scenario.schema.json')
    .sort()
    .map((file) => parseScenario(JSON.parse(readFileSync(new URL(file, directory), 'utf8')), file))
    .filter((scenario) => includeLarge || !scenario.name.startsWith('large-isolate'))
    .filter((scenario) => only === null || only.has(scenario.name));
  const rows: Row[] = [];
  console.log(`scenario              detector       runs  p50 ms  p99 ms  p50 I  p99 I  correct  FP/node-h  raw losses/node-h  msgs/node/s`);
  for (const scenario of scenarios) {
    for (const mode of detectorModes) {
      const row = measure(scenario, mode, seeds, soakSeeds);
      rows.push(row);
      console.log(
        [
          row.scenario.padEnd(21),
          row.detector.padEnd(13),
          String(row.runs).padStart(5),
          format(row.latencyP50Ms).padStart(7),
          format(row.latencyP99Ms).padStart(7),
          format(row.latencyP50Intervals, 2).padStart(6),
          format(row.latencyP99Intervals, 2).padStart(6),
          `${row.correctRuns}/${row.runs}`.padStart(8),
          format(row.falsePositivesPerNodeHour, 2).padStart(10),
          format(row.rawPeerLossesPerNodeHour, 1).padStart(18),
          format(row.messagesPerNodePerSecond, 1).padStart(12),
        ].join(' '),
      );
    }
  }
  const summary = Object.fromEntries(
    detectorModes.map((mode) => {
      const mine = rows.filter((row) => row.detector === mode);
      const p99s = mine.map((row) => row.latencyP99Intervals).filter((value): value is number => value !== null).sort((x, y) => x - y);
      const p50s = mine.map((row) => row.latencyP50Intervals).filter((value): value is number => value !== null).sort((x, y) => x - y);
      return [
        mode,
        {
          medianOfP50Intervals: percentile(p50s, 0.5),
          medianOfP99Intervals: percentile(p99s, 0.5),
          correctScenarios: `${mine.filter((row) => row.correct).length}/${mine.length}`,
          soakFalsePositivesPerNodeHour: mine.find((row) => row.falsePositivesPerNodeHour !== null)?.falsePositivesPerNodeHour ?? null,
          ...generalisation(mine),
        },
      ];
    }),
  );
  console.log('');
  printGeneralisation(summary);
  console.log('');
  const agentResources = argv.includes('--no-agents') ? { skipped: '--no-agents' } : await measureAgentResources(agentResourceOptions(argv));
  const compactRows = rows.map(({ latencyIntervals: _, ...row }) => row);
  console.log(JSON.stringify({ benchmark: 'detection', seeds, soakSeeds, summary, rows: compactRows, agentResources }));
}

main()
  .then(() => process.exit(0))
  .catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
