/**
 * Turns a directed reachability matrix, byzantine evidence and staleness into a verdict:
 * is the cluster split, how, which nodes and links are to blame, and on whose word.
 * Pure and deterministic: the same inputs give the same verdict.
 *
 * Only evidence a cluster key holder must have signed (a contradiction, see
 * `isAccusingEvidenceKind`) can make a node or link byzantine. Bad signatures,
 * malformed packets, replays and datagrams re-sent from another peer's address are
 * decided from their kind, whatever the reporting agent claims, to be untrusted
 * traffic: listed per observer and origin for operators, never a partition type, a
 * byzantine finding, an emergency or a fence, because anyone on the network can send them.
 *
 * Reading rules, in order:
 * 1. A cell older than `staleAfterMs` is not evidence. A node with no fresh cell of its
 *    own is "stale": its outgoing view is unknown. So is a node whose reports are overdue
 *    (older than `overdueAfterMs`) when no observer that still reports on time hears it
 *    and one of them has lost it: its last report predates its silence, and read as
 *    current it would turn a crash into a string of one-way links.
 * 2. An observer whose own health is discounted (see detectors/observer-health.ts) is
 *    not believed when it says "I cannot hear X" (it may be the one that is sick); its
 *    "I hear X" still counts, because hearing cannot be faked by a slow observer. Two
 *    exceptions, where the claim blames nobody but the observer's own side or agrees with
 *    what the server sees itself, so that the penalty cannot hide a real failure:
 *    - X still reports and hears the observer: the claim only makes X → observer a
 *      one-way link into the observer. A node that hears no peer while they all hear it
 *      is deaf (inbound black-holed), and the one-way partition towards it is named. Not
 *      for an observer that missed its own deadlines (paused or starved), whose silence
 *      may be its own slowness.
 *    - X's own reports have stopped and no trusted observer hears it: the server cannot
 *      hear X either, so losing it is a mass failure to name, never health.
 * 3. A direction counts as broken only when its receiver says so; silence is not a cut.
 * 4. Nodes about which nothing fresh is known at all are left out of the graph (unknown),
 *    so a node that never reported does not look like a partition.
 * 5. Unknown is neither up nor down: "I hear X" counts only when the observer heard X
 *    within `heardWithinMs`. Where agents heartbeat a bounded set of peers per interval
 *    (round-robin, 32 of 999), an observer keeps calling a peer reachable for a whole
 *    round after it last heard it; that claim says nothing about the link now. Read as
 *    "up", the stale claims of an isolated node held it inside the cluster's component
 *    and a one-node isolation of 1,000 nodes read "partial, 1000 nodes". Read as
 *    unknown, it is cut from the others by its down links alone: "complete 999 + 1".
 */
import { type AccusingEvidenceKind, type Evidence, type NodeId, type UntrustedEvidenceKind, isAccusingEvidenceKind } from './protocol';
import type { ObserverHealthSnapshot } from './detectors/observer-health';
import { DisjointSets } from './disjoint-sets';
import { type Link, type ReachabilityCell, type ReachabilityMatrix, linkFromDirections } from './reachability';

/** The kinds of partition Faultline names. */
export type PartitionType = 'complete' | 'partial' | 'asymmetric' | 'byzantine';

/** One evidence item (accusing or untrusted) together with the agent that gathered it. */
export interface ObservedEvidence extends Evidence {
  /** The agent that received the bad packets and reported them. */
  observerId: NodeId;
}

/** Default window (ms) over which evidence (accusing and untrusted) is considered current. */
export const evidenceWindowMsDefault = 30_000;
/** Default number of contradictions on one link before it counts as byzantine (one could be a fluke of the sender's restart; two within the window are not). */
export const byzantineEvidenceCountMinDefault = 2;
/** Default number of distinct accusers before a node (rather than one link) is called byzantine. */
export const byzantineNodeAccusersMinDefault = 2;
/** Default bound on evidence-chain entries carried by one verdict. */
export const evidenceEntriesMaxDefault = 256;
/** Extra delay (ms) from which a link is listed as slow in the verdict (late, not lost). */
export const slowLinkDelayMsMin = 50;
/** Most slow links one verdict lists (the slowest first). */
export const slowLinksMax = 32;

