/**
 * The dry run shown before an operator approves a recovery: quorum arithmetic, the
 * nodes affected, how many keys differ, how many conflicts the resolver will decide
 * and by which rule, and the steps the chosen strategy will take. Nothing is applied.
 */
import type { NodeId } from '../protocol';
import { type PlanChanges, type ReplicaChanges, describePlanChanges, planReconciliation } from '../reconcile/plan-reconciliation';
import { resolvers } from '../reconcile/resolver';
import type { ClusterPolicy, PartitionFacts } from './cluster-policy';
import { buildPhasedPlan } from './phased-plan';
import type { StrategyChoice } from './recovery-strategy';

/** Conflicts shown one by one in a dry run; the rest are counted. */
export const dryRunConflictSamplesMax = 20;

/** Quorum arithmetic for one partition. */
export interface QuorumArithmetic {
  /** Nodes in the cluster. */
  clusterSize: number;
  /** Nodes needed for a strict majority: floor(n / 2) + 1. */
  quorumSize: number;
  /** Each side, its size and whether it holds a quorum. */
  sides: { nodeIds: NodeId[]; size: number; hasQuorum: boolean }[];
  /** Index of the quorum side, or null. */
  majorityIndex: number | null;
}

/** The whole dry run. */
export interface DryRun {
  /** The partition. */
  partitionId: string;
  /** Quorum arithmetic. */
  quorum: QuorumArithmetic;
  /** The chosen recovery strategy and why. */
  strategy: StrategyChoice;
  /** Per node: keys it will receive and their size; nodes with nothing to receive are listed with zeros. */
  affectedNodes: { nodeId: NodeId; keysToReceive: number; bytesToReceive: number }[];
  /**
   * Distinct keys on which replicas do not all hold the same version now: the keys
   * reconciliation will move. The same quantity as the numerator of the partition's
   * divergence ratio (which divides it by the size of the key space).
   */
  keysDiffering: number;
  /** Distinct keys written on some side since the partition began (compared; many may already agree). Absent in plans stored before it existed. */
  keysChanged?: number;
  /** How conflicts will be decided. */
  conflicts: {
    /** Number of keys with conflicting versions. */
    total: number;
    /** The resolver's configured name. */
    resolver: string;
    /** The resolver's rule in one sentence. */
    description: string;
    /** Conflict counts per deciding rule. */
    byRule: Record<string, number>;
    /** A few examples: key, kept version's holders, discarded versions' holders. */
    samples: { key: string; rule: string; keptFrom: NodeId[]; discardedFrom: NodeId[][] }[];
  };
  /** Total bytes reconciliation would move. */
  bytesToMove: number;
  /** The real rows or keys that will change: per table (key group), and the first keys per node. */
  changes?: PlanChanges;
  /** The steps in order, in words, for the approval screen. */
  steps: string[];
}

/** Computes quorum arithmetic for a set of sides. */
export function quorumArithmetic(sides: readonly (readonly NodeId[])[]): QuorumArithmetic {
  const clusterSize = sides.reduce((sum, side) => sum + side.length, 0);
  const quorumSize = Math.floor(clusterSize / 2) + 1;
  const described = sides.map((side) => ({ nodeIds: [...side], size: side.length, hasQuorum: side.length >= quorumSize }));
  const majorityIndex = described.findIndex((side) => side.hasQuorum);
  return { clusterSize, quorumSize, sides: described, majorityIndex: majorityIndex === -1 ? null : majorityIndex };
}

function describeSteps(partitionId: string, facts: PartitionFacts, policy: ClusterPolicy, choice: StrategyChoice): string[] {
  const finish = 'verify every replica digest agrees, then return to Normal after the stability window';
  if (choice.strategy === 'phased') {
    const plan = buildPhasedPlan(partitionId, facts, policy.phaseGroupSizeMax);
    return [...plan.groups.map((group, index) => `group ${index + 1}: unfence → sync → verify [${group.join(', ')}]`), finish];
  }
  const start = choice.strategy === 'manual' ? 'wait for operator approval' : 'start when the partition heals';
  return [start, 'unfence all nodes', 'collect changes since partition start, resolve, send sync sets', finish];
}

/** Builds the dry run from the partition, the policy, the chosen strategy and the changes collected from replicas. */
export function buildDryRun(input: {
  partitionId: string;
  facts: PartitionFacts;
  policy: ClusterPolicy;
  strategy: StrategyChoice;
  replicas: readonly ReplicaChanges[];
}): DryRun {
  const resolver = resolvers[input.policy.resolver];
  const majorityNodes = input.facts.majorityIndex === null ? null : (input.facts.sides[input.facts.majorityIndex] ?? null);
  const plan = planReconciliation({ replicas: input.replicas, resolver, majorityNodes });
  const byRule: Record<string, number> = {};
  for (const conflict of plan.conflicts) byRule[conflict.rule] = (byRule[conflict.rule] ?? 0) + 1;
  return {
    partitionId: input.partitionId,
    quorum: quorumArithmetic(input.facts.sides),
    strategy: input.strategy,
    affectedNodes: plan.syncSets.map((set) => ({ nodeId: set.nodeId, keysToReceive: set.entries.length, bytesToReceive: set.bytes })),
    keysDiffering: plan.keysDiffering,
    keysChanged: plan.keysCompared,
    conflicts: {
      total: plan.conflicts.length,
      resolver: resolver.name,
      description: resolver.description,
      byRule,
      samples: plan.conflicts.slice(0, dryRunConflictSamplesMax).map((conflict) => ({
        key: conflict.key,
        rule: conflict.rule,
        keptFrom: conflict.winner.holders,
        discardedFrom: conflict.losers.map((loser) => loser.holders),
      })),
    },
    bytesToMove: plan.bytesToMove,
    changes: describePlanChanges(plan),
    steps: describeSteps(input.partitionId, input.facts, input.policy, input.strategy),
  };
}
