/**
 * Runs experiments: one per cluster at a time (a second is refused with 409 and
 * the reason, never interleaved), each a scenario played through the scenario
 * runner's live path (so the agents inject the faults however they can), watched
 * by the observer and the client, judged by core/experiments once the cluster is
 * back to Normal (or the recovery limit passed), and stored. Abort heals everything.
 */
import { randomUUID } from 'node:crypto';
import type { BlastRadiusLimit } from '../../core/experiments/blast-radius';
import type { ExperimentProgress, ExperimentRunView } from '../../core/experiments/experiment-views';
import { judgeExperiment, runStatusOf } from '../../core/experiments/judge-experiment';
import type { ExperimentObservation, ExperimentVerdict } from '../../core/experiments/observation';
import type { ClusterPolicy } from '../../core/policy/cluster-policy';
import type { NodeId } from '../../core/protocol';
import type { ClusterSnapshot } from '../../core/realtime-contract';
import { AppError } from '../app-error';
import type { ClusterState } from '../cluster-view';
import type { FaultController } from '../fault-controller';
import type { Logger } from '../logger';
import type { ScenarioRunner } from '../scenario-runner';
import { ExperimentClient } from './experiment-client';
import { ExperimentObserver } from './experiment-observer';
import { type PreparedExperiment, describeStep, prepareExperiment } from './experiment-plan';
import type { ExperimentStore } from './experiment-store';

/** Pause after the client stops before replicas are read back (ms): replication in flight lands. */
export const readBackSettleMs = 2_000;
/** Read-backs tried until the replicas agree on the client's keys. */
export const readBackAttemptsMax = 3;

/** What the runner needs from the server. */
export interface ExperimentRunnerOptions {
  store: ExperimentStore;
  scenarios: ScenarioRunner;
  faults: FaultController;
  cluster: (clusterId: string) => ClusterState;
  snapshot: (clusterId: string) => ClusterSnapshot;
  /** Each node's store API base URL, where the server knows it (the demo cluster). */
  storeUrls: (clusterId: string) => ReadonlyMap<NodeId, string>;
  policy: () => ClusterPolicy;
  /** Approves the manual recoveries waiting on these partitions, as `actor`; answers how many. */
  approvePendingRecovery: (partitionIds: readonly string[], actor: string, reason: string) => Promise<number>;
  blastRadius: BlastRadiusLimit;
  sampleMs: number;
  logger: Logger;
  nowMs?: () => number;
}

interface ActiveRun {
  view: ExperimentRunView;
  prepared: PreparedExperiment;
  cluster: ClusterState;
  observer: ExperimentObserver;
  client: ExperimentClient;
  phase: ExperimentProgress['phase'];
  stepIndex: number;
  normalAtMs: number | null;
  abortedBy: string | null;
  wake: () => void;
  done: Promise<void>;
}

export class ExperimentRunner {
  private readonly active = new Map<string, ActiveRun>();
  private readonly nowMs: () => number;

  constructor(private readonly options: ExperimentRunnerOptions) {
    this.nowMs = options.nowMs ?? Date.now;
    // "Heal everything" (the chaos panel, POST /api/faults/heal) ends the steps: the experiment is aborted with them.
    options.scenarios.onReservedRunCancelled = (clusterId) => {
      const run = this.active.get(clusterId);
      if (!run || run.abortedBy) return;
      run.abortedBy = 'heal everything';
      run.wake();
    };
  }

