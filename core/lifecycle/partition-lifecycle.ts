/**
 * The life of one partition, as a pure step function:
 * `stepPartition(state, event, nowMs) → { state, effects }`.
 * Every change of lifecycle state goes through the definition's transitions and comes
 * out as a `persist-transition` effect (time, cause, actor) before any other effect,
 * so adapters save before they emit or send. Commands to agents, alerts and recovery
 * starts are effects too: data, carried out by the server.
 */
import {
  type ClusterPolicy,
  type FenceMode,
  type HandlingDecision,
  type PartitionFacts,
  type RecoveryStrategy,
  decideHandling,
} from '../policy/cluster-policy';
import { type StrategyChoice, type StrategyOverride, selectRecoveryStrategy } from '../policy/recovery-strategy';
import { type ThresholdBreach, thresholdBreaches } from '../policy/thresholds';
import type { NodeId } from '../protocol';
import type { DataPlaneCommand } from '../reconcile/data-plane-commands';
import { describeBreach, describeEmergency, describePartition } from './alert-text';
import { type LifecycleState, type TransitionName, findTransition, lifecycleDefinition } from './lifecycle-definition';

/** Visited states kept per partition for the diagram; older ones are dropped. */
export const lifecyclePathMax = 64;

/** Who caused a transition or decision. */
export type Actor = { kind: 'system' } | { kind: 'operator'; name: string };

/** The system actor, for transitions the control plane takes by itself. */
export const systemActor: Actor = { kind: 'system' };

/** One taken transition, as persisted. */
export interface TransitionRecord {
  /** The partition. */
  partitionId: string;
  /** State left. */
  from: LifecycleState;
  /** State entered. */
  to: LifecycleState;
  /** Transition name from the definition. */
  name: TransitionName;
  /** Why, in words: the facts or operator reason behind it. */
  cause: string;
  /** Who. */
  actor: Actor;
  /** When (ms since epoch). */
  atMs: number;
}

/** An operator decision recorded even when no transition follows (approval, rejection, override). */
export interface DecisionRecord {
  /** The partition. */
  partitionId: string;
  /** The kind of decision. */
  decision: 'recovery-approved' | 'recovery-rejected' | 'strategy-overridden' | 'emergency-declared';
  /** The operator. */
  actor: string;
  /** The operator's reason. */
  reason: string;
  /** When (ms since epoch). */
  atMs: number;
}

/** The lifecycle of one partition. */
export interface PartitionLifecycleState {
  /** The partition's id (stable across its life). */
  partitionId: string;
  /** The cluster it belongs to. */
  clusterId: string;
  /** Current lifecycle state. */
  state: LifecycleState;
  /** Latest facts about the partition; null before detection. */
  facts: PartitionFacts | null;
  /** The handling decision in force; null before detection. */
  handling: HandlingDecision | null;
  /** Fences currently ordered, per node. */
  fences: { nodeId: NodeId; mode: FenceMode }[];
  /** The recovery strategy that will run (or runs) and why. */
  strategy: StrategyChoice | null;
  /** Operator override, if one was made. */
  override: StrategyOverride | null;
  /** Whether recovery waits for an operator's approval (manual strategy, or after escalation). */
  awaitingApproval: boolean;
  /** When the partition was first detected (ms); null before. */
  detectedAtMs: number | null;
  /** When it last healed (ms); null while split. */
  healedAtMs: number | null;
  /** When recovery (reconciliation) last started (ms); null if not running. */
  recoveryStartedAtMs: number | null;
  /** Whether the latest reconciliation verified that every replica agrees. */
  reconciliationVerified: boolean;
  /** Times the partition healed and split again. */
  flapCount: number;
  /** Threshold breaches already alerted, so each fires once per partition. */
  alertedBreaches: ThresholdBreach[];
  /** States visited, oldest first (at most `lifecyclePathMax`). */
  path: LifecycleState[];
  /** When it returned to Normal for good (ms); a closed lifecycle ignores further events. */
  closedAtMs: number | null;
  /** The cluster policy in force, fixed at creation so a replay gives the same result. */
  policy: ClusterPolicy;
}

