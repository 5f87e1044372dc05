/**
 * Cluster snapshots in the catalog's shapes, for the topology's geometric tests and
 * its Chromium benchmark: whole 5- and 7-node clusters, split halves, isolate one,
 * bridge, majorities ring, three-way, one-way, and the same at 1,000 nodes. Small
 * shapes go through the real classifier; 1,000-node ones through the same core
 * link and component functions (a full 1,000 × 1,000 matrix through the
 * classifier would cost the test minutes and hundreds of megabytes).
 */
import { classifyPartition } from '../../core/classify-partition';
import { type Link, connectedComponents, createMatrix, linkFromDirections } from '../../core/reachability';
import type { ClusterSnapshot, NodeView } from '../../core/realtime-contract';

const nowMs = 1_000_000;
/** `hears(from, to)`: whether datagrams from `from` reach `to`. */
type Hears = (from: string, to: string) => boolean;

/** One named snapshot. */
export interface Shape {
  name: string;
  snapshot: ClusterSnapshot;
}

export const idsOf = (count: number, prefix = 'n'): string[] => Array.from({ length: count }, (_, index) => `${prefix}${index + 1}`);

function nodeViews(ids: readonly string[], silent: ReadonlySet<string>): NodeView[] {
  return ids.map((id) => ({ id, address: null, connected: true, lastReportAtMs: nowMs, stale: silent.has(id), faults: [], dataPlane: null }));
}

function snapshotOf(name: string, ids: string[], verdict: ClusterSnapshot['verdict'], links: Link[], silent: ReadonlySet<string>): ClusterSnapshot {
  return { clusterId: name, name, demo: false, seq: 1, atMs: nowMs, nodes: nodeViews(ids, silent), links, verdict, activePartition: null, unknownPeers: [] };
}

/** A small cluster through the real classifier. */
export function classifiedShape(name: string, ids: string[], hears: Hears, silent: string[] = []): Shape {
  const matrix = createMatrix(ids);
  for (const to of ids) {
    if (silent.includes(to)) continue;
    matrix.cells.set(to, new Map(ids.filter((from) => from !== to).map((from) => [from, { reachable: hears(from, to), reportedAtMs: nowMs - 100, sinceMs: 0, suspicion: 0 }])));
  }
  const verdict = classifyPartition(matrix, { nowMs, staleAfterMs: 1_000 });
  const links = verdict.cutLinks.slice();
  return { name, snapshot: snapshotOf(name, ids, verdict, links, new Set(silent)) };
}

/** A large cluster: links and sides from the core's link and component rules, the rest of the verdict from an empty classification. */
export function largeShape(name: string, ids: string[], hears: Hears): Shape {
  const links: Link[] = [];
  const working: Link[] = [];
  for (let i = 0; i < ids.length; i += 1) {
    for (let j = i + 1; j < ids.length; j += 1) {
      const link = linkFromDirections(ids[i]!, ids[j]!, hears(ids[i]!, ids[j]!), hears(ids[j]!, ids[i]!));
      if (link.state !== 'up') links.push(link);
      if (link.state === 'up' || link.state === 'one-way') working.push(link);
    }
  }
  const components = connectedComponents(ids, working);
  const majorityIndex = components.findIndex((component) => component.length * 2 > ids.length);
  const isolatedNodes = components.filter((component) => component.length === 1).flat();
  const verdict = {
    ...classifyPartition(createMatrix([]), { nowMs, staleAfterMs: 1_000 }),
    partitioned: links.length > 0,
    components,
    majorityIndex: majorityIndex < 0 ? null : majorityIndex,
    cutLinks: links,
    isolatedNodes,
  };
  return { name, snapshot: snapshotOf(name, ids, verdict, links, new Set()) };
}

const groupIndex = (groups: string[][]) => {
  const index = new Map(groups.flatMap((group, side) => group.map((id) => [id, side] as const)));
  return (id: string) => index.get(id) ?? -1;
};
/** Both directions dropped between nodes of different groups; unlisted nodes keep every link (a bridge). */
export const partitioned = (groups: string[][]): Hears => {
  const side = groupIndex(groups);
  return (from, to) => side(from) === -1 || side(to) === -1 || side(from) === side(to);
};

/** A deterministic pseudo-random sequence (mulberry32), so a shape is the same every run. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `count` links cut between random pairs of `ids` (the first `oneWay` of them one way only), seeded. */
export function flaky(ids: readonly string[], count: number, oneWay: number, seed: number): Hears {
  const random = seededRandom(seed);
  const lost = new Set<string>();
  for (let made = 0; made < count; made += 1) {
    const a = ids[Math.floor(random() * ids.length)]!;
    const b = ids[Math.floor(random() * ids.length)]!;
    if (a === b) continue;
    lost.add(`${a}>${b}`);
    if (made >= oneWay) lost.add(`${b}>${a}`);
  }
  return (from, to) => !lost.has(`${from}>${to}`);
}

/** The catalog's shapes on 5 to 7 nodes. */
export function smallShapes(): Shape[] {
  const five = idsOf(5);
  const six = idsOf(6);
  const seven = idsOf(7);
  const ring = (from: string, to: string) => {
    const distance = Math.abs(five.indexOf(from) - five.indexOf(to));
    return Math.min(distance, five.length - distance) <= 1;
  };
  return [
    classifiedShape('whole-5', five, () => true),
    classifiedShape('whole-7', seven, () => true),
    classifiedShape('cut-1-5', five, (from, to) => !([from, to].includes('n1') && [from, to].includes('n5'))),
    classifiedShape('split-halves', six, partitioned([six.slice(0, 3), six.slice(3)])),
    classifiedShape('split-7', seven, partitioned([seven.slice(0, 4), seven.slice(4)])),
    classifiedShape('isolate-one', five, (from, to) => from !== 'n1' && to !== 'n1'),
    classifiedShape('isolate-one-7', seven, (from, to) => from !== 'n4' && to !== 'n4'),
    classifiedShape('crashed-one', five, () => true, ['n3']),
    classifiedShape('bridge', five, partitioned([['n1', 'n2'], ['n4', 'n5']])),
    classifiedShape('majorities-ring', five, ring),
    classifiedShape('three-way', seven, partitioned([seven.slice(0, 3), seven.slice(3, 5), seven.slice(5)])),
    classifiedShape('one-way', five, (from, to) => !(from === 'n1' && to === 'n2')),
  ];
}

/** The shapes at 1,000 nodes. */
export function largeShapes(count = 1000): Shape[] {
  const ids = idsOf(count);
  const half = Math.floor(count / 2);
  const third = Math.floor(count / 3);
  const withFlaky = (base: Hears, seed: number): Hears => {
    const extra = flaky(ids, 12, 3, seed);
    return (from, to) => base(from, to) && extra(from, to);
  };
  return [
    largeShape('whole-1000-flaky', ids, flaky(ids, 16, 4, 7)),
    largeShape('split-halves-1000', ids, withFlaky(partitioned([ids.slice(0, half), ids.slice(half)]), 8)),
    largeShape('isolate-one-1000', ids, withFlaky((from, to) => from !== 'n1' && to !== 'n1', 9)),
    largeShape('three-way-1000', ids, partitioned([ids.slice(0, third), ids.slice(third, 2 * third), ids.slice(2 * third)])),
    largeShape('bridge-1000', ids, partitioned([ids.slice(0, 3), ids.slice(4, 7)])),
  ];
}
