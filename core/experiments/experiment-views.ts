/**
 * Experiments as the API answers them and the console shows them: a run in a
 * list, its full report, and the progress of the one going on.
 */
import type { PartitionType } from '../classify-partition';
import type { NodeId } from '../protocol';
import type { ExperimentVerdict, VerdictOutcome } from './observation';
import type { ScenarioIssue } from './experiment-spec';
import type { ShapeCoverage } from './scenario-shapes';

/** running, then passed | failed (by the verdicts) | aborted (an operator stopped it) | error (it could not finish). */
export type ExperimentStatus = 'running' | 'passed' | 'failed' | 'aborted' | 'error';

/** A run in the list. */
export interface ExperimentRunView {
  id: string;
  clusterId: string;
  scenario: string;
  status: ExperimentStatus;
  startedBy: string;
  startedAtMs: number;
  endedAtMs: number | null;
  /** Partition shapes the scenario plays (coverage). */
  shapes: string[];
  /** Nodes the blast-radius check counted as affected. */
  affectedNodes: NodeId[];
  /** Each validator's outcome (empty while running). */
  verdicts: { validator: string; outcome: VerdictOutcome }[];
}

/** One timed step of the run. */
export interface ExperimentStepView {
  index: number;
  /** Planned time, ms after the start. */
  atMs: number;
  /** When it was applied (ms since epoch), or null when it was not (yet). */
  appliedAtMs: number | null;
  /** What the network looks like from this step on. */
  description: string;
}

/** One sample of the run's charts. */
export interface ExperimentSampleView {
  /** ms after the start. */
  atMs: number;
  /** Fraction of the client's operations served since the previous sample (null: none made). */
  availability: number | null;
  /** Divergence between replicas: the peak ratio the server measured for the open partition so far (0 without one). */
  divergence: number;
  /** The recorded partition's type at the sample, or null. */
  partitionType: PartitionType | null;
}

/** One entry of the run's timeline. */
export interface ExperimentEventView {
  atMs: number;
  kind: string;
  message: string;
}

/** A run's whole report. */
export interface ExperimentReport extends ExperimentRunView {
  /** The scenario file as it was run. */
  file: unknown;
  /** Scenario node → live node. */
  mapping: Record<string, NodeId>;
  /** What could not be played as written. */
  notes: string[];
  steps: ExperimentStepView[];
  verdictDetails: ExperimentVerdict[];
  samples: ExperimentSampleView[];
  events: ExperimentEventView[];
  /** Partitions the server recorded during the run. */
  partitionIds: string[];
}

/** The run going on, as the chaos page follows it. */
export interface ExperimentProgress {
  runId: string;
  clusterId: string;
  scenario: string;
  /** faults: steps are playing; recovery: healed, waiting for Normal; judging: validators at work. */
  phase: 'faults' | 'recovery' | 'judging';
  startedAtMs: number;
  /** Index of the latest step applied. */
  stepIndex: number;
  stepsAtMs: number[];
  /** When the faults are lifted (ms since epoch). */
  healAtMs: number;
  /** When the current phase ends at the latest (ms since epoch). */
  phaseDeadlineMs: number;
  /** What the server sees now. */
  seen: { partition: { type: PartitionType; components: NodeId[][] } | null; summary: string; clientServed: number; clientRefused: number };
}

/** The answer to a refused scenario file: every problem with its JSON path. */
export interface ScenarioValidation {
  ok: boolean;
  issues: ScenarioIssue[];
}

/** Coverage of one cluster. */
export interface CoverageView {
  clusterId: string;
  shapes: ShapeCoverage[];
}
