/**
 * How a cluster behaves while split: the handling mode per partition type, when to
 * declare emergency mode, which resolver reconciles, and the gates of recovery.
 * Configurable per cluster; parsed once with zod; the decision functions are pure.
 */
import { z } from 'zod';
import type { PartitionType } from '../classify-partition';
import type { NodeId } from '../protocol';
import type { ResolverName } from '../reconcile/resolver';
import { MonitoringThresholdsSchema, type MonitoringThresholds, briefThresholds } from './thresholds';

/**
 * What each side may do while split. `consistency-first`: sides without a majority are
 * fenced read-only, so no write can conflict. `availability-first`: every side keeps
 * accepting writes, and reconciliation settles conflicts after the heal.
 */
export type HandlingMode = 'consistency-first' | 'availability-first';

/** How an agent restricts its store: `read-only` refuses writes, `critical-only` accepts only writes marked critical. */
export type FenceMode = 'read-only' | 'critical-only';

/** The recovery strategies of the brief. */
export type RecoveryStrategy = 'automatic' | 'manual' | 'phased';

/** Why a partition is critical and the cluster enters emergency mode. */
export type EmergencyReason = 'no-majority' | 'byzantine-evidence' | 'divergence-exceeded' | 'flapping' | 'operator';

/** A cluster's policy. */
export interface ClusterPolicy {
  /** Handling mode per partition type. */
  handling: Record<PartitionType, HandlingMode>;
  /** Conflict resolver used by reconciliation. */
  resolver: ResolverName;
  /** Alert thresholds; `divergenceRatioMax` is also the emergency divergence limit. */
  thresholds: MonitoringThresholds;
  /** A healed partition must stay healed this long before the cluster returns to Normal (ms). */
  stabilityWindowMs: number;
  /** Re-splits (heal then split again) after which a partition is treated as critical. */
  flapsBeforeEmergency: number;
  /** Reconciliation attempts before escalating to an operator. */
  reconcileAttemptsMax: number;
  /** Nodes rejoined per step of a phased recovery. */
  phaseGroupSizeMax: number;
  /** An acknowledged alert fires again if unresolved this long after acknowledgement (ms). */
  acknowledgementTimeoutMs: number;
  /**
   * Reconciliation collects changes from this long before detection (ms): a partition
   * begins before detectors notice it (missed heartbeats), and clocks drift a little.
   */
  collectLookbackMs: number;
}

/** The defaults: consistency first where sides are cleanly split, availability first for partial links. */
export const defaultClusterPolicy: ClusterPolicy = {
  handling: { complete: 'consistency-first', partial: 'availability-first', asymmetric: 'availability-first', byzantine: 'consistency-first' },
  resolver: 'last-writer-wins',
  thresholds: briefThresholds,
  stabilityWindowMs: 30_000,
  flapsBeforeEmergency: 3,
  reconcileAttemptsMax: 3,
  phaseGroupSizeMax: 1,
  acknowledgementTimeoutMs: 30 * 60_000,
  collectLookbackMs: 60_000,
};

const handlingModeSchema = z.enum(['consistency-first', 'availability-first']);

/** Validates a stored or submitted cluster policy; every missing field takes its default. */
export const ClusterPolicySchema = z.strictObject({
  handling: z
    .strictObject({
      complete: handlingModeSchema.default(defaultClusterPolicy.handling.complete),
      partial: handlingModeSchema.default(defaultClusterPolicy.handling.partial),
      asymmetric: handlingModeSchema.default(defaultClusterPolicy.handling.asymmetric),
      byzantine: handlingModeSchema.default(defaultClusterPolicy.handling.byzantine),
    })
    .prefault({}),
  resolver: z.enum(['last-writer-wins', 'prefer-majority-side']).default(defaultClusterPolicy.resolver),
  thresholds: MonitoringThresholdsSchema.prefault({}),
  stabilityWindowMs: z.number().int().nonnegative().max(3_600_000).default(defaultClusterPolicy.stabilityWindowMs),
  flapsBeforeEmergency: z.number().int().positive().max(1000).default(defaultClusterPolicy.flapsBeforeEmergency),
  reconcileAttemptsMax: z.number().int().positive().max(20).default(defaultClusterPolicy.reconcileAttemptsMax),
  phaseGroupSizeMax: z.number().int().positive().max(1000).default(defaultClusterPolicy.phaseGroupSizeMax),
  acknowledgementTimeoutMs: z.number().int().positive().max(7 * 24 * 3_600_000).default(defaultClusterPolicy.acknowledgementTimeoutMs),
  collectLookbackMs: z.number().int().nonnegative().max(24 * 3_600_000).default(defaultClusterPolicy.collectLookbackMs),
});

