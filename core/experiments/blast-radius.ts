/**
 * How many nodes an experiment affects, and whether that is within the limit.
 * A node is affected when it must be set aside for the rest to talk freely: at each
 * step, the nodes left out of the largest group whose links among themselves are
 * all healthy (found greedily: drop the node with the most impaired links until
 * none is left), plus the nodes cut from the control server. Isolating one node
 * affects one; splitting six into halves affects three; a flaky link affects one end.
 */
import type { FaultRule, NodeId } from '../protocol';

/** One moment of a planned run: every agent's rules and the nodes cut from the server. */
export interface PlannedStep {
  rules: ReadonlyMap<NodeId, readonly FaultRule[]>;
  controlPlaneCut: readonly NodeId[];
}

/** The limit: the run may affect at most `nodesMax` nodes and at most `fractionMax` of the cluster. */
export interface BlastRadiusLimit {
  nodesMax: number;
  fractionMax: number;
}

/** What the check found. */
export interface BlastRadius {
  /** Nodes affected at some step, sorted. */
  affected: NodeId[];
  /** Cluster size the fraction is taken of. */
  clusterNodes: number;
  /** Null when within the limit; otherwise the reason, for the operator. */
  refusal: string | null;
}

const pairKey = (a: NodeId, b: NodeId) => (a < b ? `${a}\u0000${b}` : `${b}\u0000${a}`);

/** Nodes set aside at one step (see the module comment). */
function affectedAt(step: PlannedStep, nodes: readonly NodeId[]): NodeId[] {
  const impaired = new Set<string>();
  for (const [owner, rules] of step.rules) for (const rule of rules) impaired.add(pairKey(owner, rule.peerId));
  const remaining = new Set(nodes);
  const setAside: NodeId[] = [...step.controlPlaneCut];
  // Bounded: each round removes one node.
  for (let round = 0; round < nodes.length; round += 1) {
    const degree = new Map<NodeId, number>();
    for (const key of impaired) {
      const [a, b] = key.split('\u0000') as [NodeId, NodeId];
      if (!remaining.has(a) || !remaining.has(b)) continue;
      degree.set(a, (degree.get(a) ?? 0) + 1);
      degree.set(b, (degree.get(b) ?? 0) + 1);
    }
    if (degree.size === 0) break;
    const [worst] = [...degree.entries()].sort((x, y) => y[1] - x[1] || x[0].localeCompare(y[0]));
    remaining.delete(worst![0]);
    setAside.push(worst![0]);
  }
  return setAside;
}

/** Judges the planned steps of a run on `nodes` against `limit`. */
export function blastRadiusOf(steps: readonly PlannedStep[], nodes: readonly NodeId[], limit: BlastRadiusLimit): BlastRadius {
  const affected = [...new Set(steps.flatMap((step) => affectedAt(step, nodes)))].sort();
  const fraction = nodes.length === 0 ? 0 : affected.length / nodes.length;
  const percent = (value: number) => `${Math.round(value * 100)} %`;
  let refusal: string | null = null;
  if (affected.length > limit.nodesMax) {
    refusal = `blast radius: ${affected.length} nodes affected (${affected.join(', ')}), above the limit of ${limit.nodesMax}; an experiment may allow more in experiment.blastRadius.nodesMax`;
  } else if (fraction > limit.fractionMax + 1e-9) {
    refusal = `blast radius: ${affected.length} of ${nodes.length} nodes affected (${percent(fraction)}: ${affected.join(', ')}), above the limit of ${percent(limit.fractionMax)}; an experiment may allow more in experiment.blastRadius.fractionMax`;
  }
  return { affected, clusterNodes: nodes.length, refusal };
}

/** The limit in force: the server's, raised where the experiment says so. */
export function effectiveLimit(server: BlastRadiusLimit, experiment: Partial<BlastRadiusLimit> | undefined): BlastRadiusLimit {
  return {
    nodesMax: Math.max(server.nodesMax, experiment?.nodesMax ?? 0),
    fractionMax: Math.max(server.fractionMax, experiment?.fractionMax ?? 0),
  };
}
