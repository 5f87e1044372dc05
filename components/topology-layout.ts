/**
 * Where each node is drawn. Each side of a partition gets its own area, so the
 * sides are visibly apart; inside a side, nodes sit in id order on a circle (small
 * sides) or a sunflower spiral (large ones, up to hundreds of nodes), so the same
 * membership always gives the same picture and nodes do not jump between updates.
 */
import type { ClusterSnapshot } from '../core/realtime-contract';
import type { Link } from '../core/reachability';

/** A point in the drawing's coordinates. */
export interface Point {
  x: number;
  y: number;
}

/** Sides with at most this many nodes are drawn as a circle; larger ones as a spiral. */
const circleNodesMax = 16;
/** Golden angle (radians): successive spiral points never line up. */
const goldenAngle = Math.PI * (3 - Math.sqrt(5));

function placeGroup(ids: string[], center: Point, radius: number, positions: Map<string, Point>): void {
  if (ids.length === 1) {
    positions.set(ids[0]!, center);
    return;
  }
  if (ids.length <= circleNodesMax) {
    ids.forEach((id, index) => {
      const angle = (2 * Math.PI * index) / ids.length - Math.PI / 2;
      positions.set(id, { x: center.x + radius * Math.cos(angle), y: center.y + radius * Math.sin(angle) });
    });
    return;
  }
  ids.forEach((id, index) => {
    const distance = radius * Math.sqrt((index + 0.5) / ids.length);
    positions.set(id, { x: center.x + distance * Math.cos(index * goldenAngle), y: center.y + distance * Math.sin(index * goldenAngle) });
  });
}

/** The sides to draw: the verdict's components, then any node in none of them (unknown). */
export function groupsOf(snapshot: ClusterSnapshot): string[][] {
  const placed = new Set(snapshot.verdict.components.flat());
  const known = new Set(snapshot.nodes.map((node) => node.id));
  const groups = snapshot.verdict.components.map((component) => component.filter((id) => known.has(id)).sort()).filter((group) => group.length > 0);
  const rest = snapshot.nodes.map((node) => node.id).filter((id) => !placed.has(id)).sort();
  return rest.length > 0 ? [...groups, rest] : groups;
}

/** Positions of every node in a square drawing of side `size`. */
export function layoutTopology(snapshot: ClusterSnapshot, size: number): Map<string, Point> {
  const positions = new Map<string, Point>();
  const groups = groupsOf(snapshot);
  const center = { x: size / 2, y: size / 2 };
  if (groups.length <= 1) {
    placeGroup(groups[0] ?? [], center, size * 0.4, positions);
    return positions;
  }
  const total = groups.reduce((sum, group) => sum + group.length, 0);
  const orbit = size * 0.3;
  groups.forEach((group, index) => {
    const angle = (2 * Math.PI * index) / groups.length - Math.PI / 2;
    const groupCenter = { x: center.x + orbit * Math.cos(angle), y: center.y + orbit * Math.sin(angle) };
    const share = Math.sqrt(group.length / total);
    placeGroup(group, groupCenter, Math.max(size * 0.05, Math.min(size * 0.2, size * 0.28 * share)), positions);
  });
  return fitInside(positions, size);
}

/** Room kept around the drawing for node circles and their labels. */
const layoutMarginRatio = 0.09;

/** Scales positions about the centre so that every node (and its label) stays inside the square. */
function fitInside(positions: Map<string, Point>, size: number): Map<string, Point> {
  const margin = size * layoutMarginRatio;
  const center = size / 2;
  let reach = 0;
  for (const point of positions.values()) reach = Math.max(reach, Math.abs(point.x - center), Math.abs(point.y - center));
  const allowed = center - margin;
  if (reach <= allowed) return positions;
  const scale = allowed / reach;
  return new Map([...positions].map(([id, point]) => [id, { x: center + (point.x - center) * scale, y: center + (point.y - center) * scale }]));
}

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

/** Nodes skipped by PageUp / PageDown in the canvas topology's keyboard list. */
export const keyboardPageNodes = 10;

/**
 * The order the keyboard walks the canvas topology's nodes: side by side as drawn,
 * by id inside a side (numeric parts compared as numbers, so node-2 comes before node-10).
 */
export function keyboardNodeOrder(snapshot: ClusterSnapshot): string[] {
  const sideOf = new Map<string, number>();
  snapshot.verdict.components.forEach((component, index) => component.forEach((id) => sideOf.set(id, index)));
  const unsided = snapshot.verdict.components.length;
  return snapshot.nodes
    .map((node) => node.id)
    .sort((a, b) => (sideOf.get(a) ?? unsided) - (sideOf.get(b) ?? unsided) || a.localeCompare(b, 'en', { numeric: true }));
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