/** A link whose datagrams arrive late but arrive: shown to operators, never a partition. */
export interface SlowLink {
  /** The sender whose datagrams are late. */
  from: NodeId;
  /** The observer that measured it. */
  to: NodeId;
  /** Measured extra one-way delay (ms) above the link's fastest. */
  delayMs: number;
}

/** Most untrusted-traffic findings one verdict lists (the largest counts first); the rest are counted in `untrustedTrafficOmitted`. */
export const untrustedTrafficMax = 64;

/** Options of the classifier. All but the first two are optional, so existing callers keep working. */
export interface ClassifyOptions {
  /** Current time (ms since epoch). */
  nowMs: number;
  /** A cell older than this is stale and ignored (ms). */
  staleAfterMs: number;
  /** Evidence reported by agents (accusing and untrusted); items whose `lastAtMs` is older than `evidenceWindowMs` are ignored. */
  evidence?: readonly ObservedEvidence[];
  /** Each observer's latest health snapshot, as it reported it. Missing observers count as healthy. */
  observerHealth?: ReadonlyMap<NodeId, ObserverHealthSnapshot>;
  /** How far back (ms) evidence counts; default `evidenceWindowMsDefault`. */
  evidenceWindowMs?: number;
  /** Bad packets on one directed link before it is byzantine; default `byzantineEvidenceCountMinDefault`. */
  byzantineEvidenceCountMin?: number;
  /** Distinct accusers before a node is byzantine; default `byzantineNodeAccusersMinDefault`. */
  byzantineNodeAccusersMin?: number;
  /** Whether "unreachable" claims from discounted observers are ignored; default true. */
  discountUnhealthyObservers?: boolean;
  /** Bound on the evidence chain length; default `evidenceEntriesMaxDefault`. */
  evidenceEntriesMax?: number;
  /** A node whose newest report is older than this (ms) is overdue (see rule 1); default `staleAfterMs` (never earlier than stale). */
  overdueAfterMs?: number;
  /**
   * A "reachable" cell whose observer last heard the peer longer ago than this (ms) is
   * unknown rather than up (rule 5); default `staleAfterMs`. Cells that do not say when
   * the peer was last heard, or whose peer was never heard, are read as before.
   */
  heardWithinMs?: number;
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

/** A directed link (`from` → `to` datagrams) flagged by accusing (signed) evidence. */
export interface ByzantineLink {
  /** The accused sender. */
  from: NodeId;
  /** The observer that received the bad packets. */
  to: NodeId;
  /** The kinds of misbehaviour seen (accusing kinds only). */
  kinds: AccusingEvidenceKind[];
  /** Bad packets counted in the evidence window. */
  count: number;
}

/**
 * Datagrams failing integrity at one observer from one origin within the evidence
 * window: a link or an address with failing integrity. They accuse nobody.
 */
export interface UntrustedTraffic {
  /** The agent that received them. */
  observerId: NodeId;
  /** "host:port" they came from (`*`: the agent's many-sources bucket), or null when an older agent did not say. */
  source: string | null;
  /** The configured peer whose address `source` is (the link `linkPeerId` → observer carries them), or null for an address no peer uses. */
  linkPeerId: NodeId | null;
  /** Nodes the datagrams claimed to come from; they prove nothing about these nodes. */
  namedIds: NodeId[];
  /** The kinds seen, sorted. */
  kinds: UntrustedEvidenceKind[];
  /** Datagrams counted in the window. */
  count: number;
  /** Time of the latest (ms). */
  lastAtMs: number;
}

/** Byzantine findings (from accusing evidence only). */
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
  /** The node the claim is about; for untrusted traffic the peer whose address sent it, or null for an address no peer uses. */
  subjectId: NodeId | null;
  /** The claim: it hears the subject, it does not, it received signed contradictions from it, or datagrams failing integrity (which accuse nobody). */
  claim: 'reachable' | 'unreachable' | `byzantine:${AccusingEvidenceKind}` | `untrusted:${UntrustedEvidenceKind}`;
  /** Where untrusted datagrams came from ("host:port"), when the observer said. */
  source?: string;
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
  /** Measured extra delay (ms) of the subject's datagrams at the observer, when measured: a late link, not a lost one. */
  delayMs?: number;
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
  /** Nodes that report hearing no peer while every peer that reports on them hears them: inbound black-holed (the one-way links towards them are in `oneWayLinks`). */
  deafNodes: NodeId[];
  /** Nodes cut from the control server only (peers hear them): not a cluster partition. */
  controlPlaneCutNodes: NodeId[];
  /** Nodes about which nothing fresh is known; left out of `components`. */
  unknownNodes: NodeId[];
  /** Per-node condition, for every node in the matrix, in matrix order. */
  conditions: Array<{ nodeId: NodeId; condition: NodeCondition }>;
  /** Byzantine nodes and links named by accusing evidence. */
  byzantine: ByzantineFindings;
  /** Links measured slow (late, not lost), slowest first, at most `slowLinksMax`: shown to operators, never part of the type. */
  slowLinks: SlowLink[];
  /** Datagrams failing integrity per observer and origin: shown to operators, never part of the type or any decision. */
  untrustedTraffic: UntrustedTraffic[];
  /** Untrusted-traffic findings left out of `untrustedTraffic` because of its bound. */
  untrustedTrafficOmitted: number;
  /** Observers whose "unreachable" claims were not believed because they were unhealthy. */
  discountedObservers: NodeId[];
  /** Claims behind the cut links, silent nodes and byzantine findings, then untrusted traffic, bounded by `evidenceEntriesMax`. */
  evidence: EvidenceEntry[];
  /** Entries left out of `evidence` because of its bound. */
  evidenceOmitted: number;
  /** One sentence for humans. */
  summary: string;
}

