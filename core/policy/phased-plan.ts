/**
 * Phased recovery as a pure state machine: nodes rejoin one group at a time, and
 * each group goes unfence → sync → verify before the next begins. An operator may
 * pause, resume or abort; a failed stage (above all a failed verification) stops the
 * plan and raises an alert, so a bad rejoin never spreads to the next group.
 */
import type { NodeId } from '../protocol';
import type { PartitionFacts } from './cluster-policy';

/** Most groups one plan may have; bounds the plan and its history. */
export const phasedGroupsMax = 1024;

/** The three stages of every group, in order. */
export const phaseStages = ['unfence', 'sync', 'verify'] as const;
/** One stage of a group. */
export type PhaseStage = (typeof phaseStages)[number];

/** Where a plan stands. */
export type PhasedPlanStatus = 'pending' | 'running' | 'paused' | 'completed' | 'aborted' | 'failed';

/** A record of one finished stage, kept for the dashboard and history. */
export interface PhaseRecord {
  /** Group index. */
  groupIndex: number;
  /** Stage. */
  stage: PhaseStage;
  /** Whether it succeeded. */
  ok: boolean;
  /** When it finished (ms since epoch). */
  atMs: number;
  /** Failure reason, if any. */
  reason?: string;
}

/** A phased recovery plan and its progress. */
export interface PhasedPlan {
  /** The partition recovering. */
  partitionId: string;
  /** Groups in rejoin order; the first is the anchor (the majority or largest side). */
  groups: NodeId[][];
  /** Status. */
  status: PhasedPlanStatus;
  /** The group in progress (or next, when paused). */
  groupIndex: number;
  /** The stage in progress (or next, when paused). */
  stage: PhaseStage;
  /** True while the current stage's command is out and its result not yet in. */
  inFlight: boolean;
  /** Finished stages, oldest first. */
  history: PhaseRecord[];
  /** Why the plan failed or was aborted. */
  failure: string | null;
}

/** Events that drive a plan. */
export type PhasedPlanEvent =
  | { type: 'start' }
  | { type: 'stage-succeeded'; groupIndex: number; stage: PhaseStage }
  | { type: 'stage-failed'; groupIndex: number; stage: PhaseStage; reason: string }
  | { type: 'pause'; actor: string }
  | { type: 'resume'; actor: string }
  | { type: 'abort'; actor: string; reason: string };

/** What the adapter must do for a plan. */
export type PhasedPlanEffect =
  | { kind: 'run-stage'; groupIndex: number; stage: PhaseStage; nodeIds: NodeId[]; rejoinedNodeIds: NodeId[] }
  | { kind: 'plan-status'; status: PhasedPlanStatus; actor?: string }
  | { kind: 'raise-alert'; partitionId: string; reason: string };

/** Builds the plan: the anchor side first, then the other nodes in groups of at most `groupSizeMax`. */
export function buildPhasedPlan(partitionId: string, facts: Pick<PartitionFacts, 'sides' | 'majorityIndex'>, groupSizeMax: number): PhasedPlan {
  if (!Number.isInteger(groupSizeMax) || groupSizeMax < 1) throw new RangeError('groupSizeMax must be a positive integer');
  const anchorIndex = facts.majorityIndex ?? 0;
  const anchor = [...(facts.sides[anchorIndex] ?? [])].sort();
  const rest = facts.sides.filter((_, index) => index !== anchorIndex).flat().sort();
  const groups: NodeId[][] = anchor.length > 0 ? [anchor] : [];
  for (let index = 0; index < rest.length; index += groupSizeMax) groups.push(rest.slice(index, index + groupSizeMax));
  if (groups.length > phasedGroupsMax) throw new RangeError(`more than ${phasedGroupsMax} groups`);
  return { partitionId, groups, status: 'pending', groupIndex: 0, stage: 'unfence', inFlight: false, history: [], failure: null };
}

