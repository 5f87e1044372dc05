/**
 * Benchmark: simulator speed (virtual ms per wall ms) at 200 and 1,000 nodes, the fast
 * path beside the reference path (`reference: true`, without the simulator's
 * speed-ups) in the same process, each run's timeline digest printed so that equal
 * timelines can be seen, and the process's peak RSS after each run (a process-wide
 * peak: the 1,000-node runs come last). Each row also gives the process's CPU time
 * over the run (user + system, the collector's threads included), which a loaded
 * machine disturbs less than wall time.
 *
 * `npm run bench:sim-speed -- [--large-ms 6000] [--skip-large]`: 200 nodes run
 * scenarios/large-isolate.json whole (30 s virtual); 1,000 nodes run
 * scenarios/large-isolate-1000.json cut to its first `--large-ms` virtual ms (the
 * healthy warm-up, where a large cluster spends most of its time).
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { runSimulation } from '../sim/cluster-sim';
import { type Scenario, parseScenario } from '../sim/scenario';
import { timelineDigest } from '../sim/timeline-digest';

function argument(name: string): string | undefined {
  const index = process.argv.indexOf(name);
  return index === -1 ? undefined : process.argv[index + 1];
}

const load = (name: string) => parseScenario(JSON.parse(readFileSync(new URL(`../scenarios/${name}.json`, import.meta.url), 'utf8')), name);

interface SpeedRow {
  nodes: number;
  path: 'reference' | 'fast';
  virtualMs: number;
  wallMs: number;
  simMsPerWallMs: number;
  cpuMs: number;
  digest: string;
  peakRssMb: number;
}

function measure(scenario: Scenario, reference: boolean): SpeedRow {
  const startedCpu = process.cpuUsage();
  const startedMs = performance.now();
  const result = runSimulation(scenario, { reference });
  const wallMs = performance.now() - startedMs;
  const cpu = process.cpuUsage(startedCpu);
  return {
    nodes: result.nodeCount,
    path: reference ? 'reference' : 'fast',
    virtualMs: scenario.durationMs,
    wallMs: Math.round(wallMs),
    simMsPerWallMs: Number((scenario.durationMs / wallMs).toFixed(3)),
    cpuMs: Math.round((cpu.user + cpu.system) / 1000),
    digest: timelineDigest(result).slice(0, 16),
    peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
  };
}

function main(): void {
  const largeMs = Math.min(30_000, Number(argument('--large-ms') ?? 6000));
  const cases: Scenario[] = [load('large-isolate')];
  if (!process.argv.includes('--skip-large')) cases.push({ ...load('large-isolate-1000'), durationMs: largeMs, expect: [{ kind: 'episodes', max: 1 }] } as Scenario);
  const rows: SpeedRow[] = [];
  console.log('nodes  path       virtual ms  wall ms  sim ms/wall ms   CPU ms  peak RSS MB  digest');
  for (const scenario of cases) {
    for (const reference of [true, false]) {
      const row = measure(scenario, reference);
      rows.push(row);
      console.log(`${String(row.nodes).padStart(5)}  ${row.path.padEnd(9)}  ${String(row.virtualMs).padStart(10)}  ${String(row.wallMs).padStart(7)}  ${row.simMsPerWallMs.toFixed(2).padStart(14)}  ${String(row.cpuMs).padStart(7)}  ${String(row.peakRssMb).padStart(11)}  ${row.digest}`);
    }
  }
  const speedup = (nodes: number) => {
    const reference = rows.find((row) => row.nodes === nodes && row.path === 'reference');
    const fast = rows.find((row) => row.nodes === nodes && row.path === 'fast');
    return reference && fast ? Number((reference.wallMs / fast.wallMs).toFixed(2)) : null;
  };
  console.log(JSON.stringify({ rows, speedupAt200: speedup(200), speedupAt1000: speedup(1000), loadAverage: os.loadavg().map((load) => Number(load.toFixed(2))) }));
}

main();
