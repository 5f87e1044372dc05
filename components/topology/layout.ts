/**
 * Where the topology draws everything, computed without a browser so it can be
 * tested geometrically. Each side of a partition (a component of the verdict, and
 * a last one for nodes on no side) is a group with its own outline, apart from
 * the others. Inside a side, nodes with a drawn link sit on a ring (chords of an
 * empty ring can always be routed inside it), the others fill a disc beside it
 * (at 1,000 nodes most are there). Every edge is routed so that it keeps clear of
 * every node it does not join. Healthy links are drawn up to
 * `healthyLinksNodesMax` nodes; cut links between two sides are drawn one by one
 * up to `sideLinksSeparateMax`, and as one bundle between the sides' outlines
 * above. The same snapshot always gives the same picture.
 */
import type { ClusterSnapshot } from '../../core/realtime-contract';
import type { Link, LinkState } from '../../core/reachability';
import { pairKey } from '../topology-layout';
import type { Point } from './geometry';
import { ObstacleGrid, routeEdge } from './route';

/** Radius of a node, in layout units (the unit of every other length here). */
export const nodeRadius = 16;
/** Up to this many nodes every healthy link is drawn; above, a side's outline stands for them (a full mesh of 1,000 is 500,000 lines). */
export const healthyLinksNodesMax = 40;
/** Cut links between two sides drawn one by one up to this many; above, one bundle with its count. */
export const sideLinksSeparateMax = 24;
/** Most links drawn one by one (inside sides, above which the rest are counted in `omitted`), so a 1,000-node picture stays readable and fast. */
export const separateLinksMax = 400;
/** How far (in node radii) a routed edge keeps from a node it does not join. */
export const clearanceRadii = 1.35;
/** Arc between neighbours on a side's ring, in node radii. */
const ringSpacingRadii = 4.2;
/** Scale of the disc's spiral (nearest neighbours end up about 1.7 of this apart), in node radii. */
const discSpacingRadii = 1.75;
/** Room between a side's nodes and its outline, in node radii. */
const outlinePaddingRadii = 1.8;
/** Gap between two sides' outlines, and between a ring and a disc, in node radii. */
const sideGapRadii = 5;
/** Room kept around the drawing for labels, in node radii. */
const marginRadii = 3;
/** Golden angle (radians): successive spiral points never line up. */
const goldenAngle = Math.PI * (3 - Math.sqrt(5));

/** A node's place in the drawing. */
export interface PlacedNode extends Point {
  id: string;
  /** Index of its side in `TopologyLayout.sides`. */
  side: number;
}

/** One side of the picture: a component of the verdict, or the nodes on no side. */
export interface PlacedSide {
  /** Index in `TopologyLayout.sides` (also the side's colour, cycled, unless `unknown`). */
  index: number;
  /** Its nodes, in the order they are drawn. */
  ids: string[];
  center: Point;
  /** Radius of the outline drawn around the side. */
  radius: number;
  /** True for the side holding a strict majority of all nodes. */
  majority: boolean;
  /** True for the nodes the verdict places on no side (nothing fresh is known). */
  unknown: boolean;
}

/** An edge as drawn: one link between two nodes, or a bundle of cut links between two sides. */
export interface RoutedEdge {
  /** `a|b` for a link (as `pairKey`), `side-i|side-j` for a bundle. */
  key: string;
  kind: 'link' | 'bundle';
  /** The link's state; for a bundle, the state all its links share, or 'mixed'. */
  state: LinkState | 'mixed';
  /** For a link, the link itself. */
  link?: Link;
  /** For a bundle: the two sides and how many of its links are in each state. */
  sides?: [number, number];
  counts?: Partial<Record<LinkState, number>>;
  /** Node ids the edge joins (none for a bundle): it may touch those and no others. */
  joins: string[];
  /** The polyline drawn, from the end that still sends (one-way links) or from `a`. */
  points: Point[];
}

