/**
 * Turns a directed reachability matrix, byzantine evidence and staleness into a verdict:
 * is the cluster split, how, which nodes and links are to blame, and on whose word.
 * Pure and deterministic: the same inputs give the same verdict.
 *
 * Reading rules, in order:
 * 1. A cell older than `staleAfterMs` is not evidence. A node with no fresh cell of its
 *    own is "stale": its outgoing view is unknown.
 * 2. An observer whose own health is discounted (see detectors/observer-health.ts) is
 *    not believed when it says "I cannot hear X" (it may be the one that is sick); its
 *    "I hear X" still counts, because hearing cannot be faked by a slow observer.
 * 3. A direction counts as broken only when its receiver says so; silence is not a cut.
 * 4. Nodes about which nothing fresh is known at all are left out of the graph (unknown),
 *    so a node that never reported does not look like a partition.
 */
import type { Evidence, NodeId } from './protocol';
import type { ObserverHealthSnapshot } from './detectors/observer-health';
import {
  type Link,
  type ReachabilityCell,
  type ReachabilityMatrix,
  allLinks,
  connectedComponents,
} from './reachability';

/** The kinds of partition Faultline names. */
export type PartitionType = 'complete' | 'partial' | 'asymmetric' | 'byzantine';

/** One piece of byzantine evidence together with the agent that gathered it. */
export interface ObservedEvidence extends Evidence {
  /** The agent that received the bad packets and reported them. */
  observerId: NodeId;
}

/** Default window (ms) over which byzantine evidence is considered current. */
export const evidenceWindowMsDefault = 30_000;
/** Default number of bad packets on one link before it counts as byzantine (one packet that fails its HMAC can be a fluke; two within the window are not). */
export const byzantineEvidenceCountMinDefault = 2;
/** Default number of distinct accusers before a node (rather than one link) is called byzantine. */
export const byzantineNodeAccusersMinDefault = 2;
/** Default bound on evidence-chain entries carried by one verdict. */
export const evidenceEntriesMaxDefault = 256;

/** Options of the classifier. All but the first two are optional, so existing callers keep working. */
export interface ClassifyOptions {
  /** Current time (ms since epoch). */
  nowMs: number;
  /** A cell older than this is stale and ignored (ms). */
  staleAfterMs: number;
  /** Byzantine evidence reported by agents; items whose `lastAtMs` is older than `evidenceWindowMs` are ignored. */
  evidence?: readonly ObservedEvidence[];
  /** Each observer's latest health snapshot, as it reported it. Missing observers count as healthy. */
  observerHealth?: ReadonlyMap<NodeId, ObserverHealthSnapshot>;
  /** How far back (ms) byzantine evidence counts; default `evidenceWindowMsDefault`. */
  evidenceWindowMs?: number;
  /** Bad packets on one directed link before it is byzantine; default `byzantineEvidenceCountMinDefault`. */
  byzantineEvidenceCountMin?: number;
  /** Distinct accusers before a node is byzantine; default `byzantineNodeAccusersMinDefault`. */
  byzantineNodeAccusersMin?: number;
  /** Whether "unreachable" claims from discounted observers are ignored; default true. */
  discountUnhealthyObservers?: boolean;
  /** Bound on the evidence chain length; default `evidenceEntriesMaxDefault`. */
  evidenceEntriesMax?: number;
}

/** What Faultline can say about one node. */
export type NodeCondition =
  /** Nothing wrong is known. */
  | 'healthy'
  /** It reports, and says it hears no peer, and no peer hears it: alive but cut off from the cluster. */
  | 'isolated'
  /** Its reports stopped and every peer that still reports has lost it: crashed, or isolated from everything; which cannot be known. */
  | 'crashed-or-isolated'
  /** Its reports stopped but peers still hear it: only its link to the control server is cut, not a cluster partition. */
  | 'control-plane-cut'
  /** Nothing fresh is known about it from anyone. */
  | 'unknown';

/** A directed link (`from` → `to` datagrams) flagged by byzantine evidence. */
export interface ByzantineLink {
  /** The accused sender. */
  from: NodeId;
  /** The observer that received the bad packets. */
  to: NodeId;
  /** The kinds of misbehaviour seen. */
  kinds: Evidence['kind'][];
  /** Bad packets counted in the evidence window. */
  count: number;
}