/** Events fed to a partition's lifecycle. */
export type LifecycleEvent =
  | { type: 'partition-observed'; facts: PartitionFacts }
  | { type: 'partition-healed' }
  | { type: 'divergence-measured'; ratio: number }
  | { type: 'emergency-declared'; actor: string; reason: string }
  | { type: 'strategy-overridden'; override: StrategyOverride }
  | { type: 'recovery-approved'; actor: string; reason: string }
  | { type: 'recovery-rejected'; actor: string; reason: string }
  | { type: 'reconciliation-completed'; verified: boolean; summary: string }
  | { type: 'reconciliation-escalated'; reason: string }
  | { type: 'tick' };

/** The rules a lifecycle raises alerts under; a threshold breach is its own rule. */
export type AlertRule = 'partition-detected' | 'emergency-mode' | 'reconciliation-escalated' | 'recovery-rejected' | ThresholdBreach;

/** Effects for the server to carry out, in order. */
export type LifecycleEffect =
  | { kind: 'persist-transition'; transition: TransitionRecord }
  | { kind: 'persist-decision'; decision: DecisionRecord }
  | { kind: 'send-command'; nodeIds: NodeId[]; command: DataPlaneCommand }
  /** Start reconciliation: collect changes at or after `hlcFloor(sinceMs)` from `nodeIds` (see core/reconcile). */
  | { kind: 'start-recovery'; partitionId: string; strategy: RecoveryStrategy; nodeIds: NodeId[]; majorityNodes: NodeId[] | null; sinceMs: number }
  | { kind: 'cancel-recovery'; partitionId: string; reason: string }
  | { kind: 'request-approval'; partitionId: string; reason: string }
  /** `rule` names the alert (one open alert per partition and rule); `reason` is its title. */
  | { kind: 'raise-alert'; partitionId: string; rule: AlertRule; reason: string; severity: 'warning' | 'critical' }
  | { kind: 'resolve-alert'; partitionId: string }
  | { kind: 'emit'; partitionId: string; state: LifecycleState };

/** The result of one step. */
export interface LifecycleStepResult {
  /** The lifecycle after the event. */
  state: PartitionLifecycleState;
  /** Effects, persists first. */
  effects: LifecycleEffect[];
}

/** A new lifecycle, in Normal, before its partition is observed. */
export function createPartitionLifecycle(partitionId: string, clusterId: string, policy: ClusterPolicy): PartitionLifecycleState {
  return {
    partitionId,
    clusterId,
    state: lifecycleDefinition.initial,
    facts: null,
    handling: null,
    fences: [],
    strategy: null,
    override: null,
    awaitingApproval: false,
    detectedAtMs: null,
    healedAtMs: null,
    recoveryStartedAtMs: null,
    reconciliationVerified: false,
    flapCount: 0,
    alertedBreaches: [],
    path: [lifecycleDefinition.initial],
    closedAtMs: null,
    policy,
  };
}

/** Collects effects while a step builds the next state; persists are kept ahead of everything else. */
class Step {
  private readonly persists: LifecycleEffect[] = [];
  private readonly others: LifecycleEffect[] = [];
  constructor(public state: PartitionLifecycleState, readonly nowMs: number) {}

  /** Takes a transition from the definition; throws if the definition does not allow it (a bug, not input). */
  transition(name: TransitionName, to: LifecycleState, cause: string, actor: Actor = systemActor): void {
    const from = this.state.state;
    const allowed = findTransition(lifecycleDefinition, from, name);
    if (allowed === null || allowed.to !== to) throw new Error(`lifecycle: no transition ${name} from ${from} to ${to}`);
    const path = [...this.state.path, to].slice(-lifecyclePathMax);
    this.state = { ...this.state, state: to, path };
    const transition = { partitionId: this.state.partitionId, from, to, name, cause, actor, atMs: this.nowMs };
    this.persists.push({ kind: 'persist-transition', transition });
  }

  decision(decision: DecisionRecord['decision'], actor: string, reason: string): void {
    const record = { partitionId: this.state.partitionId, decision, actor, reason, atMs: this.nowMs };
    this.persists.push({ kind: 'persist-decision', decision: record });
  }

  effect(effect: LifecycleEffect): void {
    this.others.push(effect);
  }

  result(previous: LifecycleState): LifecycleStepResult {
    const emit: LifecycleEffect[] =
      this.persists.length > 0 || this.state.state !== previous
        ? [{ kind: 'emit', partitionId: this.state.partitionId, state: this.state.state }]
        : [];
    return { state: this.state, effects: [...this.persists, ...this.others, ...emit] };
  }
}

