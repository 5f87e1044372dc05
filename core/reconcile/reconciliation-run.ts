/**
 * One reconciliation run as a pure state machine: collect what diverged since the
 * partition began → resolve and send each replica its sync set → verify that every
 * replica's digest agrees → complete, or retry (with a full comparison, which also
 * catches writes that were still replicating when the partition began) and, past the
 * attempt limit, escalate to an operator. Adapters carry out the effects and feed the
 * replies back as events.
 */
import { type Digest, digestsAgree, estimateDivergenceRatio } from '../digest';
import type { Hlc } from '../hlc';
import type { NodeId } from '../protocol';
import {
  type ReconciliationPlan,
  type ReconciliationReport,
  type ReplicaChanges,
  type ResolvedEntry,
  planReconciliation,
  reportReconciliation,
} from './plan-reconciliation';
import type { ConflictResolver, VersionedEntry } from './resolver';

/** Attempts before a run escalates, unless configured otherwise. */
export const reconcileAttemptsMaxDefault = 3;

/** Where a run stands. */
export type ReconciliationPhase = 'collecting' | 'syncing' | 'verifying' | 'completed' | 'escalated';

/** The state of one run. */
export interface ReconciliationRun {
  /** The partition being reconciled. */
  partitionId: string;
  /** Every replica of the key space. */
  nodeIds: NodeId[];
  /** Collect versions at or after this (see `hlcFloor`); null means compare everything. */
  since: Hlc | null;
  /** Current attempt, from 1. */
  attempt: number;
  /** Attempts allowed before escalation. */
  attemptsMax: number;
  /** Current phase. */
  phase: ReconciliationPhase;
  /** When the run started (ms since epoch). */
  startedAtMs: number;
  /** Replicas whose reply the current phase still awaits. */
  awaiting: NodeId[];
  /** Changes collected so far in this attempt. */
  collected: ReplicaChanges[];
  /** Digests collected so far in this attempt's verification. */
  digests: Digest[];
  /** The latest plan, kept to build the report. */
  plan: ReconciliationPlan | null;
  /** Bytes moved over all attempts. */
  bytesMovedTotal: number;
  /** Final report, once completed or escalated. */
  report: ReconciliationReport | null;
  /** Why the run escalated, once it has. */
  failure: string | null;
}

/** Replies fed back into a run. */
export type ReconciliationEvent =
  | { type: 'changes-collected'; nodeId: NodeId; changes: readonly VersionedEntry[] }
  | { type: 'sync-applied'; nodeId: NodeId }
  | { type: 'digest-reported'; nodeId: NodeId; digest: Digest }
  | { type: 'node-failed'; nodeId: NodeId; reason: string };

/** What the adapter must do next. */
export type ReconciliationEffect =
  | { kind: 'collect-changes'; nodeIds: NodeId[]; since: Hlc | null }
  | { kind: 'send-sync'; nodeId: NodeId; entries: ResolvedEntry[] }
  | { kind: 'collect-digests'; nodeIds: NodeId[] }
  | { kind: 'reconciliation-retrying'; attempt: number; reason: string }
  | { kind: 'reconciliation-completed'; report: ReconciliationReport }
  | { kind: 'reconciliation-escalated'; report: ReconciliationReport | null; reason: string };

/** The result of every transition of a run. */
export interface ReconciliationStepResult {
  /** The run after the event. */
  run: ReconciliationRun;
  /** Effects to carry out, in order. */
  effects: ReconciliationEffect[];
}

/** Configuration of a run. */
export interface StartReconciliationInput {
  /** The partition being reconciled. */
  partitionId: string;
  /** Every replica of the key space. */
  nodeIds: readonly NodeId[];
  /** Partition start as an HLC (changes at or after it are collected); null for a full comparison. */
  since: Hlc | null;
  /** Attempts before escalation. */
  attemptsMax?: number;
}

/** Starts a run: asks every replica for its changes since the partition began. */
export function startReconciliation(input: StartReconciliationInput, nowMs: number): ReconciliationStepResult {
  const nodeIds = [...new Set(input.nodeIds)].sort();
  if (nodeIds.length === 0) throw new RangeError('reconciliation needs at least one replica');
  const run: ReconciliationRun = {
    partitionId: input.partitionId,
    nodeIds,
    since: input.since,
    attempt: 1,
    attemptsMax: input.attemptsMax ?? reconcileAttemptsMaxDefault,
    phase: 'collecting',
    startedAtMs: nowMs,
    awaiting: nodeIds,
    collected: [],
    digests: [],
    plan: null,
    bytesMovedTotal: 0,
    report: null,
    failure: null,
  };
  return { run, effects: [{ kind: 'collect-changes', nodeIds, since: input.since }] };
}