/** What a fresh, trusted cell says, packed into one byte of the dense table. */
const heardNothing = 0;
const heardReachable = 1;
const heardUnreachable = 2;

/**
 * The fresh, trusted part of the matrix as a dense table over `matrix.nodes` (whose
 * entries are unique), built in one pass over the cells: every later step reads bytes
 * and counters by node index instead of maps, which keeps 200+ node clusters cheap.
 */
interface Prepared {
  /** Position of each node in `matrix.nodes`. */
  index: Map<NodeId, number>;
  /** `hears[observer * n + subject]`: heardNothing, heardReachable or heardUnreachable (fresh and trusted cells only). */
  hears: Uint8Array;
  /** Per node: trusted fresh cells of other observers saying they hear it. */
  heardBy: Int32Array;
  /** Per node: trusted fresh cells of other observers saying they lost it. */
  lostBy: Int32Array;
  /** Per node: 1 when its own raw fresh view (discounted or not, itself excluded) has cells but hears nobody. */
  hearsNobody: Uint8Array;
  staleNodes: NodeId[];
  discounted: Set<NodeId>;
}

/** A discounted observer's "unreachable" claim, decided once everyone's fresh view is known. */
interface DeferredClaim {
  observer: number;
  subject: number;
}

/** Keeps fresh cells only, and drops "unreachable" claims of discounted observers except where rule 2 keeps them. */
function prepare(matrix: ReachabilityMatrix, options: ClassifyOptions): Prepared {
  const { nodes } = matrix;
  const count = nodes.length;
  const index = new Map<NodeId, number>(nodes.map((node, position) => [node, position]));
  const prepared: Prepared = {
    index,
    hears: new Uint8Array(count * count),
    heardBy: new Int32Array(count),
    lostBy: new Int32Array(count),
    hearsNobody: new Uint8Array(count),
    staleNodes: [],
    discounted: new Set<NodeId>(),
  };
  const discounting = options.discountUnhealthyObservers ?? true;
  const deferred: DeferredClaim[] = [];
  const stale = new Uint8Array(count);
  const heardWithinMs = options.heardWithinMs ?? options.staleAfterMs;
  for (let observer = 0; observer < count; observer += 1) {
    const node = nodes[observer]!;
    const unhealthy = discounting && options.observerHealth?.get(node)?.discounted === true;
    let freshCells = 0;
    let freshOwnCells = 0;
    /** Fresh cells that say something (not rule 5's unknown). */
    let knownCells = 0;
    let newestMs = Number.NEGATIVE_INFINITY;
    let hearsSomebody = false;
    // forEach rather than for-of: no entry pair per cell, and this visits every cell of the matrix.
    matrix.cells.get(node)?.forEach((cell, peer) => {
      if (options.nowMs - cell.reportedAtMs > options.staleAfterMs) return;
      freshCells += 1;
      if (cell.reportedAtMs > newestMs) newestMs = cell.reportedAtMs;
      // Rule 5: a reachable claim about a peer not heard lately is unknown, neither up nor
      // down, and says nothing of the observer either: it does not count towards "hears
      // nobody", and a row of nothing but unknowns is read as stale (a row aging towards
      // stale passes through this for a moment, and must not make its observer look deaf
      // or alone).
      if (cell.reachable && unheard(cell, options.nowMs, heardWithinMs)) return;
      knownCells += 1;
      if (peer !== node) {
        freshOwnCells += 1;
        if (cell.reachable) hearsSomebody = true;
      }
      const subject = index.get(peer);
      if (unhealthy && !cell.reachable) {
        if (subject !== undefined && subject !== observer) deferred.push({ observer, subject });
        else prepared.discounted.add(node);
        return;
      }
      if (subject === undefined) return;
      prepared.hears[observer * count + subject] = cell.reachable ? heardReachable : heardUnreachable;
      if (subject === observer) return;
      if (cell.reachable) prepared.heardBy[subject]! += 1;
      else prepared.lostBy[subject]! += 1;
    });
    // A row whose every fresh claim is unknown says as little as a stale one: its view is unknown.
    if (freshCells === 0 || knownCells === 0) stale[observer] = 1;
    else if (options.nowMs - newestMs > (options.overdueAfterMs ?? options.staleAfterMs)) stale[observer] = 2;
    if (freshOwnCells > 0 && !hearsSomebody) prepared.hearsNobody[observer] = 1;
  }
  // Decided against the observers reporting on time only, then applied.
  const silenced = [...stale.keys()].filter((node) => stale[node] === 2 && overdueIsSilent(node, prepared, deferred, stale));
  for (const node of silenced) dropRow(node, prepared);
  for (let observer = 0; observer < count; observer += 1) {
    if (stale[observer] === 2) stale[observer] = silenced.includes(observer) ? 1 : 0;
    if (stale[observer] === 1) prepared.staleNodes.push(nodes[observer]!);
  }
  for (const claim of deferred) if (stale[claim.observer] === 0) decideDiscountedClaim(claim, matrix, options, prepared, stale);
  return prepared;
}