const describeFacts = describePartition;

function emergencyAlert(step: Step, decision: HandlingDecision): LifecycleEffect {
  const reason = describeEmergency(decision.emergencyReasons, step.state.facts, step.state.policy.thresholds);
  return { kind: 'raise-alert', partitionId: step.state.partitionId, rule: 'emergency-mode', reason, severity: 'critical' };
}

/** Sends fence/unfence commands so that the ordered fences become `wanted`. */
function applyFences(step: Step, wanted: { nodeId: NodeId; mode: FenceMode }[]): void {
  const partitionId = step.state.partitionId;
  const current = new Map(step.state.fences.map((fence) => [fence.nodeId, fence.mode]));
  const target = new Map(wanted.map((fence) => [fence.nodeId, fence.mode]));
  const released = [...current.keys()].filter((nodeId) => !target.has(nodeId)).sort();
  if (released.length > 0) step.effect({ kind: 'send-command', nodeIds: released, command: { type: 'unfence', partitionId } });
  for (const mode of ['read-only', 'critical-only'] as const) {
    const nodeIds = [...target].filter(([nodeId, wantedMode]) => wantedMode === mode && current.get(nodeId) !== mode).map(([nodeId]) => nodeId).sort();
    if (nodeIds.length > 0) step.effect({ kind: 'send-command', nodeIds, command: { type: 'fence', partitionId, mode } });
  }
  step.state = { ...step.state, fences: [...target].map(([nodeId, mode]) => ({ nodeId, mode })) };
}

function fencesOf(decision: HandlingDecision): { nodeId: NodeId; mode: FenceMode }[] {
  return decision.fences.flatMap((order) => order.nodeIds.map((nodeId) => ({ nodeId, mode: order.mode })));
}

function chooseStrategy(state: PartitionLifecycleState, facts: PartitionFacts, decision: HandlingDecision): StrategyChoice {
  return selectRecoveryStrategy({ type: facts.type, emergencyReasons: decision.emergencyReasons }, state.override);
}

/** Leaves PartitionDetected for DegradedOperation or EmergencyMode as policy decides, fencing accordingly. */
function activateHandling(step: Step, facts: PartitionFacts, forcedEmergency: boolean): void {
  const decision = decideHandling(facts, step.state.policy, forcedEmergency);
  step.state = { ...step.state, facts, handling: decision, strategy: chooseStrategy(step.state, facts, decision) };
  if (decision.mode === 'emergency') {
    step.transition('emergency-declared', 'EmergencyMode', `critical: ${decision.emergencyReasons.join(', ')}`);
    step.effect(emergencyAlert(step, decision));
  } else {
    const fenced = decision.fences.flatMap((order) => order.nodeIds);
    const detail = fenced.length > 0 ? `minority fenced read-only [${fenced.join(', ')}]` : 'all sides keep writing';
    step.transition('handling-activated', 'DegradedOperation', `${decision.handling}: ${detail}`);
  }
  applyFences(step, fencesOf(decision));
}

function onDetected(step: Step, facts: PartitionFacts): void {
  step.state = { ...step.state, detectedAtMs: step.nowMs, facts };
  step.transition('partition-detected', 'PartitionDetected', describeFacts(facts));
  step.effect({ kind: 'raise-alert', partitionId: step.state.partitionId, rule: 'partition-detected', reason: describeFacts(facts), severity: 'warning' });
  activateHandling(step, facts, false);
}

function onRecurred(step: Step, facts: PartitionFacts): void {
  const flapCount = step.state.flapCount + 1;
  const withFlaps = { ...facts, flapCount };
  step.state = { ...step.state, flapCount, healedAtMs: null, recoveryStartedAtMs: null, reconciliationVerified: false, awaitingApproval: false };
  step.effect({ kind: 'cancel-recovery', partitionId: step.state.partitionId, reason: 'partition recurred' });
  step.transition('partition-recurred', 'PartitionDetected', `split again before stable (flap ${flapCount}): ${describeFacts(facts)}`);
  activateHandling(step, withFlaps, false);
}

