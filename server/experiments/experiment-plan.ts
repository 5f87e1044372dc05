/**
 * Turns a scenario file into an experiment ready to run on a cluster: parses it
 * (every problem with its JSON path), plans it on the live nodes through the same
 * planner as the catalog's runs (live-scenario-plan.ts), checks the blast radius,
 * and works out when the faults start and end and what classification to expect.
 */
import { type BlastRadius, type BlastRadiusLimit, blastRadiusOf, effectiveLimit } from '../../core/experiments/blast-radius';
import { type ExperimentBlock, type ExpectedClassification, defaultExperimentBlock, issuesOf } from '../../core/experiments/experiment-spec';
import type { ScenarioValidation } from '../../core/experiments/experiment-views';
import { expectedClassificationOf, shapesOf } from '../../core/experiments/scenario-shapes';
import type { NodeId } from '../../core/protocol';
import { type Scenario, ScenarioSchema, scenarioNodeIds } from '../../sim/scenario';
import { AppError } from '../app-error';
import { type LiveScenarioPlan, type LiveScenarioStep, planLiveScenario } from '../live-scenario-plan';

/** An experiment planned on a cluster. */
export interface PreparedExperiment {
  scenario: Scenario;
  block: ExperimentBlock;
  plan: LiveScenarioPlan;
  expected: ExpectedClassification | null;
  blast: BlastRadius;
  shapes: string[];
  /** When the first fault applies (ms after the start), or null when none does. */
  faultStartMs: number | null;
  /** When the last fault is lifted (ms after the start). */
  healAtMs: number;
}

/** Checks a scenario file, listing every problem with its JSON path. */
export function validateScenarioFile(input: unknown): ScenarioValidation {
  const result = ScenarioSchema.safeParse(input);
  return result.success ? { ok: true, issues: [] } : { ok: false, issues: issuesOf(result.error) };
}

/** Parses a scenario file or throws `invalid_input` naming every problem by its JSON path. */
export function parseScenarioFile(input: unknown): Scenario {
  const result = ScenarioSchema.safeParse(input);
  if (result.success) return result.data;
  const issues = issuesOf(result.error);
  throw new AppError('invalid_input', `scenario file refused, ${issues.length} problem${issues.length === 1 ? '' : 's'}: ${issues.map((issue) => `${issue.path}: ${issue.message}`).join('; ')}`);
}

const faulty = (step: LiveScenarioStep) => step.rules.size > 0 || step.controlPlaneCut.length > 0;

/** One line on what the network looks like from a step on. */
export function describeStep(step: LiveScenarioStep): string {
  if (!faulty(step)) return 'no fault: every link up';
  const rules = [...step.rules.values()].reduce((sum, list) => sum + list.length, 0);
  const cut = step.controlPlaneCut.length > 0 ? `; cut from the server: ${step.controlPlaneCut.join(', ')}` : '';
  return `${rules} fault rules on ${step.rules.size} nodes (${[...step.rules.keys()].join(', ')})${cut}`;
}

/** Plans `input` on `liveNodes` under the server's blast-radius `limit`; throws `invalid_input` with the reason when refused. */
export function prepareExperiment(input: unknown, liveNodes: readonly NodeId[], limit: BlastRadiusLimit): PreparedExperiment {
  const scenario = parseScenarioFile(input);
  const block = scenario.experiment ?? defaultExperimentBlock();
  const plan = planLiveScenario(scenario, liveNodes);
  const unplayed = liveNodes.filter((node) => !Object.values(plan.mapping).includes(node));
  if (unplayed.length > 0) plan.notes.push(`${unplayed.join(', ')} play no scenario node: the expected classification is compared without them`);
  const blast = blastRadiusOf(plan.steps, liveNodes, effectiveLimit(limit, block.blastRadius));
  if (blast.refusal) throw new AppError('invalid_input', `experiment refused: ${blast.refusal}`);
  const first = plan.steps.find(faulty);
  const lastFaulty = plan.steps.map(faulty).lastIndexOf(true);
  const healAtMs = lastFaulty < 0 ? 0 : (plan.steps[lastFaulty + 1]?.atMs ?? plan.durationMs);
  return {
    scenario,
    block,
    plan,
    expected: expectedClassificationOf(scenario.expect, block.expect, plan.mapping),
    blast,
    shapes: shapesOf(scenario.faults, scenarioNodeIds(scenario).length),
    faultStartMs: first ? first.atMs : null,
    healAtMs,
  };
}