function runCurrent(plan: PhasedPlan): { plan: PhasedPlan; effects: PhasedPlanEffect[] } {
  const nodeIds = plan.groups[plan.groupIndex] ?? [];
  const rejoinedNodeIds = plan.groups.slice(0, plan.groupIndex + 1).flat();
  return {
    plan: { ...plan, status: 'running', inFlight: true },
    effects: [{ kind: 'run-stage', groupIndex: plan.groupIndex, stage: plan.stage, nodeIds, rejoinedNodeIds }],
  };
}

function advance(plan: PhasedPlan): PhasedPlan {
  const stageIndex = phaseStages.indexOf(plan.stage);
  if (stageIndex < phaseStages.length - 1) return { ...plan, stage: phaseStages[stageIndex + 1] as PhaseStage, inFlight: false };
  return { ...plan, groupIndex: plan.groupIndex + 1, stage: 'unfence', inFlight: false };
}

function onSucceeded(plan: PhasedPlan, nowMs: number) {
  const record: PhaseRecord = { groupIndex: plan.groupIndex, stage: plan.stage, ok: true, atMs: nowMs };
  const next = { ...advance(plan), history: [...plan.history, record] };
  if (next.groupIndex >= next.groups.length) {
    return { plan: { ...next, status: 'completed' as const }, effects: [{ kind: 'plan-status' as const, status: 'completed' as const }] };
  }
  if (plan.status === 'paused') return { plan: next, effects: [] };
  return runCurrent(next);
}

function onFailed(plan: PhasedPlan, reason: string, nowMs: number) {
  const record: PhaseRecord = { groupIndex: plan.groupIndex, stage: plan.stage, ok: false, atMs: nowMs, reason };
  const failure = `group ${plan.groupIndex} ${plan.stage} failed: ${reason}`;
  return {
    plan: { ...plan, status: 'failed' as const, inFlight: false, history: [...plan.history, record], failure },
    effects: [
      { kind: 'plan-status' as const, status: 'failed' as const },
      { kind: 'raise-alert' as const, partitionId: plan.partitionId, reason: failure },
    ],
  };
}

const finished: ReadonlySet<PhasedPlanStatus> = new Set(['completed', 'aborted', 'failed']);

/** Advances a plan. Results for a stage other than the current one are ignored, as are events after the end. */
export function stepPhasedPlan(plan: PhasedPlan, event: PhasedPlanEvent, nowMs: number): { plan: PhasedPlan; effects: PhasedPlanEffect[] } {
  if (finished.has(plan.status)) return { plan, effects: [] };
  switch (event.type) {
    case 'start':
      return plan.status === 'pending' ? runCurrent(plan) : { plan, effects: [] };
    case 'stage-succeeded':
    case 'stage-failed': {
      const current = plan.inFlight && event.groupIndex === plan.groupIndex && event.stage === plan.stage;
      if (!current) return { plan, effects: [] };
      return event.type === 'stage-succeeded' ? onSucceeded(plan, nowMs) : onFailed(plan, event.reason, nowMs);
    }
    case 'pause':
      if (plan.status !== 'running') return { plan, effects: [] };
      return { plan: { ...plan, status: 'paused' }, effects: [{ kind: 'plan-status', status: 'paused', actor: event.actor }] };
    case 'resume': {
      if (plan.status !== 'paused') return { plan, effects: [] };
      const resumed = { ...plan, status: 'running' as const };
      const status: PhasedPlanEffect = { kind: 'plan-status', status: 'running', actor: event.actor };
      if (plan.inFlight) return { plan: resumed, effects: [status] };
      const next = runCurrent(resumed);
      return { plan: next.plan, effects: [status, ...next.effects] };
    }
    case 'abort':
      return {
        plan: { ...plan, status: 'aborted', inFlight: false, failure: `aborted by ${event.actor}: ${event.reason}` },
        effects: [{ kind: 'plan-status', status: 'aborted', actor: event.actor }],
      };
  }
}