/** Whether an overdue node (marked 2 in `stale`) is silent: no observer reporting on time (0) hears it, and one has lost it. */
function overdueIsSilent(node: number, prepared: Prepared, deferred: readonly DeferredClaim[], stale: Uint8Array): boolean {
  const count = stale.length;
  let lost = deferred.some((claim) => claim.subject === node && stale[claim.observer] === 0);
  for (let observer = 0; observer < count; observer += 1) {
    if (stale[observer] !== 0) continue;
    const byte = prepared.hears[observer * count + node];
    if (byte === heardReachable) return false;
    if (byte === heardUnreachable) lost = true;
  }
  return lost;
}

/** Takes a node's own claims out of the table: its view is no longer current. */
function dropRow(node: number, prepared: Prepared): void {
  const count = prepared.heardBy.length;
  for (let subject = 0; subject < count; subject += 1) {
    const byte = prepared.hears[node * count + subject];
    if (byte === heardNothing) continue;
    prepared.hears[node * count + subject] = heardNothing;
    if (subject === node) continue;
    if (byte === heardReachable) prepared.heardBy[subject]! -= 1;
    else prepared.lostBy[subject]! -= 1;
  }
  prepared.hearsNobody[node] = 0;
}

/** Rule 2's exceptions: keeps a discounted observer's "unreachable" claim when it blames nobody but the observer's side, or when the server cannot hear the subject either. */
function decideDiscountedClaim(claim: DeferredClaim, matrix: ReachabilityMatrix, options: ClassifyOptions, prepared: Prepared, stale: Uint8Array): void {
  const count = matrix.nodes.length;
  const { observer, subject } = claim;
  const observerId = matrix.nodes[observer]!;
  const subjectHearsObserver = prepared.hears[subject * count + observer] === heardReachable;
  const stalled = options.observerHealth?.get(observerId)?.lastReason === 'missed-deadline';
  const deafTowardsObserver = stale[subject] === 0 && subjectHearsObserver && !stalled;
  const massFailure = stale[subject] === 1 && prepared.heardBy[subject] === 0;
  if (!deafTowardsObserver && !massFailure) {
    prepared.discounted.add(observerId);
    return;
  }
  prepared.hears[observer * count + subject] = heardUnreachable;
  prepared.lostBy[subject]! += 1;
}