/** Everything the renderers draw, in layout units, with the origin at the top left. */
export interface TopologyLayout {
  width: number;
  height: number;
  nodeRadius: number;
  nodes: Map<string, PlacedNode>;
  sides: PlacedSide[];
  edges: RoutedEdge[];
  /** Whether every healthy link is drawn (small clusters) or left to the sides' outlines. */
  healthyLinksDrawn: boolean;
  /** Cut links inside a side not drawn because of `separateLinksMax`, per side. */
  omitted: Array<{ side: number; count: number }>;
}

interface SideDraft {
  ids: string[];
  unknown: boolean;
  majority: boolean;
  ring: string[];
  disc: string[];
  ringRadius: number;
  discRadius: number;
  /** Distance from the side's centre to the ring's centre (towards the middle) and to the disc's (away). */
  ringOffset: number;
  discOffset: number;
  radius: number;
}

/** Ids compared with numeric parts as numbers (n2 before n10); one collator, as creating one per comparison costs more than the whole layout. */
const idCollator = new Intl.Collator('en', { numeric: true });
const byId = (a: string, b: string) => idCollator.compare(a, b);

/** The sides to draw: the verdict's components (largest first), then the nodes in none. */
function sidesOf(snapshot: ClusterSnapshot): Array<{ ids: string[]; unknown: boolean; majority: boolean }> {
  const known = new Set(snapshot.nodes.map((node) => node.id));
  const placed = new Set<string>();
  const sides = snapshot.verdict.components
    .map((component, index) => ({ ids: component.filter((id) => known.has(id) && !placed.has(id) && placed.add(id)).sort(byId), unknown: false, majority: snapshot.verdict.majorityIndex === index }))
    .filter((side) => side.ids.length > 0);
  const rest = snapshot.nodes.map((node) => node.id).filter((id) => !placed.has(id)).sort(byId);
  return rest.length > 0 ? [...sides, { ids: rest, unknown: true, majority: false }] : sides;
}

/** Which links are drawn one by one, which as bundles between two sides, and how many are left out. */
function chooseLinks(snapshot: ClusterSnapshot, sideOf: Map<string, number>, sideCount: number) {
  // Keyed by the pair of side indexes as one number: this loop sees every cut link (250,000 in a 1,000-node split).
  const betweenSides = new Map<number, Link[]>();
  const inside: Link[] = [];
  for (const link of snapshot.links) {
    const a = sideOf.get(link.a);
    const b = sideOf.get(link.b);
    if (a === undefined || b === undefined || link.state === 'up') continue;
    if (a === b) {
      inside.push(link);
      continue;
    }
    const key = Math.min(a, b) * sideCount + Math.max(a, b);
    const found = betweenSides.get(key);
    if (found) found.push(link);
    else betweenSides.set(key, [link]);
  }
  const separate: Link[] = [];
  const bundles: Array<{ sides: [number, number]; links: Link[] }> = [];
  for (const [key, links] of [...betweenSides].sort(([a], [b]) => a - b)) {
    if (links.length <= sideLinksSeparateMax) separate.push(...links);
    else bundles.push({ sides: [Math.floor(key / sideCount), key % sideCount], links });
  }
  const omittedCounts = new Array<number>(sideCount).fill(0);
  for (const link of inside) {
    if (separate.length < separateLinksMax) separate.push(link);
    else omittedCounts[sideOf.get(link.a)!]! += 1;
  }
  const healthyLinksDrawn = snapshot.nodes.length <= healthyLinksNodesMax;
  if (healthyLinksDrawn) {
    const broken = new Set(snapshot.links.map((link) => pairKey(link.a, link.b)));
    const ids = snapshot.nodes.map((node) => node.id);
    for (let i = 0; i < ids.length; i += 1) {
      for (let j = i + 1; j < ids.length; j += 1) {
        if (!broken.has(pairKey(ids[i]!, ids[j]!))) separate.push({ a: ids[i]!, b: ids[j]!, state: 'up' });
      }
    }
  }
  const omitted = omittedCounts.flatMap((count, side) => (count > 0 ? [{ side, count }] : []));
  return { separate, bundles, omitted, healthyLinksDrawn };
}