function finalReport(run: ReconciliationRun, nowMs: number, verified: boolean): ReconciliationReport | null {
  if (run.plan === null) return null;
  const report = reportReconciliation(run.plan, {
    startedAtMs: run.startedAtMs,
    finishedAtMs: nowMs,
    attempts: run.attempt,
    verified,
  });
  return { ...report, bytesMoved: run.bytesMovedTotal };
}

function retryOrEscalate(run: ReconciliationRun, reason: string, nowMs: number): ReconciliationStepResult {
  if (run.attempt >= run.attemptsMax) {
    const report = finalReport(run, nowMs, false);
    const failure = `${reason} after ${run.attempt} attempts`;
    return {
      run: { ...run, phase: 'escalated', awaiting: [], report, failure },
      effects: [{ kind: 'reconciliation-escalated', report, reason: failure }],
    };
  }
  const next: ReconciliationRun = {
    ...run,
    attempt: run.attempt + 1,
    since: null,
    phase: 'collecting',
    awaiting: run.nodeIds,
    collected: [],
    digests: [],
  };
  return {
    run: next,
    effects: [
      { kind: 'reconciliation-retrying', attempt: next.attempt, reason },
      { kind: 'collect-changes', nodeIds: run.nodeIds, since: null },
    ],
  };
}

function onCollected(run: ReconciliationRun, resolver: ConflictResolver, majorityNodes: readonly NodeId[] | null) {
  const plan = planReconciliation({ replicas: run.collected, resolver, majorityNodes });
  const effects: ReconciliationEffect[] = plan.syncSets
    .filter((set) => set.entries.length > 0)
    .map((set) => ({ kind: 'send-sync', nodeId: set.nodeId, entries: set.entries }));
  const awaiting = plan.syncSets.filter((set) => set.entries.length > 0).map((set) => set.nodeId);
  const base = { ...run, plan, bytesMovedTotal: run.bytesMovedTotal + plan.bytesToMove, collected: [] };
  if (awaiting.length === 0) {
    return { run: { ...base, phase: 'verifying' as const, awaiting: run.nodeIds }, effects: [collectDigests(run)] };
  }
  return { run: { ...base, phase: 'syncing' as const, awaiting }, effects };
}

function collectDigests(run: ReconciliationRun): ReconciliationEffect {
  return { kind: 'collect-digests', nodeIds: run.nodeIds };
}

/** How a run decides conflicts; fixed for the run's life. */
export interface ReconciliationRules {
  /** The conflict resolver. */
  resolver: ConflictResolver;
  /** Majority side during the partition, or null. */
  majorityNodes: readonly NodeId[] | null;
}

/** Advances a run with one reply. Replies from replicas not awaited are ignored. */
export function stepReconciliation(
  run: ReconciliationRun,
  event: ReconciliationEvent,
  nowMs: number,
  rules: ReconciliationRules,
): ReconciliationStepResult {
  if (!run.awaiting.includes(event.nodeId)) return { run, effects: [] };
  if (event.type === 'node-failed') return retryOrEscalate(run, `replica ${event.nodeId} failed: ${event.reason}`, nowMs);
  const awaiting = run.awaiting.filter((nodeId) => nodeId !== event.nodeId);
  if (run.phase === 'collecting' && event.type === 'changes-collected') {
    const collected = [...run.collected, { nodeId: event.nodeId, changes: event.changes }];
    if (awaiting.length > 0) return { run: { ...run, awaiting, collected }, effects: [] };
    return onCollected({ ...run, collected }, rules.resolver, rules.majorityNodes);
  }
  if (run.phase === 'syncing' && event.type === 'sync-applied') {
    if (awaiting.length > 0) return { run: { ...run, awaiting }, effects: [] };
    return { run: { ...run, phase: 'verifying', awaiting: run.nodeIds, digests: [] }, effects: [collectDigests(run)] };
  }
  if (run.phase === 'verifying' && event.type === 'digest-reported') {
    const digests = [...run.digests, event.digest];
    if (awaiting.length > 0) return { run: { ...run, awaiting, digests }, effects: [] };
    return onVerified({ ...run, awaiting, digests }, nowMs);
  }
  return { run, effects: [] };
}

function onVerified(run: ReconciliationRun, nowMs: number): ReconciliationStepResult {
  if (!digestsAgree(run.digests)) {
    const ratio = estimateDivergenceRatio(run.digests);
    return retryOrEscalate(run, `digests disagree (up to ${(ratio * 100).toFixed(2)} % of keys)`, nowMs);
  }
  const report = finalReport(run, nowMs, true);
  const effects: ReconciliationEffect[] = report === null ? [] : [{ kind: 'reconciliation-completed', report }];
  return { run: { ...run, phase: 'completed', report }, effects };
}