/**
 * Whether a cell says its observer last heard the peer longer than `heardWithinMs` before
 * `nowMs`. A peer never heard at all (null: the agent has just started, its first round is
 * not over) is read as before, reachable by default: otherwise every start would split
 * the cluster into singletons until each observer had heard every peer once.
 */
function unheard(cell: ReachabilityCell, nowMs: number, heardWithinMs: number): boolean {
  return typeof cell.heardAtMs === 'number' && nowMs - cell.heardAtMs > heardWithinMs;
}

/** A table byte back as `canDeliver` answers: true, false, or undefined when nothing fresh and trusted was said. */
function deliveryOf(heard: number): boolean | undefined {
  return heard === heardNothing ? undefined : heard === heardReachable;
}

/** Decides each node's condition (by node index) from who hears it and whether it reports. */
function nodeConditions(matrix: ReachabilityMatrix, prepared: Prepared): NodeCondition[] {
  const stale = new Set(prepared.staleNodes);
  return matrix.nodes.map((node, position) => {
    const heard = prepared.heardBy[position]!;
    const lost = prepared.lostBy[position]!;
    if (stale.has(node)) return heard > 0 ? 'control-plane-cut' : lost > 0 ? 'crashed-or-isolated' : 'unknown';
    const isolated = prepared.hearsNobody[position] === 1 && heard === 0 && lost > 0;
    return isolated ? 'isolated' : 'healthy';
  });
}

/** The link graph over known nodes: what the verdict needs from all pairs, without a Link object per pair. */
interface LinkGraph {
  /** Down and one-way links, in pair order (as `allLinks` lists them). */
  cutLinks: Link[];
  /** Per known node (by position in `known`): positions of its two-way neighbours, ascending. */
  twoWay: number[][];
  /** Components of the "works in at least one direction" graph, as `connectedComponents` returns them. */
  components: NodeId[][];
}

/** Reads every pair of known nodes once from the dense table (positions in `known` follow matrix order). */
function linkGraph(matrix: ReachabilityMatrix, prepared: Prepared, known: readonly NodeId[]): LinkGraph {
  const count = matrix.nodes.length;
  const positions = known.map((node) => prepared.index.get(node)!);
  const { hears } = prepared;
  const cutLinks: Link[] = [];
  const twoWay: number[][] = known.map(() => []);
  const sets = new DisjointSets(known.length);
  for (let i = 0; i < known.length; i += 1) {
    const a = positions[i]!;
    for (let j = i + 1; j < known.length; j += 1) {
      const b = positions[j]!;
      // a → b works when b hears a; b → a when a hears b.
      const aToB = hears[b * count + a]!;
      const bToA = hears[a * count + b]!;
      if (aToB === heardNothing && bToA === heardNothing) continue;
      if (aToB !== heardUnreachable && bToA !== heardUnreachable) {
        twoWay[i]!.push(j);
        twoWay[j]!.push(i);
      } else {
        const link = linkFromDirections(known[i]!, known[j]!, deliveryOf(aToB), deliveryOf(bToA));
        cutLinks.push(link);
        if (link.state === 'down') continue;
      }
      sets.union(i, j);
    }
  }
  const components = sets.components(known);
  return { cutLinks, twoWay, components };
}