/** A side's size: a ring for nodes with a drawn link, a disc for the rest, side by side. */
function draftSide(side: { ids: string[]; unknown: boolean; majority: boolean }, involved: ReadonlySet<string>): SideDraft {
  const ring = side.ids.filter((id) => involved.has(id));
  const disc = side.ids.filter((id) => !involved.has(id));
  const ringRadius = ring.length <= 1 ? 0 : Math.max(2.5 * nodeRadius, (ring.length * ringSpacingRadii * nodeRadius) / (2 * Math.PI));
  const discRadius = disc.length <= 1 ? 0 : discSpacingRadii * nodeRadius * Math.sqrt(disc.length);
  const padding = outlinePaddingRadii * nodeRadius;
  if (ring.length === 0 || disc.length === 0) {
    return { ...side, ring, disc, ringRadius, discRadius, ringOffset: 0, discOffset: 0, radius: Math.max(ringRadius, discRadius) + padding };
  }
  // Ring and disc side by side, their outer edges equally far from the side's centre.
  const apart = ringRadius + discRadius + sideGapRadii * nodeRadius;
  const ringOffset = (apart + discRadius - ringRadius) / 2;
  const discOffset = (apart + ringRadius - discRadius) / 2;
  return { ...side, ring, disc, ringRadius, discRadius, ringOffset, discOffset, radius: ringOffset + ringRadius + padding };
}

/** Centres of the sides around the middle: far enough apart that no two outlines overlap, and (three or more) the middle kept free. */
function placeSides(drafts: readonly SideDraft[]): Point[] {
  if (drafts.length === 1) return [{ x: 0, y: 0 }];
  const gap = sideGapRadii * nodeRadius;
  const angles = drafts.map((_, index) => Math.PI + (2 * Math.PI * index) / drafts.length);
  let orbit = drafts.length >= 3 ? Math.max(...drafts.map((draft) => draft.radius + gap)) : 0;
  for (let i = 0; i < drafts.length; i += 1) {
    for (let j = i + 1; j < drafts.length; j += 1) {
      const chord = 2 * Math.sin(Math.abs(angles[i]! - angles[j]!) / 2);
      orbit = Math.max(orbit, (drafts[i]!.radius + drafts[j]!.radius + gap) / chord);
    }
  }
  return angles.map((angle) => ({ x: orbit * Math.cos(angle), y: orbit * Math.sin(angle) }));
}

/** Node positions inside one side; returns the ring's centre (where chords bend to). */
function placeNodes(draft: SideDraft, center: Point, side: number, nodes: Map<string, PlacedNode>): Point {
  const length = Math.hypot(center.x, center.y);
  const axis = length === 0 ? { x: 1, y: 0 } : { x: -center.x / length, y: -center.y / length };
  const ringCenter = { x: center.x + axis.x * draft.ringOffset, y: center.y + axis.y * draft.ringOffset };
  const discCenter = { x: center.x - axis.x * draft.discOffset, y: center.y - axis.y * draft.discOffset };
  draft.ring.forEach((id, index) => {
    const angle = (2 * Math.PI * index) / draft.ring.length - Math.PI / 2;
    nodes.set(id, { id, side, x: ringCenter.x + draft.ringRadius * Math.cos(angle), y: ringCenter.y + draft.ringRadius * Math.sin(angle) });
  });
  draft.disc.forEach((id, index) => {
    const distance = draft.disc.length === 1 ? 0 : discSpacingRadii * nodeRadius * Math.sqrt(index + 0.5);
    nodes.set(id, { id, side, x: discCenter.x + distance * Math.cos(index * goldenAngle), y: discCenter.y + distance * Math.sin(index * goldenAngle) });
  });
  return ringCenter;
}

