/**
 * Plane geometry the topology's layout and its tests share: distance from a point
 * to a segment, and the check that no drawn edge passes over a node it does not
 * join. Pure, so the same check runs on the layout in Node and on the positions
 * read back from the page in Chromium.
 */

/** A point in the drawing's coordinates (layout units, or pixels when read from a page). */
export interface Point {
  x: number;
  y: number;
}

/** Distance from `point` to the segment `from`–`to`. */
export function distanceToSegment(point: Point, from: Point, to: Point): number {
  const dx = to.x - from.x;
  const dy = to.y - from.y;
  const lengthSquared = dx * dx + dy * dy;
  const t = lengthSquared === 0 ? 0 : Math.max(0, Math.min(1, ((point.x - from.x) * dx + (point.y - from.y) * dy) / lengthSquared));
  return Math.hypot(point.x - (from.x + t * dx), point.y - (from.y + t * dy));
}

/** A node as drawn: centre and radius. */
export interface DrawnNode extends Point {
  id: string;
  radius: number;
}

/** An edge as drawn: the polyline through `points`, and the nodes it joins (none for a bundle between sides). */
export interface DrawnEdge {
  key: string;
  joins: readonly string[];
  points: readonly Point[];
}

/** One place where an edge runs over a node it does not join. */
export interface EdgeOverNode {
  edge: string;
  node: string;
  /** Distance from the node's centre to the nearest point of the edge. */
  distance: number;
  radius: number;
}

/**
 * Every edge segment that comes within `radiusFactor` × a node's radius of a node
 * the edge does not join. An empty list means no edge can be mistaken for one
 * running through that node.
 */
export function edgesOverNodes(nodes: readonly DrawnNode[], edges: readonly DrawnEdge[], radiusFactor = 1): EdgeOverNode[] {
  const found: EdgeOverNode[] = [];
  for (const edge of edges) {
    const joined = new Set(edge.joins);
    for (let index = 1; index < edge.points.length; index += 1) {
      const from = edge.points[index - 1]!;
      const to = edge.points[index]!;
      const left = Math.min(from.x, to.x);
      const right = Math.max(from.x, to.x);
      const top = Math.min(from.y, to.y);
      const bottom = Math.max(from.y, to.y);
      for (const node of nodes) {
        const reach = node.radius * radiusFactor;
        if (joined.has(node.id) || node.x < left - reach || node.x > right + reach || node.y < top - reach || node.y > bottom + reach) continue;
        const distance = distanceToSegment(node, from, to);
        if (distance < reach) found.push({ edge: edge.key, node: node.id, distance, radius: node.radius });
      }
    }
  }
  return found;
}

/** The point halfway along a polyline (by length), where a link's ✕ or a bundle's count is drawn. */
export function midpointOf(points: readonly Point[]): Point {
  const lengths = points.slice(1).map((point, index) => Math.hypot(point.x - points[index]!.x, point.y - points[index]!.y));
  let remaining = lengths.reduce((sum, length) => sum + length, 0) / 2;
  for (let index = 0; index < lengths.length; index += 1) {
    const length = lengths[index]!;
    if (remaining <= length && length > 0) {
      const from = points[index]!;
      const to = points[index + 1]!;
      return { x: from.x + ((to.x - from.x) * remaining) / length, y: from.y + ((to.y - from.y) * remaining) / length };
    }
    remaining -= length;
  }
  return points[0] ?? { x: 0, y: 0 };
}
