/**
 * Turns a directed reachability matrix into a verdict: is the cluster split, and how.
 * Pure and deterministic: the same matrix and time give the same verdict.
 */
import type { NodeId } from './protocol';
import { type Link, type ReachabilityMatrix, allLinks, connectedComponents } from './reachability';

/** The kinds of partition Faultline names. */
export type PartitionType = 'complete' | 'partial' | 'asymmetric' | 'byzantine';

/** Options of the classifier. */
export interface ClassifyOptions {
  /** Current time (ms since epoch). */
  nowMs: number;
  /** A cell older than this is stale and ignored (ms). */
  staleAfterMs: number;
}

/** The classifier's answer for one cluster at one instant. */
export interface PartitionVerdict {
  /** True when some pair of known nodes cannot talk in both directions. */
  partitioned: boolean;
  /** The kind of partition, or null when the cluster is whole. */
  type: PartitionType | null;
  /** Components of the "works in at least one direction" graph, largest first. */
  components: NodeId[][];
  /** Index in `components` of the side holding a strict majority of nodes, or null if none does. */
  majorityIndex: number | null;
  /** Links that are down or work only one way. */
  cutLinks: Link[];
  /** Nodes whose own reports are stale, so their outgoing view is unknown. */
  staleNodes: NodeId[];
}

/** Drops cells older than the staleness bound, returning a fresh-only matrix. */
function withoutStaleCells(matrix: ReachabilityMatrix, options: ClassifyOptions): {
  fresh: ReachabilityMatrix;
  staleNodes: NodeId[];
} {
  const fresh: ReachabilityMatrix = { nodes: matrix.nodes, cells: new Map() };
  const staleNodes: NodeId[] = [];
  for (const node of matrix.nodes) {
    const row = matrix.cells.get(node);
    if (!row) {
      staleNodes.push(node);
      continue;
    }
    const freshRow = new Map([...row].filter(([, cell]) => options.nowMs - cell.reportedAtMs <= options.staleAfterMs));
    if (freshRow.size === 0) staleNodes.push(node);
    fresh.cells.set(node, freshRow);
  }
  return { fresh, staleNodes };
}

/** Classifies the current reachability of a cluster. */
export function classifyPartition(matrix: ReachabilityMatrix, options: ClassifyOptions): PartitionVerdict {
  const { fresh, staleNodes } = withoutStaleCells(matrix, options);
  const links = allLinks(fresh);
  const cutLinks = links.filter((link) => link.state === 'down' || link.state === 'one-way');
  const components = connectedComponents(fresh.nodes, links);
  const total = fresh.nodes.length;
  const majorityIndex = components.findIndex((component) => component.length * 2 > total);
  const partitioned = cutLinks.length > 0;
  let type: PartitionType | null = null;
  if (components.length > 1) type = 'complete';
  else if (cutLinks.some((link) => link.state === 'down')) type = 'partial';
  else if (cutLinks.length > 0) type = 'asymmetric';
  return {
    partitioned,
    type,
    components,
    majorityIndex: majorityIndex === -1 ? null : majorityIndex,
    cutLinks,
    staleNodes,
  };
}