function bundleState(links: readonly Link[]): { state: LinkState | 'mixed'; counts: Partial<Record<LinkState, number>> } {
  const counts: Partial<Record<LinkState, number>> = {};
  for (const link of links) counts[link.state] = (counts[link.state] ?? 0) + 1;
  const states = Object.keys(counts) as LinkState[];
  return { state: states.length === 1 ? states[0]! : 'mixed', counts };
}

/** The whole picture for one snapshot. */
export function layoutTopology(snapshot: ClusterSnapshot): TopologyLayout {
  const sides = sidesOf(snapshot);
  const sideOf = new Map<string, number>();
  sides.forEach((side, index) => side.ids.forEach((id) => sideOf.set(id, index)));
  const chosen = chooseLinks(snapshot, sideOf, sides.length);
  const involved = new Set(chosen.separate.flatMap((link) => [link.a, link.b]));
  const drafts = sides.map((side) => draftSide(side, involved));
  const centers = placeSides(drafts);
  const nodes = new Map<string, PlacedNode>();
  const ringCenters = drafts.map((draft, index) => placeNodes(draft, centers[index]!, index, nodes));
  const clearance = clearanceRadii * nodeRadius;
  const grid = new ObstacleGrid(nodes.values(), 4 * nodeRadius);
  const edges: RoutedEdge[] = chosen.separate.map((link) => {
    const from = nodes.get(link.workingDirection?.from ?? link.a)!;
    const to = nodes.get(link.workingDirection?.to ?? link.b)!;
    const towards = from.side === to.side ? ringCenters[from.side]! : null;
    return { key: pairKey(link.a, link.b), kind: 'link', state: link.state, link, joins: [link.a, link.b], points: routeEdge(grid, from, to, new Set([link.a, link.b]), clearance, towards) };
  });
  for (const bundle of chosen.bundles) {
    const [a, b] = bundle.sides;
    const hub = (from: number, to: number): Point => {
      const dx = centers[to]!.x - centers[from]!.x;
      const dy = centers[to]!.y - centers[from]!.y;
      const length = Math.hypot(dx, dy) || 1;
      return { x: centers[from]!.x + (dx / length) * drafts[from]!.radius, y: centers[from]!.y + (dy / length) * drafts[from]!.radius };
    };
    const points = routeEdge(grid, hub(a, b), hub(b, a), new Set(), clearance);
    edges.push({ key: `side-${a}|side-${b}`, kind: 'bundle', ...bundleState(bundle.links), sides: [a, b], joins: [], points });
  }
  const placedSides = drafts.map((draft, index) => ({ index, ids: draft.ids, center: centers[index]!, radius: draft.radius, majority: draft.majority, unknown: draft.unknown }));
  return frame({ width: 0, height: 0, nodeRadius, nodes, sides: placedSides, edges, healthyLinksDrawn: chosen.healthyLinksDrawn, omitted: chosen.omitted });
}

/** Moves everything so the drawing starts at (margin, margin) and measures it. */
function frame(layout: TopologyLayout): TopologyLayout {
  const margin = marginRadii * nodeRadius;
  let left = Infinity;
  let top = Infinity;
  let right = -Infinity;
  let bottom = -Infinity;
  const include = (x: number, y: number, reach: number) => {
    left = Math.min(left, x - reach);
    right = Math.max(right, x + reach);
    top = Math.min(top, y - reach);
    bottom = Math.max(bottom, y + reach);
  };
  for (const side of layout.sides) include(side.center.x, side.center.y, side.radius);
  for (const edge of layout.edges) for (const point of edge.points) include(point.x, point.y, 0);
  const dx = margin - left;
  const dy = margin - top;
  const move = <T extends Point>(point: T): T => ({ ...point, x: point.x + dx, y: point.y + dy });
  return {
    ...layout,
    width: right - left + 2 * margin,
    height: bottom - top + 2 * margin,
    nodes: new Map([...layout.nodes].map(([id, node]) => [id, move(node)])),
    sides: layout.sides.map((side) => ({ ...side, center: move(side.center) })),
    edges: layout.edges.map((edge) => ({ ...edge, points: edge.points.map(move) })),
  };
}