/** While split, facts change (sides, evidence, divergence): re-decide, escalating to emergency if now critical. */
function onFactsChanged(step: Step, facts: PartitionFacts): void {
  const merged = { ...facts, flapCount: step.state.flapCount };
  if (step.state.state === 'EmergencyMode') {
    step.state = { ...step.state, facts: merged };
    return;
  }
  const decision = decideHandling(merged, step.state.policy);
  step.state = { ...step.state, facts: merged, handling: decision, strategy: chooseStrategy(step.state, merged, decision) };
  if (decision.mode === 'emergency') {
    step.transition('emergency-declared', 'EmergencyMode', `became critical: ${decision.emergencyReasons.join(', ')}`);
    step.effect(emergencyAlert(step, decision));
  }
  applyFences(step, fencesOf(decision));
}

function startRecovery(step: Step): void {
  const facts = step.state.facts;
  const strategy = step.state.strategy?.strategy ?? 'manual';
  if (facts === null) return;
  if (strategy !== 'phased') applyFences(step, []);
  const majorityNodes = facts.majorityIndex === null ? null : (facts.sides[facts.majorityIndex] ?? null);
  step.state = { ...step.state, awaitingApproval: false, recoveryStartedAtMs: step.nowMs, reconciliationVerified: false };
  step.effect({
    kind: 'start-recovery',
    partitionId: step.state.partitionId,
    strategy,
    nodeIds: facts.sides.flat().sort(),
    majorityNodes,
    sinceMs: Math.max(0, (step.state.detectedAtMs ?? step.nowMs) - step.state.policy.collectLookbackMs),
  });
}

function onHealed(step: Step): void {
  step.state = { ...step.state, healedAtMs: step.nowMs };
  const strategy = step.state.strategy;
  step.transition('partition-healed', 'ReconciliationMode', `healed; recovery ${strategy?.strategy ?? 'manual'} (${strategy?.reason ?? 'no strategy'})`);
  if (strategy?.strategy === 'manual') {
    step.state = { ...step.state, awaitingApproval: true };
    step.effect({ kind: 'request-approval', partitionId: step.state.partitionId, reason: strategy.reason });
    return;
  }
  startRecovery(step);
}

/** The gate back to Normal: reconciliation verified and no split for the whole stability window. */
export function canReturnToNormal(state: PartitionLifecycleState, nowMs: number): boolean {
  return (
    state.state === 'ReconciliationMode' &&
    state.reconciliationVerified &&
    state.healedAtMs !== null &&
    nowMs - state.healedAtMs >= state.policy.stabilityWindowMs
  );
}

function checkGate(step: Step): void {
  if (!canReturnToNormal(step.state, step.nowMs)) return;
  const stableMs = step.nowMs - (step.state.healedAtMs ?? step.nowMs);
  step.transition('reconciliation-verified', 'Normal', `replicas verified and stable for ${Math.round(stableMs / 1000)} s`);
  step.state = { ...step.state, closedAtMs: step.nowMs, fences: [] };
  step.effect({ kind: 'resolve-alert', partitionId: step.state.partitionId });
}

function checkThresholds(step: Step): void {
  const state = step.state;
  if (state.detectedAtMs === null) return;
  const endMs = state.healedAtMs ?? step.nowMs;
  const recoveryTimeMs = state.healedAtMs === null ? null : step.nowMs - state.healedAtMs;
  const metrics = { durationMs: endMs - state.detectedAtMs, recoveryTimeMs, divergenceRatio: state.facts?.divergenceRatio ?? null };
  const breaches = thresholdBreaches(metrics, state.policy.thresholds);
  const fresh = breaches.filter((breach) => !state.alertedBreaches.includes(breach));
  if (fresh.length === 0) return;
  step.state = { ...state, alertedBreaches: [...state.alertedBreaches, ...fresh] };
  for (const breach of fresh) step.effect({ kind: 'raise-alert', partitionId: state.partitionId, rule: breach, reason: describeBreach(breach, metrics, state.policy.thresholds), severity: 'warning' });
}

const splitStates: ReadonlySet<LifecycleState> = new Set(['DegradedOperation', 'EmergencyMode']);

function onObserved(step: Step, facts: PartitionFacts): void {
  const current = step.state.state;
  if (current === 'Normal') onDetected(step, facts);
  else if (current === 'ReconciliationMode') onRecurred(step, facts);
  else if (splitStates.has(current)) onFactsChanged(step, facts);
}

