/**
 * `npm run bench:detection [-- --seeds N] [--large]`
 * Runs the scenario catalog in the simulator with each detector configuration side by
 * side (the brief's fixed rule, phi accrual, phi accrual with indirect probes) and
 * prints a table and, as its last line, one JSON object with, per scenario and
 * configuration: detection latency p50/p99 in ms and in heartbeat intervals, whether
 * the classification was right (every expectation held, over all seeds), false
 * positives per node-hour in the healthy soak, and messages per node per second.
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
import { type Scenario, parseScenario } from '../sim/scenario';

/** Seeds per scenario and configuration unless `--seeds` says otherwise. */
const seedsDefault = 20;
/** Scenarios too slow to repeat: run once per configuration. */
const runOnce = new Set(['healthy-soak', 'large-isolate']);

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

function measure(scenario: Scenario, mode: DetectorMode, seeds: number): Row {
  const runs = runOnce.has(scenario.name) ? 1 : seeds;
  const latencies: number[] = [];
  let correctRuns = 0;
  let messages = 0;
  let rawLosses = 0;
  let opened = 0;
  let intervalMs = 0;
  let nodeHours = 0;
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
  }
  latencies.sort((x, y) => x - y);
  const p50 = percentile(latencies, 0.5);
  const p99 = percentile(latencies, 0.99);
  const isSoak = scenario.faults.length === 0;
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
  };
}

function format(value: number | null, digits = 0): string {
  return value === null ? '-' : value.toFixed(digits);
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const seedsIndex = argv.indexOf('--seeds');
  const seeds = seedsIndex >= 0 ? Math.max(1, Number(argv[seedsIndex + 1])) : seedsDefault;
  const includeLarge = argv.includes('--large');
  const directory = new URL('../scenarios/', import.meta.url);
  const scenarios = readdirSync(directory)
    .filter((file) => file.endsWith('.json') && file !== 'scenario.schema.json')
    .sort()
    .map((file) => parseScenario(JSON.parse(readFileSync(new URL(file, directory), 'utf8')), file))
    .filter((scenario) => includeLarge || !scenario.name.startsWith('large-isolate'));
  const rows: Row[] = [];
  console.log(`scenario              detector       runs  p50 ms  p99 ms  p50 I  p99 I  correct  FP/node-h  raw losses/node-h  msgs/node/s`);
  for (const scenario of scenarios) {
    for (const mode of detectorModes) {
      const row = measure(scenario, mode, seeds);
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
        },
      ];
    }),
  );
  console.log('');
  const agentResources = argv.includes('--no-agents') ? { skipped: '--no-agents' } : await measureAgentResources(agentResourceOptions(argv));
  console.log(JSON.stringify({ benchmark: 'detection', seeds, summary, rows, agentResources }));
}

main()
  .then(() => process.exit(0))
  .catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