/** Byzantine findings. */
export interface ByzantineFindings {
  /** Nodes accused by at least `byzantineNodeAccusersMin` observers: the sender itself misbehaves. */
  nodes: NodeId[];
  /** Every directed link with enough evidence, including those of the nodes above. */
  links: ByzantineLink[];
}

/** One line of a verdict's evidence chain: who said what, when, and how healthy they were. */
export interface EvidenceEntry {
  /** The agent that made the claim. */
  observerId: NodeId;
  /** The node the claim is about. */
  subjectId: NodeId;
  /** The claim: it hears the subject, it does not, or it received bad packets (with the kind). */
  claim: 'reachable' | 'unreachable' | `byzantine:${Evidence['kind']}`;
  /** When the claim reached the server (ms), or the evidence's latest packet time. */
  atMs: number;
  /** When the observer's view last changed (ms), for reachability claims. */
  sinceMs?: number;
  /** Detector suspicion carried with the claim, or the packet count for byzantine claims. */
  suspicion: number;
  /** The observer's health score when it reported (0 = healthy), or null when unknown. */
  observerHealthScore: number | null;
  /** Whether the claim was discounted because the observer was unhealthy. */
  discounted: boolean;
}

/** The classifier's answer for one cluster at one instant. */
export interface PartitionVerdict {
  /** True when some pair of known nodes cannot talk in both directions, or byzantine evidence names a node or link. */
  partitioned: boolean;
  /** The most urgent kind present (complete > byzantine > partial > asymmetric), or null when the cluster is whole. */
  type: PartitionType | null;
  /** Components of the "works in at least one direction" graph over known nodes, largest first. */
  components: NodeId[][];
  /** Index in `components` of the side holding a strict majority of all nodes, or null if none does. */
  majorityIndex: number | null;
  /** Links that are down or work only one way. */
  cutLinks: Link[];
  /** Nodes whose own reports are stale, so their outgoing view is unknown. */
  staleNodes: NodeId[];
  /** The direction that fails on each one-way link (`from` → `to` datagrams are lost). */
  oneWayLinks: Array<{ from: NodeId; to: NodeId }>;
  /** Nodes whose removal would split the two-way graph: the bridges a partial partition hangs on. */
  bridgeNodes: NodeId[];
  /** True when every node reaches a strict majority but none reaches all, so the majorities overlap without agreeing (Jepsen's "majorities ring"). */
  overlappingMajorities: boolean;
  /** Nodes alive by their own reports but cut off from every peer. */
  isolatedNodes: NodeId[];
  /** Nodes silent to everyone: crashed or isolated, indistinguishable from outside. */
  silentNodes: NodeId[];
  /** Nodes cut from the control server only (peers hear them): not a cluster partition. */
  controlPlaneCutNodes: NodeId[];
  /** Nodes about which nothing fresh is known; left out of `components`. */
  unknownNodes: NodeId[];
  /** Per-node condition, for every node in the matrix, in matrix order. */
  conditions: Array<{ nodeId: NodeId; condition: NodeCondition }>;
  /** Byzantine nodes and links named by evidence. */
  byzantine: ByzantineFindings;
  /** Observers whose "unreachable" claims were not believed because they were unhealthy. */
  discountedObservers: NodeId[];
  /** Claims behind the cut links, silent nodes and byzantine findings, bounded by `evidenceEntriesMax`. */
  evidence: EvidenceEntry[];
  /** Entries left out of `evidence` because of its bound. */
  evidenceOmitted: number;
  /** One sentence for humans. */
  summary: string;
}

interface Prepared {
  trusted: ReachabilityMatrix;
  staleNodes: NodeId[];
  discounted: Set<NodeId>;
}

/** Keeps fresh cells only, and drops "unreachable" claims of discounted observers. */
function prepare(matrix: ReachabilityMatrix, options: ClassifyOptions): Prepared {
  const trusted: ReachabilityMatrix = { nodes: matrix.nodes, cells: new Map() };
  const staleNodes: NodeId[] = [];
  const discounted = new Set<NodeId>();
  const discounting = options.discountUnhealthyObservers ?? true;
  for (const node of matrix.nodes) {
    const row = matrix.cells.get(node);
    const freshRow = new Map<NodeId, ReachabilityCell>();
    const unhealthy = discounting && options.observerHealth?.get(node)?.discounted === true;
    for (const [peer, cell] of row ?? []) {
      if (options.nowMs - cell.reportedAtMs > options.staleAfterMs) continue;
      if (unhealthy && !cell.reachable) {
        discounted.add(node);
        continue;
      }
      freshRow.set(peer, cell);
    }
    if (!row || ![...row.values()].some((cell) => options.nowMs - cell.reportedAtMs <= options.staleAfterMs)) {
      staleNodes.push(node);
    }
    trusted.cells.set(node, freshRow);
  }
  return { trusted, staleNodes, discounted };
}

