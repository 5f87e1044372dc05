/**
 * Where experiment runs last: the run, its steps, verdicts, chart samples,
 * timeline and the partitions it caused. An interface with a Prisma
 * implementation (prisma-experiment-store.ts) and an in-memory twin
 * (memory-experiment-store.ts); experiment-store-contract.ts holds the cases both pass.
 */
import type { ExperimentVerdict } from '../../core/experiments/observation';
import type { ExperimentEventView, ExperimentReport, ExperimentRunView, ExperimentSampleView, ExperimentStatus, ExperimentStepView } from '../../core/experiments/experiment-views';
import type { NodeId } from '../../core/protocol';

/** Most runs one list answers. */
export const experimentListMax = 500;
/** Most samples and timeline entries kept per run. */
export const experimentSamplesMax = 5_000;
export const experimentEventsMax = 1_000;

/** A run as it starts. */
export interface NewExperimentRun {
  id: string;
  clusterId: string;
  scenario: string;
  startedBy: string;
  startedAtMs: number;
  file: unknown;
  mapping: Record<string, NodeId>;
  notes: string[];
  shapes: string[];
  affectedNodes: NodeId[];
  steps: Omit<ExperimentStepView, 'appliedAtMs'>[];
}

/** How a run ended. */
export interface FinishedExperiment {
  status: Exclude<ExperimentStatus, 'running'>;
  endedAtMs: number;
  verdicts: ExperimentVerdict[];
}

export interface ExperimentStore {
  create(run: NewExperimentRun): Promise<void>;
  stepApplied(runId: string, index: number, atMs: number): Promise<void>;
  addEvent(runId: string, event: ExperimentEventView): Promise<void>;
  addSamples(runId: string, samples: readonly ExperimentSampleView[]): Promise<void>;
  /** Links a partition the run caused (once; linking again changes nothing). */
  linkPartition(runId: string, partitionId: string): Promise<void>;
  finish(runId: string, finished: FinishedExperiment): Promise<void>;
  /** Runs still `running` (a restart ends them as `error`). */
  listRunning(): Promise<ExperimentRunView[]>;
  find(runId: string): Promise<ExperimentReport | null>;
  /** Runs of a cluster (or all), newest first. */
  list(query: { clusterId?: string; limit: number }): Promise<ExperimentRunView[]>;
}

/** The list view of a report. */
export function runViewOf(report: ExperimentReport): ExperimentRunView {
  const { id, clusterId, scenario, status, startedBy, startedAtMs, endedAtMs, shapes, affectedNodes, verdicts } = report;
  return { id, clusterId, scenario, status, startedBy, startedAtMs, endedAtMs, shapes, affectedNodes, verdicts };
}
