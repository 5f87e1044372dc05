/**
 * Small helpers the topology, the matrix and the evidence panel share: the key of
 * a node pair, what one node can reach, and the keyboard's walk over the nodes.
 * Where things are drawn is components/topology/layout.ts.
 */
import type { ClusterSnapshot } from '../core/realtime-contract';
import type { Link } from '../core/reachability';

/** Key of an unordered pair. */
export function pairKey(a: string, b: string): string {
  return a < b ? `${a}|${b}` : `${b}|${a}`;
}

/** How `viewpoint` and `other` can talk: both ways, only one way (which), or not at all. */
export function viewFrom(viewpoint: string, other: string, broken: Map<string, Link>): 'both' | 'hears-only' | 'heard-only' | 'none' | 'unknown' {
  const link = broken.get(pairKey(viewpoint, other));
  if (!link || link.state === 'up') return 'both';
  if (link.state === 'down') return 'none';
  if (link.state === 'unknown') return 'unknown';
  // One-way: workingDirection.from → to still arrives.
  return link.workingDirection?.to === viewpoint ? 'hears-only' : 'heard-only';
}

/** Compares ids with numeric parts as numbers; one collator (a new one per comparison made 1,000-node sorts slow). */
const idCollator = new Intl.Collator('en', { numeric: true });

/** Nodes skipped by PageUp / PageDown in the WebGL topology's keyboard list. */
export const keyboardPageNodes = 10;

/**
 * The order the keyboard walks the WebGL topology's nodes: side by side as drawn,
 * by id inside a side (numeric parts compared as numbers, so node-2 comes before node-10).
 */
export function keyboardNodeOrder(snapshot: ClusterSnapshot): string[] {
  const sideOf = new Map<string, number>();
  snapshot.verdict.components.forEach((component, index) => component.forEach((id) => sideOf.set(id, index)));
  const unsided = snapshot.verdict.components.length;
  return snapshot.nodes
    .map((node) => node.id)
    .sort((a, b) => (sideOf.get(a) ?? unsided) - (sideOf.get(b) ?? unsided) || idCollator.compare(a, b));
}

/** The node a key moves to from `current` (null: none active yet, when every move but End starts at the first node), or undefined when the key is not a move. */
export function keyboardMove(order: readonly string[], current: string | null, key: string): string | undefined {
  if (order.length === 0) return undefined;
  const index = current === null ? -1 : order.indexOf(current);
  const at = (position: number) => order[Math.min(order.length - 1, Math.max(0, position))]!;
  switch (key) {
    case 'ArrowRight':
    case 'ArrowDown':
      return index < 0 ? order[0] : at(index + 1);
    case 'ArrowLeft':
    case 'ArrowUp':
      return index < 0 ? order[0] : at(index - 1);
    case 'PageDown':
      return index < 0 ? order[0] : at(index + keyboardPageNodes);
    case 'PageUp':
      return index < 0 ? order[0] : at(index - keyboardPageNodes);
    case 'Home':
      return order[0];
    case 'End':
      return order.at(-1);
    default:
      return undefined;
  }
}

/** Most matches the topology's search box lists. */
export const searchMatchesMax = 8;

/** Ids matching `query`: exact first, then by prefix, then anywhere, ids compared numerically. */
export function searchNodes(ids: readonly string[], query: string, max = searchMatchesMax): string[] {
  const wanted = query.trim().toLowerCase();
  if (!wanted) return [];
  const rank = (id: string) => (id.toLowerCase() === wanted ? 0 : id.toLowerCase().startsWith(wanted) ? 1 : 2);
  return ids
    .filter((id) => id.toLowerCase().includes(wanted))
    .sort((a, b) => rank(a) - rank(b) || idCollator.compare(a, b))
    .slice(0, max);
}