/** Decides each node's condition from who hears it and whether it reports; one pass over the cells. */
function nodeConditions(matrix: ReachabilityMatrix, prepared: Prepared, nowMs: number, staleAfterMs: number): Map<NodeId, NodeCondition> {
  const heardBy = new Map<NodeId, number>();
  const lostBy = new Map<NodeId, number>();
  for (const [observer, row] of prepared.trusted.cells) {
    for (const [subject, cell] of row) {
      if (subject === observer) continue;
      const counts = cell.reachable ? heardBy : lostBy;
      counts.set(subject, (counts.get(subject) ?? 0) + 1);
    }
  }
  const stale = new Set(prepared.staleNodes);
  const conditions = new Map<NodeId, NodeCondition>();
  for (const node of matrix.nodes) {
    const heard = heardBy.get(node) ?? 0;
    const lost = lostBy.get(node) ?? 0;
    if (stale.has(node)) {
      conditions.set(node, heard > 0 ? 'control-plane-cut' : lost > 0 ? 'crashed-or-isolated' : 'unknown');
      continue;
    }
    // The node's own raw fresh view (discounted or not): does it hear anybody at all?
    let freshCells = 0;
    let hearsSomebody = false;
    for (const [peer, cell] of matrix.cells.get(node) ?? []) {
      if (peer === node || nowMs - cell.reportedAtMs > staleAfterMs) continue;
      freshCells += 1;
      if (cell.reachable) hearsSomebody = true;
    }
    const isolated = freshCells > 0 && !hearsSomebody && heard === 0 && lost > 0;
    conditions.set(node, isolated ? 'isolated' : 'healthy');
  }
  return conditions;
}

/** Articulation points of the graph of two-way links (iterative Tarjan, bounded by the node count). */
function articulationPoints(nodes: readonly NodeId[], links: readonly Link[]): NodeId[] {
  const adjacency = new Map<NodeId, NodeId[]>(nodes.map((node) => [node, []]));
  for (const link of links) {
    if (link.state !== 'up') continue;
    adjacency.get(link.a)?.push(link.b);
    adjacency.get(link.b)?.push(link.a);
  }
  const order = new Map<NodeId, number>();
  const low = new Map<NodeId, number>();
  const points = new Set<NodeId>();
  let counter = 0;
  for (const root of nodes) {
    if (order.has(root)) continue;
    let rootChildren = 0;
    order.set(root, counter);
    low.set(root, counter);
    counter += 1;
    const stack: Array<{ node: NodeId; parent: NodeId | null; next: number }> = [{ node: root, parent: null, next: 0 }];
    while (stack.length > 0) {
      const frame = stack[stack.length - 1]!;
      const neighbours = adjacency.get(frame.node)!;
      if (frame.next < neighbours.length) {
        const neighbour = neighbours[frame.next]!;
        frame.next += 1;
        if (neighbour === frame.parent) continue;
        if (order.has(neighbour)) {
          low.set(frame.node, Math.min(low.get(frame.node)!, order.get(neighbour)!));
          continue;
        }
        order.set(neighbour, counter);
        low.set(neighbour, counter);
        counter += 1;
        if (frame.node === root) rootChildren += 1;
        stack.push({ node: neighbour, parent: frame.node, next: 0 });
        continue;
      }
      stack.pop();
      const parent = frame.parent;
      if (parent === null) continue;
      low.set(parent, Math.min(low.get(parent)!, low.get(frame.node)!));
      if (parent !== root && low.get(frame.node)! >= order.get(parent)!) points.add(parent);
    }
    if (rootChildren > 1) points.add(root);
  }
  return nodes.filter((node) => points.has(node));
}