/** What policy needs to know about a partition. */
export interface PartitionFacts {
  /** Classifier's type. */
  type: PartitionType;
  /** Sides (components), largest first, as the classifier gives them. */
  sides: NodeId[][];
  /** Index of the side holding a strict majority, or null. */
  majorityIndex: number | null;
  /** Whether byzantine evidence (signed contradictions; bad signatures and replays are untrusted traffic, never this) was seen. */
  byzantineEvidence: boolean;
  /** Latest measured divergence ratio, or null when not yet measured. */
  divergenceRatio: number | null;
  /** Times this partition healed and split again. */
  flapCount: number;
  /** The cut (or one-way) links at the latest classification, for the alert's words; absent in older saved states. */
  cutLinks?: { a: NodeId; b: NodeId }[];
}

/** An order to fence some nodes. */
export interface FenceOrder {
  /** Nodes to fence. */
  nodeIds: NodeId[];
  /** How. */
  mode: FenceMode;
}

/** What policy decides for a partition while it lasts. */
export interface HandlingDecision {
  /** `emergency` keeps only critical operations everywhere; `degraded` applies the handling mode. */
  mode: 'degraded' | 'emergency';
  /** The handling mode configured for this type. */
  handling: HandlingMode;
  /** Why the partition is critical; empty when it is not. */
  emergencyReasons: EmergencyReason[];
  /** Fences to apply; nodes not listed are unfenced. */
  fences: FenceOrder[];
}

/** The reasons that make a partition critical (emergency mode), in a fixed order. */
export function emergencyReasonsOf(facts: PartitionFacts, policy: ClusterPolicy): EmergencyReason[] {
  const reasons: EmergencyReason[] = [];
  if (facts.sides.length > 1 && facts.majorityIndex === null) reasons.push('no-majority');
  if (facts.byzantineEvidence || facts.type === 'byzantine') reasons.push('byzantine-evidence');
  if (facts.divergenceRatio !== null && facts.divergenceRatio > policy.thresholds.divergenceRatioMax) {
    reasons.push('divergence-exceeded');
  }
  if (facts.flapCount >= policy.flapsBeforeEmergency) reasons.push('flapping');
  return reasons;
}

/** Nodes outside the majority side (all nodes but the majority's). */
export function minorityNodes(facts: PartitionFacts): NodeId[] {
  return facts.sides.filter((_, index) => index !== facts.majorityIndex).flat().sort();
}

/** Decides how the cluster handles a partition. `forcedEmergency` adds the operator's own declaration. */
export function decideHandling(facts: PartitionFacts, policy: ClusterPolicy, forcedEmergency = false): HandlingDecision {
  const handling = policy.handling[facts.type];
  const emergencyReasons = emergencyReasonsOf(facts, policy);
  if (forcedEmergency) emergencyReasons.push('operator');
  if (emergencyReasons.length > 0) {
    const everyone = facts.sides.flat().sort();
    return { mode: 'emergency', handling, emergencyReasons, fences: [{ nodeIds: everyone, mode: 'critical-only' }] };
  }
  const minority = handling === 'consistency-first' ? minorityNodes(facts) : [];
  const fences: FenceOrder[] = minority.length > 0 ? [{ nodeIds: minority, mode: 'read-only' }] : [];
  return { mode: 'degraded', handling, emergencyReasons, fences };
}