/** Fresh cells measuring an extra delay of at least `slowLinkDelayMsMin`, slowest first. */
function slowLinks(matrix: ReachabilityMatrix, options: ClassifyOptions): SlowLink[] {
  const found: SlowLink[] = [];
  matrix.cells.forEach((row, observer) =>
    row.forEach((cell, peer) => {
      if (cell.delayMs === undefined || cell.delayMs < slowLinkDelayMsMin || !cell.reachable) return;
      if (options.nowMs - cell.reportedAtMs > options.staleAfterMs) return;
      found.push({ from: peer, to: observer, delayMs: cell.delayMs });
    }),
  );
  return found.sort((x, y) => y.delayMs - x.delayMs || x.from.localeCompare(y.from) || x.to.localeCompare(y.to)).slice(0, slowLinksMax);
}

/** Nodes that report and hear no peer, while every fresh observer reporting on them hears them (at least one does). */
function deafNodes(matrix: ReachabilityMatrix, prepared: Prepared, conditions: readonly NodeCondition[]): NodeId[] {
  return matrix.nodes.filter(
    (_, position) => conditions[position] === 'healthy' && prepared.hearsNobody[position] === 1 && prepared.heardBy[position]! > 0 && prepared.lostBy[position] === 0,
  );
}

/** Articulation points of the graph of two-way links (iterative Tarjan over positions, bounded by the node count). */
function articulationPoints(known: readonly NodeId[], twoWay: readonly number[][]): NodeId[] {
  const order = new Int32Array(known.length).fill(-1);
  const low = new Int32Array(known.length);
  const points = new Uint8Array(known.length);
  let counter = 0;
  for (let root = 0; root < known.length; root += 1) {
    if (order[root] !== -1) continue;
    let rootChildren = 0;
    order[root] = counter;
    low[root] = counter;
    counter += 1;
    const stack: Array<{ node: number; parent: number; next: number }> = [{ node: root, parent: -1, next: 0 }];
    while (stack.length > 0) {
      const frame = stack[stack.length - 1]!;
      const neighbours = twoWay[frame.node]!;
      if (frame.next < neighbours.length) {
        const neighbour = neighbours[frame.next]!;
        frame.next += 1;
        if (neighbour === frame.parent) continue;
        if (order[neighbour] !== -1) {
          low[frame.node] = Math.min(low[frame.node]!, order[neighbour]!);
          continue;
        }
        order[neighbour] = counter;
        low[neighbour] = counter;
        counter += 1;
        if (frame.node === root) rootChildren += 1;
        stack.push({ node: neighbour, parent: frame.node, next: 0 });
        continue;
      }
      stack.pop();
      const parent = frame.parent;
      if (parent === -1) continue;
      low[parent] = Math.min(low[parent]!, low[frame.node]!);
      if (parent !== root && low[frame.node]! >= order[parent]!) points[parent] = 1;
    }
    if (rootChildren > 1) points[root] = 1;
  }
  return known.filter((_, position) => points[position] === 1);
}

/** True when every node reaches a strict majority over two-way links, yet none reaches them all: the views overlap without agreeing. */
function hasOverlappingMajorities(known: readonly NodeId[], twoWay: readonly number[][], total: number): boolean {
  if (known.length < 3) return false;
  // A node's view is itself plus its two-way neighbours. A node that sees everyone is a
  // hub (a bridge or a cut-off pair's neighbour), not part of a ring.
  return twoWay.every((neighbours) => (neighbours.length + 1) * 2 > total && neighbours.length + 1 !== known.length);
}