/** True when every node reaches a strict majority over two-way links, yet none reaches them all: the views overlap without agreeing. */
function hasOverlappingMajorities(nodes: readonly NodeId[], links: readonly Link[], total: number): boolean {
  if (nodes.length < 3) return false;
  const views = new Map<NodeId, Set<NodeId>>(nodes.map((node) => [node, new Set([node])]));
  for (const link of links) {
    if (link.state !== 'up') continue;
    views.get(link.a)?.add(link.b);
    views.get(link.b)?.add(link.a);
  }
  for (const view of views.values()) {
    // A node that sees everyone is a hub (a bridge or a cut-off pair's neighbour), not part of a ring.
    if (view.size * 2 <= total || view.size === nodes.length) return false;
  }
  return true;
}

/** Aggregates byzantine evidence per directed link and names the nodes accused by several observers. */
function byzantineFindings(options: ClassifyOptions): ByzantineFindings {
  const windowMs = options.evidenceWindowMs ?? evidenceWindowMsDefault;
  const countMin = options.byzantineEvidenceCountMin ?? byzantineEvidenceCountMinDefault;
  const accusersMin = options.byzantineNodeAccusersMin ?? byzantineNodeAccusersMinDefault;
  const byLink = new Map<string, ByzantineLink>();
  for (const item of options.evidence ?? []) {
    if (options.nowMs - item.lastAtMs > windowMs || item.peerId === item.observerId) continue;
    const key = `${item.peerId}>${item.observerId}`;
    const link = byLink.get(key) ?? { from: item.peerId, to: item.observerId, kinds: [], count: 0 };
    link.count += item.count;
    if (!link.kinds.includes(item.kind)) link.kinds.push(item.kind);
    byLink.set(key, link);
  }
  const links = [...byLink.values()]
    .filter((link) => link.count >= countMin)
    .map((link) => ({ ...link, kinds: link.kinds.sort() }))
    .sort((x, y) => x.from.localeCompare(y.from) || x.to.localeCompare(y.to));
  const accusers = new Map<NodeId, number>();
  for (const link of links) accusers.set(link.from, (accusers.get(link.from) ?? 0) + 1);
  const nodes = [...accusers].filter(([, count]) => count >= accusersMin).map(([node]) => node).sort();
  return { nodes, links };
}

function pickType(components: NodeId[][], cutLinks: Link[], byzantine: ByzantineFindings): PartitionType | null {
  if (components.length > 1) return 'complete';
  if (byzantine.links.length > 0) return 'byzantine';
  if (cutLinks.some((link) => link.state === 'down')) return 'partial';
  if (cutLinks.length > 0) return 'asymmetric';
  return null;
}

/** Classifies the current reachability of a cluster. */
export function classifyPartition(matrix: ReachabilityMatrix, options: ClassifyOptions): PartitionVerdict {
  const prepared = prepare(matrix, options);
  const conditions = nodeConditions(matrix, prepared, options.nowMs, options.staleAfterMs);
  const known = matrix.nodes.filter((node) => conditions.get(node) !== 'unknown');
  const knownSet = new Set(known);
  const links = allLinks(prepared.trusted).filter((link) => knownSet.has(link.a) && knownSet.has(link.b));
  const cutLinks = links.filter((link) => link.state === 'down' || link.state === 'one-way');
  const components = connectedComponents(known, links);
  const total = matrix.nodes.length;
  const majorityIndex = components.findIndex((component) => component.length * 2 > total);
  const byzantine = byzantineFindings(options);
  const type = pickType(components, cutLinks, byzantine);
  const withCondition = (wanted: NodeCondition) => matrix.nodes.filter((node) => conditions.get(node) === wanted);
  const verdict: PartitionVerdict = {
    partitioned: type !== null,
    type,
    components,
    majorityIndex: majorityIndex === -1 ? null : majorityIndex,
    cutLinks,
    staleNodes: prepared.staleNodes,
    oneWayLinks: cutLinks
      .filter((link) => link.state === 'one-way' && link.workingDirection)
      .map((link) => ({ from: link.workingDirection!.to, to: link.workingDirection!.from })),
    bridgeNodes: cutLinks.length > 0 ? articulationPoints(known, links) : [],
    overlappingMajorities: components.length === 1 && cutLinks.length > 0 && hasOverlappingMajorities(known, links, total),
    isolatedNodes: withCondition('isolated'),
    silentNodes: withCondition('crashed-or-isolated'),
    controlPlaneCutNodes: withCondition('control-plane-cut'),
    unknownNodes: withCondition('unknown'),
    conditions: matrix.nodes.map((nodeId) => ({ nodeId, condition: conditions.get(nodeId)! })),
    byzantine,
    discountedObservers: [...prepared.discounted].sort(),
    evidence: [],
    evidenceOmitted: 0,
    summary: '',
  };
  const chain = evidenceChain(matrix, verdict, options);
  return { ...verdict, ...chain, summary: summarize(verdict) };
}

