/**
 * The directed reachability matrix of a cluster and the graph questions asked of it.
 * Pure: callers pass the time in.
 */
import { DisjointSets } from './disjoint-sets';
import type { NodeId } from './protocol';

/** One directed cell: what `from` last said about `to`. */
export interface ReachabilityCell {
  /** Whether `from` currently hears `to`. */
  reachable: boolean;
  /** When `from` reported this (server receive time, ms since epoch). */
  reportedAtMs: number;
  /** When the value last changed according to `from` (ms since epoch). */
  sinceMs: number;
  /** Detector suspicion carried from the report. */
  suspicion: number;
  /** Measured extra delay (ms) of `to`'s datagrams at `from`, when the report carried one. */
  delayMs?: number;
  /** Median transit time of `to`'s heartbeats at `from` (ms, includes clock offset), when the report carried it. */
  transitMs?: number | null;
  /** Share of `to`'s heartbeats lost on the way to `from` (0–1), when the report carried it. */
  lossRatio?: number | null;
  /**
   * When `from` last heard `to` (server time, ms: the report's receive time less the
   * observation's age on the agent's own clock, so agent clock skew cancels out); null
   * when it never has; absent when the writer did not say (hand-built cells).
   */
  heardAtMs?: number | null;
}

/** Directed matrix: `cells.get(from)?.get(to)` is what `from` says about `to`. */
export interface ReachabilityMatrix {
  /** Every node known to the cluster, in stable (sorted) order. */
  nodes: NodeId[];
  cells: Map<NodeId, Map<NodeId, ReachabilityCell>>;
}

/** An undirected link state between two nodes, derived from both directions. */
export type LinkState = 'up' | 'down' | 'one-way' | 'unknown';

/** A pair of nodes and how they can talk. */
export interface Link {
  a: NodeId;
  b: NodeId;
  state: LinkState;
  /** For one-way links: the direction that still works, a → b means b hears a. */
  workingDirection?: { from: NodeId; to: NodeId };
}

/** Creates an empty matrix over the given nodes. */
export function createMatrix(nodes: Iterable<NodeId>): ReachabilityMatrix {
  return { nodes: [...new Set(nodes)].sort(), cells: new Map() };
}

/** Returns `from`'s view of `to`, or undefined when it has said nothing. */
export function findCell(matrix: ReachabilityMatrix, from: NodeId, to: NodeId): ReachabilityCell | undefined {
  return matrix.cells.get(from)?.get(to);
}

/**
 * Whether `to` hears `from` (datagrams from → to arrive). Agents report who they
 * hear, so the cell is read the other way round: `to`'s observation of `from`.
 */
export function canDeliver(matrix: ReachabilityMatrix, from: NodeId, to: NodeId): boolean | undefined {
  return findCell(matrix, to, from)?.reachable;
}

/**
 * Derives the undirected state of the pair (a, b) from both directions. A direction
 * counts as broken only when the receiving side says so; a direction nobody has
 * reported on (the receiver's reports are missing or stale) is not evidence of a cut.
 */
export function linkBetween(matrix: ReachabilityMatrix, a: NodeId, b: NodeId): Link {
  return linkFromDirections(a, b, canDeliver(matrix, a, b), canDeliver(matrix, b, a));
}

/**
 * The undirected state of (a, b) from whether each direction delivers (`aToB`: b hears a),
 * undefined meaning nobody fresh said; the rule `linkBetween` applies, for callers that
 * already hold both directions.
 */
export function linkFromDirections(a: NodeId, b: NodeId, aToB: boolean | undefined, bToA: boolean | undefined): Link {
  if (aToB === undefined && bToA === undefined) return { a, b, state: 'unknown' };
  if (aToB !== false && bToA !== false) return { a, b, state: 'up' };
  if (aToB === false && bToA === false) return { a, b, state: 'down' };
  if (aToB === false && bToA === undefined) return { a, b, state: 'down' };
  if (bToA === false && aToB === undefined) return { a, b, state: 'down' };
  return aToB === true
    ? { a, b, state: 'one-way', workingDirection: { from: a, to: b } }
    : { a, b, state: 'one-way', workingDirection: { from: b, to: a } };
}

/** Every unordered pair of known nodes with its link state. */
export function allLinks(matrix: ReachabilityMatrix): Link[] {
  const links: Link[] = [];
  const { nodes } = matrix;
  for (let i = 0; i < nodes.length; i += 1) {
    for (let j = i + 1; j < nodes.length; j += 1) {
      links.push(linkBetween(matrix, nodes[i]!, nodes[j]!));
    }
  }
  return links;
}

/**
 * Connected components of the graph whose edges are links that work in at least
 * one direction. Nodes with no edge form components of their own. Components are
 * sorted by size (largest first), then by their first node id, so the result is stable.
 */