/** Whether an item is inside the evidence window. */
const current = (item: ObservedEvidence, options: ClassifyOptions) => options.nowMs - item.lastAtMs <= (options.evidenceWindowMs ?? evidenceWindowMsDefault);

/** Aggregates accusing evidence per directed link and names the nodes accused by several observers; untrusted kinds are skipped whatever they name. */
function byzantineFindings(options: ClassifyOptions): ByzantineFindings {
  const countMin = options.byzantineEvidenceCountMin ?? byzantineEvidenceCountMinDefault;
  const accusersMin = options.byzantineNodeAccusersMin ?? byzantineNodeAccusersMinDefault;
  const byLink = new Map<string, ByzantineLink>();
  for (const item of options.evidence ?? []) {
    const kind = item.kind;
    if (!isAccusingEvidenceKind(kind) || item.peerId === undefined || item.peerId === item.observerId || !current(item, options)) continue;
    const key = `${item.peerId}>${item.observerId}`;
    const link = byLink.get(key) ?? { from: item.peerId, to: item.observerId, kinds: [], count: 0 };
    link.count += item.count;
    if (!link.kinds.includes(kind)) link.kinds.push(kind);
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

/** Groups untrusted evidence per (observer, source, link peer), largest counts first, bounded by `untrustedTrafficMax`. */
function untrustedTraffic(options: ClassifyOptions): { untrustedTraffic: UntrustedTraffic[]; untrustedTrafficOmitted: number } {
  const groups = new Map<string, UntrustedTraffic>();
  for (const item of options.evidence ?? []) {
    const kind = item.kind;
    if (isAccusingEvidenceKind(kind) || !current(item, options)) continue;
    const source = item.source ?? null;
    const linkPeerId = item.linkPeerId !== undefined && item.linkPeerId !== item.observerId ? item.linkPeerId : null;
    const key = JSON.stringify([item.observerId, source, linkPeerId]);
    const group = groups.get(key) ?? { observerId: item.observerId, source, linkPeerId, namedIds: [], kinds: [], count: 0, lastAtMs: item.lastAtMs };
    group.count += item.count;
    group.lastAtMs = Math.max(group.lastAtMs, item.lastAtMs);
    if (!group.kinds.includes(kind)) group.kinds.push(kind);
    if (item.peerId !== undefined && !group.namedIds.includes(item.peerId)) group.namedIds.push(item.peerId);
    groups.set(key, group);
  }
  const sorted = [...groups.values()]
    .map((group) => ({ ...group, kinds: group.kinds.sort(), namedIds: group.namedIds.sort() }))
    .sort((x, y) => y.count - x.count || x.observerId.localeCompare(y.observerId) || (x.source ?? '').localeCompare(y.source ?? ''));
  return { untrustedTraffic: sorted.slice(0, untrustedTrafficMax), untrustedTrafficOmitted: Math.max(0, sorted.length - untrustedTrafficMax) };
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
  const conditionList = nodeConditions(matrix, prepared);
  const known = matrix.nodes.filter((_, position) => conditionList[position] !== 'unknown');
  const { cutLinks, twoWay, components } = linkGraph(matrix, prepared, known);
  const total = matrix.nodes.length;
  const majorityIndex = components.findIndex((component) => component.length * 2 > total);
  const byzantine = byzantineFindings(options);
  const type = pickType(components, cutLinks, byzantine);
  const withCondition = (wanted: NodeCondition) => matrix.nodes.filter((_, position) => conditionList[position] === wanted);
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
    bridgeNodes: cutLinks.length > 0 ? articulationPoints(known, twoWay) : [],
    overlappingMajorities: components.length === 1 && cutLinks.length > 0 && hasOverlappingMajorities(known, twoWay, total),
    isolatedNodes: withCondition('isolated'),
    silentNodes: withCondition('crashed-or-isolated'),
    deafNodes: deafNodes(matrix, prepared, conditionList),
    slowLinks: slowLinks(matrix, options),
    controlPlaneCutNodes: withCondition('control-plane-cut'),
    unknownNodes: withCondition('unknown'),
    conditions: matrix.nodes.map((nodeId, position) => ({ nodeId, condition: conditionList[position]! })),
    byzantine,
    ...untrustedTraffic(options),
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
      ...(cell.delayMs !== undefined && { delayMs: cell.delayMs }),
    });
  };
  for (const link of verdict.cutLinks) {
    pushCell(link.a, link.b);
    pushCell(link.b, link.a);
  }
  for (const link of verdict.slowLinks) pushCell(link.to, link.from);
  for (const subject of [...verdict.silentNodes, ...verdict.controlPlaneCutNodes]) {
    for (const observer of matrix.nodes) if (observer !== subject) pushCell(observer, subject);
  }
  const flagged = new Set(verdict.byzantine.links.map((link) => `${link.from}>${link.to}`));
  const untrusted: ObservedEvidence[] = [];
  for (const item of options.evidence ?? []) {
    const kind = item.kind;
    if (!current(item, options)) continue;
    if (!isAccusingEvidenceKind(kind)) {
      untrusted.push(item);
      continue;
    }
    if (item.peerId === undefined || !flagged.has(`${item.peerId}>${item.observerId}`)) continue;
    push({
      observerId: item.observerId,
      subjectId: item.peerId,
      claim: `byzantine:${kind}`,
      atMs: item.lastAtMs,
      suspicion: item.count,
      observerHealthScore: health(item.observerId),
      discounted: false,
    });
  }
  // Last, so that a flood of untrusted datagrams cannot push the claims behind the verdict out of the bound.
  for (const item of untrusted) {
    push({
      observerId: item.observerId,
      subjectId: item.linkPeerId ?? null,
      claim: `untrusted:${item.kind as UntrustedEvidenceKind}`,
      ...(item.source !== undefined && { source: item.source }),
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

/** "untrusted traffic: 6 datagram(s) at n1, n2 (accuses no node)", or null when there is none. */
function untrustedNote(traffic: readonly UntrustedTraffic[]): string | null {
  if (traffic.length === 0) return null;
  const count = traffic.reduce((sum, group) => sum + group.count, 0);
  const observers = [...new Set(traffic.map((group) => group.observerId))].sort();
  return `untrusted traffic: ${count} datagram(s) failing integrity at ${observers.join(', ')} (accuses no node)`;
}

/** One sentence describing the verdict. */
function summarize(verdict: PartitionVerdict): string {
  const notes = [
    listed('isolated:', verdict.isolatedNodes),
    listed('crashed or isolated:', verdict.silentNodes),
    listed('deaf (hears no peer, heard by all):', verdict.deafNodes),
    listed('control-plane cut (not a partition):', verdict.controlPlaneCutNodes),
    listed('byzantine nodes:', verdict.byzantine.nodes),
    listed('bridges:', verdict.bridgeNodes),
    verdict.overlappingMajorities ? 'overlapping majorities (ring)' : null,
    listed('one-way:', verdict.oneWayLinks.map((link) => `${link.from}->${link.to} lost`)),
    listed('slow (late, not lost):', verdict.slowLinks.map((link) => `${link.from}->${link.to} +${link.delayMs} ms`)),
    untrustedNote(verdict.untrustedTraffic),
  ].filter((note): note is string => note !== null);
  const head =
    verdict.type === null
      ? 'cluster whole'
      : verdict.type === 'complete'
        ? `complete partition into ${verdict.components.map((side) => side.length).join('+')} nodes${
            verdict.majorityIndex === null ? ', no majority side' : ''
          }`
        : verdict.type === 'byzantine'
          ? `byzantine: ${verdict.byzantine.links.length} link(s) with contradictory signed datagrams`
          : `${verdict.type} partition: ${verdict.cutLinks.length} cut link(s)`;
  return notes.length > 0 ? `${head}; ${notes.join('; ')}` : head;
}
