/**
 * "Reproduce this incident": writes a scenario file (sim/scenario.ts schema) that
 * plays a recorded partition's shape and timing on the same nodes. A complete
 * partition becomes a `partition` fault with its sides as groups; a partial or
 * asymmetric one becomes `drop` faults on its cut links (one direction for a
 * one-way link); a byzantine one corrupts what its nodes send. The nodes are the
 * cluster's own ids, in the order the live planner maps them, so the plan of the
 * file on the same cluster is the identity mapping.
 */
import type { PartitionType } from '../classify-partition';
import type { NodeId } from '../protocol';
import type { Link } from '../reachability';

/** Time before the fault (ms), so the run first sees a whole cluster. */
export const reproduceLeadInMs = 5_000;
/** Time after the heal (ms) the file's run lasts. */
export const reproduceTailMs = 30_000;
/** Longest fault a reproduction plays (ms); longer incidents are shortened, which the description says. */
export const reproduceFaultMsMax = 600_000;
/** Shortest fault a reproduction plays (ms). */
export const reproduceFaultMsMin = 1_000;

/** The recorded partition, as far as the reproduction needs it. */
export interface RecordedPartition {
  id: string;
  type: PartitionType;
  components: NodeId[][];
  cutLinks: Link[];
  nodeIds: NodeId[];
  startedAtMs: number;
  endedAtMs: number | null;
}

const byLiveOrder = (a: string, b: string) => a.localeCompare(b, 'en', { numeric: true });

function faultsOf(partition: RecordedPartition, atMs: number, untilMs: number): Record<string, unknown>[] {
  const window = { atMs, untilMs };
  if (partition.type === 'complete' && partition.components.length >= 2) {
    return [{ kind: 'partition', ...window, groups: partition.components.map((side) => [...side].sort(byLiveOrder)) }];
  }
  if (partition.type === 'byzantine') return [{ kind: 'corrupt', ...window, from: [...partition.nodeIds].sort(byLiveOrder), to: '*', ratio: 0.5 }];
  return partition.cutLinks.flatMap((link) => {
    if (link.state === 'one-way' && link.workingDirection) return [{ kind: 'drop', ...window, from: [link.workingDirection.to], to: [link.workingDirection.from] }];
    if (link.state !== 'down') return [];
    return [
      { kind: 'drop', ...window, from: [link.a], to: [link.b] },
      { kind: 'drop', ...window, from: [link.b], to: [link.a] },
    ];
  });
}

/** The scenario file reproducing `partition` on a cluster of `clusterNodes`; `nowMs` ends a partition still open. */
export function reproducePartition(partition: RecordedPartition, clusterNodes: readonly NodeId[], nowMs: number): Record<string, unknown> {
  const nodes = [...new Set([...clusterNodes, ...partition.components.flat(), ...partition.nodeIds])].sort(byLiveOrder);
  const lastedMs = Math.max(0, (partition.endedAtMs ?? nowMs) - partition.startedAtMs);
  const faultMs = Math.round(Math.min(reproduceFaultMsMax, Math.max(reproduceFaultMsMin, lastedMs)));
  const healAtMs = reproduceLeadInMs + faultMs;
  const shortened = lastedMs > reproduceFaultMsMax ? ` (shortened from ${Math.round(lastedMs / 1000)} s)` : '';
  const verdict: Record<string, unknown> = { kind: 'verdict', afterMs: reproduceLeadInMs, withinMs: 30_000, type: partition.type };
  if (partition.type === 'complete') verdict.components = partition.components.map((side) => [...side].sort(byLiveOrder));
  else verdict.sides = partition.components.map((side) => side.length).sort((a, b) => b - a);
  return {
    name: `reproduce-${partition.id.replace(/[^A-Za-z0-9]/g, '').slice(0, 12)}`,
    description: `Reproduces partition ${partition.id}: ${partition.type}, sides ${partition.components.map((side) => side.length).join('+')}, started ${new Date(partition.startedAtMs).toISOString()}, lasted ${Math.round(faultMs / 1000)} s${shortened}.`,
    nodes,
    seed: 1,
    durationMs: healAtMs + reproduceTailMs,
    faults: faultsOf(partition, reproduceLeadInMs, healAtMs),
    expect: [{ kind: 'quiet', untilMs: reproduceLeadInMs }, verdict, { kind: 'healed', afterMs: healAtMs, withinMs: reproduceTailMs }],
  };
}
