/**
 * The scenario catalog on a live cluster: reads `scenarios/*.json` once at start
 * (the files the simulator and the benchmark read, so there is one catalog), and
 * plays one of them on a cluster with timers, step by step, through the fault
 * controller. One run per cluster: starting another, or healing everything,
 * ends the one before.
 */
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import type { ScenarioRunView, ScenarioView } from '../core/http-views';
import { type Scenario, parseScenario } from '../sim/scenario';
import { AppError } from './app-error';
import type { ClusterState } from './cluster-view';
import type { FaultController } from './fault-controller';
import { type LiveScenarioPlan, planLiveScenario } from './live-scenario-plan';
import type { Logger } from './logger';

/** Most scenario files read from the catalog directory. */
export const scenarioCatalogMax = 100;
/** Largest scenario file read (bytes). */
export const scenarioFileBytesMax = 256 * 1024;

/**
 * Reads and parses every scenario file of `directory` (not the JSON Schema); a bad
 * file stops the start, naming it. A missing directory is an empty catalog (a
 * deployment without the catalog still serves the console); `logger` says so.
 */
export async function loadScenarioCatalog(directory: string, logger: Logger): Promise<Scenario[]> {
  let names: string[];
  try {
    names = await readdir(directory);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    logger.warn({ directory }, 'no scenario catalog directory: the chaos panel offers no scenario');
    return [];
  }
  const files = names.filter((name) => name.endsWith('.json') && !name.endsWith('.schema.json')).sort();
  if (files.length > scenarioCatalogMax) throw new Error(`${directory}: more than ${scenarioCatalogMax} scenario files`);
  const scenarios: Scenario[] = [];
  for (const file of files) {
    const text = await readFile(path.join(directory, file), 'utf8');
    if (text.length > scenarioFileBytesMax) throw new Error(`${file}: larger than ${scenarioFileBytesMax} bytes`);
    scenarios.push(parseScenario(JSON.parse(text), file));
  }
  return scenarios;
}

export class ScenarioRunner {
  private readonly byName: Map<string, Scenario>;
  private readonly runs = new Map<string, { view: ScenarioRunView; timers: NodeJS.Timeout[] }>();
  /** Clusters an experiment holds, with the reason a plain start is refused. */
  private readonly reserved = new Map<string, string>();
  /** Hears a held cluster's run ended from outside (heal everything): the experiment holding it is over. */
  onReservedRunCancelled: ((clusterId: string) => void) | null = null;

  constructor(
    catalog: readonly Scenario[],
    private readonly faults: FaultController,
    private readonly logger: Logger,
    private readonly nowMs: () => number = Date.now,
  ) {
    this.byName = new Map(catalog.map((scenario) => [scenario.name, scenario]));
  }

  /** The catalog, by name. */
  list(): ScenarioView[] {
    return [...this.byName.values()]
      .map((scenario) => ({
        name: scenario.name,
        description: scenario.description,
        nodes: typeof scenario.nodes === 'number' ? scenario.nodes : scenario.nodes.length,
        durationMs: scenario.durationMs,
        faultKinds: [...new Set(scenario.faults.map((fault) => fault.kind))],
      }))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  /** The run on a cluster, if one is going on. */
  current(clusterId: string): ScenarioRunView | null {
    return this.runs.get(clusterId)?.view ?? null;
  }

  /** The catalog scenario named `name`, or null. */
  find(name: string): Scenario | null {
    return this.byName.get(name) ?? null;
  }

  /** Reserves a cluster for an experiment: `start` is refused with `reason` until `release`. */
  reserve(clusterId: string, reason: string): void {
    this.reserved.set(clusterId, reason);
  }

  release(clusterId: string): void {
    this.reserved.delete(clusterId);
  }

  /** Starts `name` on the cluster (ending its current run); the first step applies at once. Refused while an experiment holds the cluster. */
  async start(cluster: ClusterState, name: string): Promise<ScenarioRunView> {
    const scenario = this.byName.get(name);
    if (!scenario) throw new AppError('not_found', `no scenario named ${name} in the catalog`);
    const reserved = this.reserved.get(cluster.clusterId);
    if (reserved) throw new AppError('conflict', reserved);
    return this.play(cluster, scenario);
  }

  /**
   * Plays `scenario` (from the catalog or not) on the cluster, ending its current
   * run; `onStep` hears each step once applied (the experiment runner's progress).
   */
  async play(cluster: ClusterState, scenario: Scenario, options: { plan?: LiveScenarioPlan; onStep?: (index: number, atMs: number) => void } = {}): Promise<ScenarioRunView> {
    const name = scenario.name;
    const plan = options.plan ?? planLiveScenario(scenario, [...cluster.nodes.keys()]);
    this.cancel(cluster.clusterId);
    const startedAtMs = this.nowMs();
    const view: ScenarioRunView = {
      clusterId: cluster.clusterId,
      scenario: name,
      startedAtMs,
      endsAtMs: startedAtMs + plan.durationMs,
      mapping: plan.mapping,
      stepsAtMs: plan.steps.map((step) => step.atMs),
      notes: plan.notes,
    };
    const [first, ...rest] = plan.steps;
    const timers = rest.map((step, index) =>
      setTimeout(() => {
        void this.apply(cluster, plan, step).then(() => options.onStep?.(index + 1, this.nowMs()));
        if (index === rest.length - 1) this.runs.delete(cluster.clusterId);
      }, step.atMs),
    );
    this.runs.set(cluster.clusterId, { view, timers });
    this.logger.info({ cluster: cluster.clusterId, scenario: name, mapping: plan.mapping, notes: plan.notes }, 'scenario started');
    await this.apply(cluster, plan, first!);
    options.onStep?.(0, this.nowMs());
    return view;
  }

  /** Ends the cluster's run (its faults stay until healed); says whether one was going on. */
  cancel(clusterId: string): boolean {
    const run = this.runs.get(clusterId);
    if (!run) return false;
    run.timers.forEach(clearTimeout);
    this.runs.delete(clusterId);
    if (this.reserved.has(clusterId)) this.onReservedRunCancelled?.(clusterId);
    this.logger.info({ cluster: clusterId, scenario: run.view.scenario }, 'scenario ended before its time');
    return true;
  }

  /** Ends every run (shutdown). */
  close(): void {
    for (const clusterId of [...this.runs.keys()]) this.cancel(clusterId);
  }

  private async apply(cluster: ClusterState, plan: LiveScenarioPlan, step: LiveScenarioPlan['steps'][number]): Promise<void> {
    try {
      await this.faults.replaceAll(cluster, step.rules, step.controlPlaneCut);
    } catch (error) {
      // Rules not delivered now are re-sent when the agent reconnects; the run goes on.
      this.logger.warn({ err: error, cluster: cluster.clusterId, scenario: plan.scenario, atMs: step.atMs }, 'scenario step not delivered to every agent');
    }
  }
}