  /** Starts an experiment from a scenario file on a cluster; answers once its first step applied. */
  async start(clusterId: string, file: unknown, actor: string): Promise<ExperimentRunView> {
    const cluster = this.options.cluster(clusterId);
    const busy = this.active.get(clusterId);
    if (busy) throw new AppError('conflict', `experiment ${busy.view.id} (${busy.view.scenario}) is running on cluster ${clusterId}: one experiment per cluster at a time; wait for it or abort it`);
    const playing = this.options.scenarios.current(clusterId);
    if (playing) throw new AppError('conflict', `scenario ${playing.scenario} is playing on cluster ${clusterId}: heal everything or wait for it to end first`);
    const open = this.options.snapshot(clusterId).activePartition;
    if (open) throw new AppError('conflict', `cluster ${clusterId} has an open partition (${open.id}, ${open.state}): an experiment starts from Normal, so that what it sees is its own; wait for it to close or recover it first`);
    const prepared = prepareExperiment(file, [...cluster.nodes.keys()], this.options.blastRadius);
    const startedAtMs = this.nowMs();
    const id = randomUUID();
    const view: ExperimentRunView = { id, clusterId, scenario: prepared.scenario.name, status: 'running', startedBy: actor, startedAtMs, endedAtMs: null, shapes: prepared.shapes, affectedNodes: prepared.blast.affected, verdicts: [] };
    const client = new ExperimentClient(id, this.options.storeUrls(clusterId), prepared.block.client.opsPerSecond, this.nowMs);
    const observer = new ExperimentObserver({ runId: id, startedAtMs, sampleMs: this.options.sampleMs, snapshot: () => this.options.snapshot(clusterId), client: () => client.operations, store: this.options.store, logger: this.options.logger });
    const run: ActiveRun = { view, prepared, cluster, observer, client, phase: 'faults', stepIndex: -1, normalAtMs: null, abortedBy: null, wake: () => undefined, done: Promise.resolve() };
    // Held before the first await, so a second start cannot slip in.
    this.active.set(clusterId, run);
    this.options.scenarios.reserve(clusterId, `experiment ${id} (${view.scenario}) holds cluster ${clusterId}`);
    try {
      await this.options.store.create({
        id, clusterId, scenario: view.scenario, startedBy: actor, startedAtMs, file, mapping: prepared.plan.mapping, notes: prepared.plan.notes, shapes: prepared.shapes, affectedNodes: prepared.blast.affected,
        steps: prepared.plan.steps.map((step, index) => ({ index, atMs: step.atMs, description: describeStep(step) })),
      });
      await this.event(run, 'started', `started by ${actor} on ${cluster.nodes.size} nodes; ${prepared.blast.affected.length} affected (${prepared.blast.affected.join(', ') || 'none'})${client.usable ? '' : '; no store API known: no client load'}`);
    } catch (error) {
      this.release(run);
      throw error;
    }
    observer.start();
    client.start();
    try {
      await this.options.scenarios.play(cluster, prepared.scenario, { plan: prepared.plan, onStep: (index, atMs) => void this.stepApplied(run, index, atMs) });
    } catch (error) {
      await this.finish(run, 'error', []);
      throw error;
    }
    run.done = this.drive(run).catch(async (error: unknown) => {
      this.options.logger.error({ err: error, runId: id }, 'experiment failed to finish');
      await this.finish(run, 'error', []).catch(() => undefined);
    });
    return { ...view };
  }

  /** The run going on on a cluster, as the chaos page follows it. */
  progress(clusterId: string): ExperimentProgress | null {
    const run = this.active.get(clusterId);
    if (!run) return null;
    const { prepared, view } = run;
    const healAtMs = view.startedAtMs + prepared.healAtMs;
    const latest = run.observer.latest();
    const tally = run.client.tally();
    return {
      runId: view.id,
      clusterId,
      scenario: view.scenario,
      phase: run.phase,
      startedAtMs: view.startedAtMs,
      stepIndex: run.stepIndex,
      stepsAtMs: prepared.plan.steps.map((step) => step.atMs),
      healAtMs,
      phaseDeadlineMs: run.phase === 'faults' ? healAtMs : healAtMs + prepared.block.recoveryWithinMs,
      seen: {
        partition: latest?.partition ? { type: latest.partition.type, components: latest.partition.components } : null,
        summary: this.options.snapshot(clusterId).verdict.summary,
        clientServed: tally.served,
        clientRefused: tally.refused,
      },
    };
  }

  /** Aborts the cluster's run: ends its steps and heals every fault at once. */
  async abort(clusterId: string, actor: string): Promise<ExperimentRunView> {
    const run = this.active.get(clusterId);
    if (!run) throw new AppError('not_found', `no experiment is running on cluster ${clusterId}`);
    run.abortedBy = actor;
    this.options.scenarios.cancel(clusterId);
    await this.options.faults.heal(run.cluster).catch((error: unknown) => this.options.logger.warn({ err: error }, 'heal after abort not delivered to every agent'));
    run.wake();
    await run.done;
    return { ...run.view };
  }

  /** Runs a restart found still `running` end as `error` (their steps died with the process). */
  async recoverInterrupted(): Promise<void> {
    for (const run of await this.options.store.listRunning()) {
      if ([...this.active.values()].some((active) => active.view.id === run.id)) continue;
      await this.options.store.addEvent(run.id, { atMs: this.nowMs(), kind: 'error', message: 'the server restarted during the run' });
      await this.options.store.finish(run.id, { status: 'error', endedAtMs: this.nowMs(), verdicts: [] });
    }
  }

  /** Aborts every run (shutdown). */
  async close(): Promise<void> {
    await Promise.all([...this.active.keys()].map((clusterId) => this.abort(clusterId, 'system:shutdown').catch(() => undefined)));
  }

  private async stepApplied(run: ActiveRun, index: number, atMs: number): Promise<void> {
    run.stepIndex = index;
    const step = run.prepared.plan.steps[index];
    await this.options.store.stepApplied(run.view.id, index, atMs).catch(() => undefined);
    if (step) await this.event(run, 'step', `step ${index} (at ${step.atMs} ms): ${describeStep(step)}`);
  }

