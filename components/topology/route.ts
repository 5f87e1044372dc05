/**
 * Edge routing: a straight line when it clears every node it does not join,
 * otherwise the first of a fixed list of bent paths (one bend each side of the
 * line at growing distances, then a bend towards the side's centre, then
 * two-bend brackets) that does. Nodes are bucketed in a grid so a check looks at
 * the few nodes near a segment, not all of them: routing stays fast at 1,000
 * nodes. Deterministic: the same positions always give the same paths.
 */
import { type Point, distanceToSegment } from './geometry';

/** A node the router must keep clear of. */
interface Obstacle extends Point {
  id: string;
}

/** Bend offsets tried, as fractions of the edge's length, on each side of the straight line. */
const bendFractions = [0.12, 0.22, 0.35, 0.5, 0.75, 1.1];
/** Bracket heights tried (two bends), in multiples of the clearance. */
const bracketClearances = [2, 4, 8, 16];

/** Nodes in square cells, for finding the nodes near a segment quickly. */
export class ObstacleGrid {
  private readonly cells = new Map<string, Obstacle[]>();
  constructor(
    obstacles: Iterable<Obstacle>,
    private readonly cellSize: number,
  ) {
    for (const obstacle of obstacles) {
      const key = this.keyOf(Math.floor(obstacle.x / cellSize), Math.floor(obstacle.y / cellSize));
      const cell = this.cells.get(key);
      if (cell) cell.push(obstacle);
      else this.cells.set(key, [obstacle]);
    }
  }

  private keyOf(column: number, row: number): string {
    return `${column},${row}`;
  }

  /**
   * The smallest distance from the segment to a node not in `joined`, looking only
   * at nodes within `reach` of it (Infinity when none is that close).
   */
  clearance(from: Point, to: Point, joined: ReadonlySet<string>, reach: number): number {
    const length = Math.hypot(to.x - from.x, to.y - from.y);
    const steps = Math.max(1, Math.ceil(length / this.cellSize));
    const span = Math.ceil(reach / this.cellSize + 0.5);
    const seen = new Set<string>();
    let nearest = Infinity;
    for (let step = 0; step <= steps; step += 1) {
      const x = from.x + ((to.x - from.x) * step) / steps;
      const y = from.y + ((to.y - from.y) * step) / steps;
      const column = Math.floor(x / this.cellSize);
      const row = Math.floor(y / this.cellSize);
      for (let dc = -span; dc <= span; dc += 1) {
        for (let dr = -span; dr <= span; dr += 1) {
          const key = this.keyOf(column + dc, row + dr);
          if (seen.has(key)) continue;
          seen.add(key);
          for (const obstacle of this.cells.get(key) ?? []) {
            if (!joined.has(obstacle.id)) nearest = Math.min(nearest, distanceToSegment(obstacle, from, to));
          }
        }
      }
    }
    return nearest;
  }
}

/** The clearance of a whole path: its worst segment. */
function pathClearance(grid: ObstacleGrid, path: readonly Point[], joined: ReadonlySet<string>, reach: number): number {
  let worst = Infinity;
  for (let index = 1; index < path.length && worst >= reach; index += 1) worst = Math.min(worst, grid.clearance(path[index - 1]!, path[index]!, joined, reach));
  return worst;
}

/** The paths tried, in order of preference (straight first, then bends growing away from the line). */
function candidatePaths(from: Point, to: Point, clearance: number, towards: Point | null): Point[][] {
  const length = Math.hypot(to.x - from.x, to.y - from.y) || 1;
  const normal = { x: -(to.y - from.y) / length, y: (to.x - from.x) / length };
  const middle = { x: (from.x + to.x) / 2, y: (from.y + to.y) / 2 };
  const paths: Point[][] = [[from, to]];
  if (towards) {
    for (const fraction of [0.5, 0.75, 1]) paths.push([from, { x: middle.x + (towards.x - middle.x) * fraction, y: middle.y + (towards.y - middle.y) * fraction }, to]);
  }
  for (const fraction of bendFractions) {
    for (const sign of [1, -1]) paths.push([from, { x: middle.x + sign * normal.x * fraction * length, y: middle.y + sign * normal.y * fraction * length }, to]);
  }
  for (const height of bracketClearances) {
    for (const sign of [1, -1]) {
      const offset = { x: sign * normal.x * height * clearance, y: sign * normal.y * height * clearance };
      paths.push([from, { x: from.x + offset.x, y: from.y + offset.y }, { x: to.x + offset.x, y: to.y + offset.y }, to]);
    }
  }
  return paths;
}

/**
 * The path to draw from `from` to `to`: the first candidate whose every segment
 * keeps `clearance` from each node not in `joined`; when none does, the one that
 * comes least close (the layout's test then names the edge). `towards` is a
 * point worth bending to first (the centre of the side both ends are on).
 */
export function routeEdge(grid: ObstacleGrid, from: Point, to: Point, joined: ReadonlySet<string>, clearance: number, towards: Point | null = null): Point[] {
  let best: { path: Point[]; clearance: number } | null = null;
  for (const path of candidatePaths(from, to, clearance, towards)) {
    const found = pathClearance(grid, path, joined, clearance);
    if (found >= clearance) return path;
    if (!best || found > best.clearance) best = { path, clearance: found };
  }
  return best!.path;
}