export function connectedComponents(nodes: readonly NodeId[], links: readonly Link[]): NodeId[][] {
  const position = new Map(nodes.map((node, index) => [node, index]));
  const sets = new DisjointSets(nodes.length);
  for (const link of links) {
    if (link.state !== 'up' && link.state !== 'one-way') continue;
    const a = position.get(link.a);
    const b = position.get(link.b);
    if (a !== undefined && b !== undefined) sets.union(a, b);
  }
  return sets.components(nodes);
}

/** Sets a cell, returning whether the reachable value changed. */
export function setCell(matrix: ReachabilityMatrix, from: NodeId, to: NodeId, cell: ReachabilityCell): boolean {
  let row = matrix.cells.get(from);
  if (!row) {
    row = new Map();
    matrix.cells.set(from, row);
  }
  const previous = row.get(to);
  row.set(to, cell);
  addNode(matrix, from);
  addNode(matrix, to);
  return previous?.reachable !== cell.reachable;
}

/** What one report says about one peer: the fields of an observation a cell keeps. */
export interface RowEntry {
  /** The peer the observation is about. */
  peerId: NodeId;
  /** Whether the observer hears the peer. */
  reachable: boolean;
  /** When the observer's view last changed (ms). */
  sinceMs: number;
  /** Detector suspicion carried from the report. */
  suspicion: number;
  /** Measured extra delay (ms), when the observer measured one. */
  delayMs?: number;
  /** Heartbeat transit time and loss, when the report carried them. */
  transitMs?: number | null;
  lossRatio?: number | null;
  /** When the observer last heard the peer, on the observer's clock (ms), or null; absent when not said. */
  lastHeardAtMs?: number | null;
}

/** `heardAtMs` of a cell from an observation's last hearing (agent clock) and its report's send (agent clock) and receive (server clock) times. */
function heardAtOf(entry: RowEntry, reportedAtMs: number, sentAtMs: number | undefined): number | null | undefined {
  if (sentAtMs === undefined || entry.lastHeardAtMs === undefined) return undefined;
  return entry.lastHeardAtMs === null ? null : reportedAtMs - Math.max(0, sentAtMs - entry.lastHeardAtMs);
}

/**
 * Writes a whole report into `from`'s row at once, received at `reportedAtMs`: the bulk
 * form of `setCell`, for reports that carry one observation per peer. Existing cell
 * objects are updated in place (a large cluster rewrites every cell every interval, and
 * fresh objects would only feed the garbage collector), so callers must copy a cell they
 * want to keep as it was. Returns the peers whose reachable value changed, in entry order.
 * With the report's send time (`sentAtMs`, agent clock) each cell also keeps when the
 * observer last heard the peer (`heardAtMs`), which the classifier reads.
 */
export function setRow(matrix: ReachabilityMatrix, from: NodeId, entries: readonly RowEntry[], reportedAtMs: number, sentAtMs?: number): NodeId[] {
  let row = matrix.cells.get(from);
  if (!row) {
    row = new Map();
    matrix.cells.set(from, row);
  }
  addNode(matrix, from);
  const changed: NodeId[] = [];
  for (const entry of entries) {
    const previous = row.get(entry.peerId);
    if (previous?.reachable !== entry.reachable) changed.push(entry.peerId);
    if (previous) {
      previous.reachable = entry.reachable;
      previous.reportedAtMs = reportedAtMs;
      previous.sinceMs = entry.sinceMs;
      previous.suspicion = entry.suspicion;
      if (entry.delayMs !== undefined || previous.delayMs !== undefined) previous.delayMs = entry.delayMs;
      if (entry.transitMs !== undefined) previous.transitMs = entry.transitMs;
      if (entry.lossRatio !== undefined) previous.lossRatio = entry.lossRatio;
      const heardAtMs = heardAtOf(entry, reportedAtMs, sentAtMs);
      if (heardAtMs !== undefined || previous.heardAtMs !== undefined) previous.heardAtMs = heardAtMs;
      continue;
    }
    const cell: ReachabilityCell = { reachable: entry.reachable, reportedAtMs, sinceMs: entry.sinceMs, suspicion: entry.suspicion };
    if (entry.delayMs !== undefined) cell.delayMs = entry.delayMs;
    if (entry.transitMs !== undefined) cell.transitMs = entry.transitMs;
    if (entry.lossRatio !== undefined) cell.lossRatio = entry.lossRatio;
    const heardAtMs = heardAtOf(entry, reportedAtMs, sentAtMs);
    if (heardAtMs !== undefined) cell.heardAtMs = heardAtMs;
    row.set(entry.peerId, cell);
    addNode(matrix, entry.peerId);
  }
  return changed;
}

/**
 * Adds `node` to the matrix's node list unless it is there. The list is kept sorted, so
 * the common case (already known) is a binary search; a miss falls back to the full scan
 * so that a hand-built, unsorted list behaves as before.
 */
function addNode(matrix: ReachabilityMatrix, node: NodeId): void {
  const { nodes } = matrix;
  let low = 0;
  let high = nodes.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (nodes[middle]! < node) low = middle + 1;
    else high = middle;
  }
  if (nodes[low] === node || nodes.includes(node)) return;
  nodes.push(node);
  nodes.sort();
}
