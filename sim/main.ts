/**
 * `npm run sim -- FILE... [--seed N] [--detector fixed|phi|phi+indirect] [--json]`
 * `npm run sim -- --print-schema > scenarios/scenario.schema.json` regenerates the JSON Schema.
 * Runs scenario files in the simulator, prints per scenario the published verdict
 * timeline and whether each expectation held, and exits non-zero if one did not.
 * A failing run prints its seed and the command that replays it exactly.
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { type DetectorMode, detectorModes } from '../core/detectors/detector-profiles';
import { type SimulationResult, runSimulation } from './cluster-sim';
import { ScenarioError, parseScenario, scenarioJsonSchema } from './scenario';

interface Arguments {
  files: string[];
  seed?: number;
  mode?: DetectorMode;
  json: boolean;
}

function parseArguments(argv: readonly string[]): Arguments {
  const parsed: Arguments = { files: [], json: false };
  for (let index = 0; index < argv.length; index += 1) {
    const argument = argv[index]!;
    if (argument === '--seed') {
      const seed = Number(argv[(index += 1)]);
      if (!Number.isInteger(seed) || seed < 0) throw new ScenarioError('--seed needs a non-negative integer');
      parsed.seed = seed;
    } else if (argument === '--detector') {
      const mode = argv[(index += 1)] as DetectorMode;
      if (!detectorModes.includes(mode)) throw new ScenarioError(`--detector must be one of ${detectorModes.join(', ')}`);
      parsed.mode = mode;
    } else if (argument === '--json') parsed.json = true;
    else parsed.files.push(argument);
  }
  if (parsed.files.length === 0) throw new ScenarioError('usage: npm run sim -- FILE... [--seed N] [--detector MODE] [--json]');
  return parsed;
}

function loadScenario(file: string) {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ScenarioError(`${file}: cannot read (${(error as Error).message})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ScenarioError(`${file}: not valid JSON (${(error as Error).message})`);
  }
  return parseScenario(json, file);
}

function printResult(file: string, result: SimulationResult): void {
  const seconds = (ms: number) => `${(ms / 1000).toFixed(2)}s`;
  console.log(`\n== ${result.scenario} (${file}) seed=${result.seed} detector=${result.mode} nodes=${result.nodeCount}`);
  if (result.timeline.length === 0) console.log('   timeline: nothing published (cluster whole throughout)');
  for (const entry of result.timeline) {
    const notes = [entry.provisional ? 'provisional' : null, entry.flaps > 0 ? `${entry.flaps} flap(s)` : null].filter(Boolean);
    const note = notes.length > 0 ? ` (${notes.join(', ')})` : '';
    console.log(`   ${seconds(entry.atMs).padStart(8)}  ${entry.type.padEnd(8)} #${entry.episode}${note}  ${entry.summary}`);
  }
  for (const outcome of result.outcomes) {
    const label = outcome.expectation.kind === 'verdict' ? `verdict ${outcome.expectation.type ?? 'whole'}` : outcome.expectation.kind;
    const latency = outcome.latencyMs === null ? '' : ` after ${outcome.latencyMs.toFixed(0)} ms`;
    console.log(`   ${outcome.held ? 'PASS' : 'FAIL'}  ${label}${latency}: ${outcome.detail}`);
  }
  const m = result.metrics;
  console.log(
    `   ${m.messagesPerNodePerSecond.toFixed(1)} msgs/node/s, ${m.peerLossesPerNodeHour.toFixed(1)} raw peer losses/node-h, ${m.events} events in ${m.wallMs.toFixed(0)} ms wall`,
  );
  if (!result.passed) console.log(`   replay: npm run sim -- ${file} --seed ${result.seed} --detector ${result.mode}`);
}

function main(): number {
  if (process.argv.includes('--print-schema')) {
    console.log(JSON.stringify(scenarioJsonSchema(), null, 2));
    return 0;
  }
  let args: Arguments;
  try {
    args = parseArguments(process.argv.slice(2));
  } catch (error) {
    console.error((error as Error).message);
    return 2;
  }
  let failed = 0;
  for (const file of args.files) {
    try {
      const scenario = loadScenario(file);
      const result = runSimulation(scenario, { seed: args.seed, mode: args.mode }, () => performance.now());
      if (args.json) console.log(JSON.stringify({ file, ...result, timeline: result.timeline.map(({ verdict: _, ...entry }) => entry) }));
      else printResult(file, result);
      if (!result.passed) failed += 1;
    } catch (error) {
      if (!(error instanceof ScenarioError)) throw error;
      console.error(error.message);
      failed += 1;
    }
  }
  console.log(`\n${args.files.length - failed}/${args.files.length} scenario(s) held`);
  return failed === 0 ? 0 : 1;
}

process.exitCode = main();