/** Collects the claims behind the verdict: both directions of each cut link, the peers' view of silent or cut-off nodes, and byzantine evidence. */
function evidenceChain(
  matrix: ReachabilityMatrix,
  verdict: PartitionVerdict,
  options: ClassifyOptions,
): { evidence: EvidenceEntry[]; evidenceOmitted: number } {
  const entriesMax = options.evidenceEntriesMax ?? evidenceEntriesMaxDefault;
  const entries: EvidenceEntry[] = [];
  let omitted = 0;
  const discounted = new Set(verdict.discountedObservers);
  const push = (entry: EvidenceEntry) => {
    if (entries.length < entriesMax) entries.push(entry);
    else omitted += 1;
  };
  const health = (observer: NodeId) => options.observerHealth?.get(observer)?.score ?? null;
  const pushCell = (observer: NodeId, subject: NodeId) => {
    const cell = matrix.cells.get(observer)?.get(subject);
    if (!cell || options.nowMs - cell.reportedAtMs > options.staleAfterMs) return;
    push({
      observerId: observer,
      subjectId: subject,
      claim: cell.reachable ? 'reachable' : 'unreachable',
      atMs: cell.reportedAtMs,
      sinceMs: cell.sinceMs,
      suspicion: cell.suspicion,
      observerHealthScore: health(observer),
      discounted: !cell.reachable && discounted.has(observer),
    });
  };
  for (const link of verdict.cutLinks) {
    pushCell(link.a, link.b);
    pushCell(link.b, link.a);
  }
  for (const subject of [...verdict.silentNodes, ...verdict.controlPlaneCutNodes]) {
    for (const observer of matrix.nodes) if (observer !== subject) pushCell(observer, subject);
  }
  const windowMs = options.evidenceWindowMs ?? evidenceWindowMsDefault;
  const flagged = new Set(verdict.byzantine.links.map((link) => `${link.from}>${link.to}`));
  for (const item of options.evidence ?? []) {
    if (options.nowMs - item.lastAtMs > windowMs || !flagged.has(`${item.peerId}>${item.observerId}`)) continue;
    push({
      observerId: item.observerId,
      subjectId: item.peerId,
      claim: `byzantine:${item.kind}`,
      atMs: item.lastAtMs,
      suspicion: item.count,
      observerHealthScore: health(item.observerId),
      discounted: false,
    });
  }
  return { evidence: entries, evidenceOmitted: omitted };
}

function listed(label: string, nodes: readonly string[]): string | null {
  return nodes.length > 0 ? `${label} ${nodes.join(', ')}` : null;
}

/** One sentence describing the verdict. */
function summarize(verdict: PartitionVerdict): string {
  const notes = [
    listed('isolated:', verdict.isolatedNodes),
    listed('crashed or isolated:', verdict.silentNodes),
    listed('control-plane cut (not a partition):', verdict.controlPlaneCutNodes),
    listed('byzantine nodes:', verdict.byzantine.nodes),
    listed('bridges:', verdict.bridgeNodes),
    verdict.overlappingMajorities ? 'overlapping majorities (ring)' : null,
    listed('one-way:', verdict.oneWayLinks.map((link) => `${link.from}->${link.to} lost`)),
  ].filter((note): note is string => note !== null);
  const head =
    verdict.type === null
      ? 'cluster whole'
      : verdict.type === 'complete'
        ? `complete partition into ${verdict.components.map((side) => side.length).join('+')} nodes${
            verdict.majorityIndex === null ? ', no majority side' : ''
          }`
        : verdict.type === 'byzantine'
          ? `byzantine: ${verdict.byzantine.links.length} link(s) with bad packets`
          : `${verdict.type} partition: ${verdict.cutLinks.length} cut link(s)`;
  return notes.length > 0 ? `${head}; ${notes.join('; ')}` : head;
}
