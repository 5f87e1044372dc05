/**
 * A cluster has no lifecycle of its own: its state is derived from its active
 * partitions, the most severe one deciding, and Normal when none is active.
 */
import type { LifecycleState } from './lifecycle-definition';
import type { PartitionLifecycleState } from './partition-lifecycle';

/**
 * Severity of each state, for the cluster view: emergency first (writes refused
 * everywhere), then a partition not yet handled, then handled, then reconciling.
 */
export const stateSeverity: Readonly<Record<LifecycleState, number>> = {
  Normal: 0,
  ReconciliationMode: 1,
  DegradedOperation: 2,
  PartitionDetected: 3,
  EmergencyMode: 4,
};

/** The cluster's state and the partitions that make it so. */
export interface ClusterStateView {
  /** The most severe state among active partitions, or Normal. */
  state: LifecycleState;
  /** Ids of partitions not yet closed. */
  activePartitionIds: string[];
  /** Ids of the partitions in `state` (the ones that decide it). */
  decidingPartitionIds: string[];
}

/** Derives the cluster's state from its partitions' lifecycles. */
export function deriveClusterState(partitions: readonly PartitionLifecycleState[]): ClusterStateView {
  const active = partitions.filter((partition) => partition.closedAtMs === null && partition.state !== 'Normal');
  let state: LifecycleState = 'Normal';
  for (const partition of active) if (stateSeverity[partition.state] > stateSeverity[state]) state = partition.state;
  return {
    state,
    activePartitionIds: active.map((partition) => partition.partitionId).sort(),
    decidingPartitionIds: active.filter((partition) => partition.state === state).map((partition) => partition.partitionId).sort(),
  };
}
