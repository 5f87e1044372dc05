/**
 * The server's in-memory view of each cluster: the directed reachability matrix,
 * health and evidence folded from agents' reports by core's report fold (the same
 * fold the simulator runs), and what only the server knows: addresses, who is
 * connected, the faults injected on demand, the published verdict and partition.
 * A cache of what agents said; the database holds history.
 */
import type { PartitionVerdict } from '../core/classify-partition';
import { type DebounceState, initialDebounceState, verdictShapeKey } from '../core/partition-debounce';
import type { AgentHello, FaultRule, NodeId } from '../core/protocol';
import { type ClusterSnapshot, type LinkFigureView, type NodeView, type PartitionSummary, linkFiguresNodesMax } from '../core/realtime-contract';
import { type FoldedNode, ReportFold, foldedNodeDefaults } from '../core/report-fold';

// The fold's bounds, re-exported where the server's readers have always found them.
export { clusterEvidenceMax, clusterNodesMax, clusterUntrustedEvidenceMax, unknownPeerNamesMax } from '../core/report-fold';

/** What the server keeps per node: the fold's fields, and what only the server knows. */
interface NodeState extends FoldedNode {
  address: string | null;
  connected: boolean;
  faults: FaultRule[];
  /** A running scenario cut this node's link to the control server: its reports are refused as undeliverable until healed. */
  controlPlaneCut?: boolean;
}

const nodeStateDefaults = (): NodeState => ({ ...foldedNodeDefaults(), address: null, connected: false, faults: [] });

/** One cluster's live state: the report fold (core/report-fold.ts) and what the server adds to it. */
export class ClusterState extends ReportFold<NodeState> {
  seq = 0;
  verdict: PartitionVerdict | null = null;
  activePartition: PartitionSummary | null = null;
  /** Debounced (published) view of the verdicts: what partitions are opened and closed from. */
  debounce: DebounceState = initialDebounceState();
  /** Cache of `orderedIds`. */
  private sortedIds: NodeId[] = [];

  /** `isMember` says who belongs to the cluster; a peer that is neither a member nor already a node is only evidence. */
  constructor(
    clusterId: string,
    readonly name: string,
    readonly demo: boolean,
    isMember: (nodeId: NodeId) => boolean,
  ) {
    super(isMember, nodeStateDefaults, clusterId);
  }

  /** Records an agent's hello; peers it names that are not members are evidence, not nodes. */
  applyHello(hello: AgentHello, receivedAtMs: number): void {
    const state = this.node(hello.agentId);
    state.address = hello.address;
    state.incarnation = hello.incarnation;
    this.notePeersNamed(hello.agentId, hello.peers, receivedAtMs);
  }

  /** Runs the classifier at `nowMs` and remembers the verdict. */
  override classify(nowMs: number, staleAfterMs: number): PartitionVerdict {
    this.verdict = super.classify(nowMs, staleAfterMs);
    return this.verdict;
  }

  /** Builds the dashboard snapshot at `nowMs`. */
  snapshot(nowMs: number, staleAfterMs: number): ClusterSnapshot {
    const nodes: NodeView[] = this.orderedIds().map((id) => {
      const state = this.nodes.get(id)!;
      return {
        id,
        address: state.address,
        connected: state.connected,
        lastReportAtMs: state.lastReportAtMs,
        stale: state.lastReportAtMs === null || nowMs - state.lastReportAtMs > staleAfterMs,
        faults: state.faults,
        dataPlane: state.dataPlane,
        faultInjection: state.faultInjection,
      };
    });
    const verdict = this.verdict ?? this.classify(nowMs, staleAfterMs);
    return {
      clusterId: this.clusterId,
      name: this.name,
      demo: this.demo,
      seq: this.seq,
      atMs: nowMs,
      staleAfterMs,
      nodes,
      links: verdict.cutLinks,
      verdict,
      activePartition: this.activePartition,
      unknownPeers: this.unknownPeerEvidence(),
      ...(this.nodes.size <= linkFiguresNodesMax && { linkFigures: this.linkFigures() }),
    };
  }

  /**
   * Node ids in the snapshot's order (`localeCompare`), sorted again only when the
   * nodes changed: a snapshot per evaluation sorted 1,000 ids through ICU each time.
   */
  private orderedIds(): NodeId[] {
    if (this.sortedIds.length !== this.nodes.size || this.sortedIds.some((id) => !this.nodes.has(id))) {
      this.sortedIds = [...this.nodes.keys()].sort((a, b) => a.localeCompare(b));
    }
    return this.sortedIds;
  }

  /** Delay and loss per directed pair, from each receiver's latest report. */
  private linkFigures(): LinkFigureView[] {
    const figures: LinkFigureView[] = [];
    for (const [observer, row] of this.matrix.cells) {
      for (const [peer, cell] of row) {
        if (cell.transitMs === undefined && cell.lossRatio === undefined) continue;
        figures.push({ from: peer, to: observer, delayMs: cell.transitMs ?? null, lossRatio: cell.lossRatio ?? null });
      }
    }
    return figures;
  }
}

/** Fingerprint of what a dashboard would draw, ignoring clocks; equal means "nothing to push". */
export function snapshotFingerprint(snapshot: ClusterSnapshot): string {
  return JSON.stringify([
    snapshot.nodes.map((node) => [node.id, node.address, node.connected, node.stale, node.faults, node.dataPlane?.fence ?? null]),
    verdictShapeKey(snapshot.verdict),
    snapshot.verdict.conditions,
    // A new origin of untrusted traffic is news to an operator; its growing count alone is not.
    (snapshot.verdict.untrustedTraffic ?? []).map((group) => [group.observerId, group.source, group.linkPeerId]),
    snapshot.activePartition,
    snapshot.unknownPeers.map((entry) => [entry.observerId, entry.peerIds]),
  ]);
}