function onDivergence(step: Step, ratio: number): void {
  const facts = step.state.facts;
  if (facts === null) return;
  const updated = { ...facts, divergenceRatio: ratio };
  if (splitStates.has(step.state.state)) onFactsChanged(step, updated);
  else step.state = { ...step.state, facts: updated };
}

function onOperatorEmergency(step: Step, actor: string, reason: string): void {
  if (step.state.state !== 'DegradedOperation' || step.state.facts === null) return;
  step.decision('emergency-declared', actor, reason);
  const decision = decideHandling(step.state.facts, step.state.policy, true);
  step.state = { ...step.state, handling: decision, strategy: chooseStrategy(step.state, step.state.facts, decision) };
  step.transition('emergency-declared', 'EmergencyMode', `declared by ${actor}: ${reason}`, { kind: 'operator', name: actor });
  applyFences(step, fencesOf(decision));
}

function onOverride(step: Step, override: StrategyOverride): void {
  if (step.state.recoveryStartedAtMs !== null) return;
  step.decision('strategy-overridden', override.actor, `${override.strategy}: ${override.reason}`);
  const facts = step.state.facts;
  const reasons = step.state.handling?.emergencyReasons ?? [];
  const strategy = selectRecoveryStrategy({ type: facts?.type ?? 'complete', emergencyReasons: reasons }, override);
  step.state = { ...step.state, override, strategy };
  if (step.state.awaitingApproval && override.strategy !== 'manual') startRecovery(step);
}

function onApproval(step: Step, approved: boolean, actor: string, reason: string): void {
  if (!step.state.awaitingApproval) return;
  step.decision(approved ? 'recovery-approved' : 'recovery-rejected', actor, reason);
  if (approved) startRecovery(step);
  else step.effect({ kind: 'raise-alert', partitionId: step.state.partitionId, rule: 'recovery-rejected', reason: `recovery rejected by ${actor}: ${reason}`, severity: 'warning' });
}

function onReconciled(step: Step, verified: boolean, summary: string): void {
  if (step.state.state !== 'ReconciliationMode' || step.state.recoveryStartedAtMs === null) return;
  if (!verified) {
    onEscalated(step, `reconciliation not verified: ${summary}`);
    return;
  }
  step.state = { ...step.state, reconciliationVerified: true };
  checkGate(step);
}

function onEscalated(step: Step, reason: string): void {
  if (step.state.state !== 'ReconciliationMode') return;
  step.state = { ...step.state, awaitingApproval: true, recoveryStartedAtMs: null, reconciliationVerified: false };
  step.effect({ kind: 'raise-alert', partitionId: step.state.partitionId, rule: 'reconciliation-escalated', reason: `reconciliation escalated: ${reason}`, severity: 'critical' });
  step.effect({ kind: 'request-approval', partitionId: step.state.partitionId, reason });
}

function dispatch(step: Step, event: LifecycleEvent): void {
  switch (event.type) {
    case 'partition-observed': return onObserved(step, event.facts);
    case 'partition-healed': return splitStates.has(step.state.state) ? onHealed(step) : undefined;
    case 'divergence-measured': return onDivergence(step, event.ratio);
    case 'emergency-declared': return onOperatorEmergency(step, event.actor, event.reason);
    case 'strategy-overridden': return onOverride(step, event.override);
    case 'recovery-approved': return onApproval(step, true, event.actor, event.reason);
    case 'recovery-rejected': return onApproval(step, false, event.actor, event.reason);
    case 'reconciliation-completed': return onReconciled(step, event.verified, event.summary);
    case 'reconciliation-escalated': return onEscalated(step, event.reason);
    case 'tick': return checkGate(step);
  }
}

/**
 * Advances one partition's lifecycle. Pure: the same state, event and time always
 * give the same result. Events that make no sense in the current state (a heal while
 * already reconciling, an approval nobody asked for) change nothing.
 */
export function stepPartition(state: PartitionLifecycleState, event: LifecycleEvent, nowMs: number): LifecycleStepResult {
  if (state.closedAtMs !== null) return { state, effects: [] };
  const step = new Step(state, nowMs);
  dispatch(step, event);
  if (step.state.closedAtMs === null) checkThresholds(step);
  return step.result(state.state);
}