  /** Waits until `untilMs` or an abort; true when aborted. */
  private sleepUntil(run: ActiveRun, untilMs: number): Promise<boolean> {
    if (run.abortedBy) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(run.abortedBy !== null), Math.max(0, untilMs - this.nowMs()));
      run.wake = () => {
        clearTimeout(timer);
        resolve(true);
      };
    });
  }

  private async drive(run: ActiveRun): Promise<void> {
    const { prepared, view } = run;
    const healAtMs = view.startedAtMs + prepared.healAtMs;
    if (await this.sleepUntil(run, healAtMs)) return this.finish(run, 'aborted', []);
    run.phase = 'recovery';
    await this.event(run, 'healed', 'every fault lifted; waiting for Normal');
    const deadlineMs = healAtMs + prepared.block.recoveryWithinMs;
    while (this.nowMs() < deadlineMs) {
      const sample = await run.observer.sample();
      if (sample && sample.partition === null) {
        run.normalAtMs = sample.atMs;
        break;
      }
      await this.approveRecovery(run);
      if (await this.sleepUntil(run, Math.min(deadlineMs, this.nowMs() + this.options.sampleMs))) return this.finish(run, 'aborted', []);
    }
    await this.event(run, 'recovery', run.normalAtMs === null ? `not Normal within ${prepared.block.recoveryWithinMs} ms` : `Normal ${run.normalAtMs - healAtMs} ms after the heal`);
    // The scenario's own tail (its last step) ends before judging, so the cluster is not cut again.
    if (await this.sleepUntil(run, view.startedAtMs + prepared.plan.durationMs)) return this.finish(run, 'aborted', []);
    run.phase = 'judging';
    run.client.stop();
    const finalReads = await this.readBack(run);
    await run.observer.sample();
    const observation: ExperimentObservation = {
      startedAtMs: view.startedAtMs,
      faultStartMs: prepared.faultStartMs === null ? null : view.startedAtMs + prepared.faultStartMs,
      healAtMs,
      normalAtMs: run.normalAtMs,
      samples: run.observer.samples,
      client: run.client.operations,
      finalReads,
      partitionIds: [...run.observer.partitionIds],
      unplayedNodes: [...run.cluster.nodes.keys()].filter((node) => !Object.values(prepared.plan.mapping).includes(node)),
    };
    const verdicts = judgeExperiment(observation, prepared.expected, prepared.block, this.options.policy());
    await this.finish(run, runStatusOf(verdicts), verdicts);
  }

  /** Approves a manual recovery the run's partitions wait for, when the experiment says so. */
  private async approveRecovery(run: ActiveRun): Promise<void> {
    if (!run.prepared.block.approveManualRecovery || run.observer.partitionIds.size === 0) return;
    try {
      const approved = await this.options.approvePendingRecovery([...run.observer.partitionIds], `${run.view.startedBy} (experiment ${run.view.id})`, `experiment ${run.view.scenario}: the heal is part of the scenario`);
      if (approved > 0) await this.event(run, 'recovery-approved', `approved ${approved} manual recovery run${approved === 1 ? '' : 's'} on behalf of ${run.view.startedBy}`);
    } catch (error) {
      this.options.logger.warn({ err: error, runId: run.view.id }, 'manual recovery not approved');
    }
  }

  /** Reads the client's keys back from every replica, a few times until they agree. */
  private async readBack(run: ActiveRun) {
    if (!run.client.usable) return [];
    let reads: Awaited<ReturnType<ExperimentClient['readBack']>> = [];
    for (let attempt = 0; attempt < readBackAttemptsMax; attempt += 1) {
      await new Promise((resolve) => setTimeout(resolve, readBackSettleMs));
      reads = await run.client.readBack();
      const versions = new Map<string, Set<string>>();
      for (const read of reads) versions.set(read.key, (versions.get(read.key) ?? new Set()).add(`${read.value}@${read.hlc}`));
      if ([...versions.values()].every((set) => set.size === 1)) break;
    }
    return reads;
  }

  private async finish(run: ActiveRun, status: 'passed' | 'failed' | 'aborted' | 'error', verdicts: ExperimentVerdict[]): Promise<void> {
    run.observer.stop();
    run.client.stop();
    const endedAtMs = this.nowMs();
    try {
      if (status === 'aborted') await this.event(run, 'aborted', `aborted by ${run.abortedBy ?? 'unknown'}; every fault healed`);
      for (const verdict of verdicts) await this.event(run, `verdict-${verdict.outcome}`, `${verdict.validator}: ${verdict.summary}`);
      await this.options.store.finish(run.view.id, { status, endedAtMs, verdicts });
      Object.assign(run.view, { status, endedAtMs, verdicts: verdicts.map((verdict) => ({ validator: verdict.validator, outcome: verdict.outcome })) });
      this.options.logger.info({ runId: run.view.id, scenario: run.view.scenario, status }, 'experiment ended');
    } finally {
      this.release(run);
    }
  }

  private release(run: ActiveRun): void {
    if (this.active.get(run.view.clusterId) === run) this.active.delete(run.view.clusterId);
    this.options.scenarios.release(run.view.clusterId);
  }

  private async event(run: ActiveRun, kind: string, message: string): Promise<void> {
    await this.options.store.addEvent(run.view.id, { atMs: this.nowMs(), kind, message }).catch((error: unknown) => this.options.logger.warn({ err: error }, 'experiment event not stored'));
  }
}
