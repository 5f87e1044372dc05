/**
 * The server's in-memory view of each cluster: who is known, who is connected,
 * the directed reachability matrix built from agents' reports, and the faults
 * injected on demand. A cache of what agents said; the database holds history.
 */
import { type ObservedEvidence, type PartitionVerdict, classifyPartition, evidenceWindowMsDefault } from '../core/classify-partition';
import { type DebounceState, initialDebounceState, verdictShapeKey } from '../core/partition-debounce';
import { type AgentHello, type AgentReport, type DataPlaneStatus, type FaultRule, type NodeId, type ObserverHealth, isAccusingEvidenceKind } from '../core/protocol';
import { type ReachabilityMatrix, createMatrix, setCell } from '../core/reachability';
import type { ClusterSnapshot, NodeView, PartitionSummary, UnknownPeerEvidence } from '../core/realtime-contract';

/** Largest number of nodes one cluster may hold; bounds memory and matrix work. */
export const clusterNodesMax = 1000;
/** Most accusing (contradiction) evidence items kept per cluster (newest kept). */
export const clusterEvidenceMax = 2048;
/** Most untrusted evidence items kept per cluster (newest kept): their own budget, so a flood of them cannot push out a contradiction. */
export const clusterUntrustedEvidenceMax = 2048;
/** Most distinct unknown peer names kept per reporting agent; the count goes on beyond it. */
export const unknownPeerNamesMax = 16;

interface NodeState {
  address: string | null;
  connected: boolean;
  incarnation: number;
  lastReportAtMs: number | null;
  faults: FaultRule[];
  /** A running scenario cut this node's link to the control server: its reports are refused as undeliverable until healed. */
  controlPlaneCut?: boolean;
  /** Agent clock time of the latest report seen (ms); older ones are history, not news. */
  lastSentAtMs: number;
  /** Smallest (receive time − agent send time) seen this incarnation: clock skew plus the fastest delivery (ms). */
  delayMinMs: number;
  /** The node's store as of its latest report (counters since its agent started); null when unknown. */
  dataPlane: DataPlaneStatus | null;
}

/** One cluster's live state. */
export class ClusterState {
  readonly matrix: ReachabilityMatrix = createMatrix([]);
  readonly nodes = new Map<NodeId, NodeState>();
  seq = 0;
  verdict: PartitionVerdict | null = null;
  activePartition: PartitionSummary | null = null;
  /** Debounced (published) view of the verdicts: what partitions are opened and closed from. */
  debounce: DebounceState = initialDebounceState();
  /** Accusing evidence (contradictions) reported by agents, with who reported it. */
  evidence: ObservedEvidence[] = [];
  /** Untrusted evidence (bad signatures, malformed, replays, re-sent datagrams): shown, never a verdict; the kind decides, not the agent. */
  untrustedEvidence: ObservedEvidence[] = [];
  /** Each agent's latest self-reported health; the classifier discounts unhealthy observers' claims. */
  readonly observerHealth = new Map<NodeId, ObserverHealth>();
  /** Largest heartbeat interval agents of this cluster report (ms); sizes the stability windows. */
  heartbeatIntervalMs = 1000;
  /** Per reporting agent, what it said about peers that are not members (bounded: one entry per node). */
  readonly unknownPeers = new Map<NodeId, UnknownPeerEvidence>();
  /** Unknown (observer, peer) pairs seen for the first time since the last `takeNewUnknownPeers`. */
  private newUnknownPeers: { observerId: NodeId; peerId: NodeId }[] = [];

  /** `isMember` says who belongs to the cluster; a peer that is neither a member nor already a node is only evidence. */
  constructor(
    readonly clusterId: string,
    readonly name: string,
    readonly demo: boolean,
    private readonly isMember: (nodeId: NodeId) => boolean,
  ) {}

  /** Whether `id` may be a node: already one, or a member. */
  private known(id: NodeId): boolean {
    return this.nodes.has(id) || this.isMember(id);
  }

  /** Records that `observerId` named `peerId`, which is not a member. */
  private noteUnknownPeer(observerId: NodeId, peerId: NodeId, atMs: number): void {
    const entry = this.unknownPeers.get(observerId) ?? { observerId, peerIds: [], count: 0, firstAtMs: atMs, lastAtMs: atMs };
    entry.count += 1;
    entry.lastAtMs = atMs;
    if (!entry.peerIds.includes(peerId) && entry.peerIds.length < unknownPeerNamesMax) {
      entry.peerIds.push(peerId);
      this.newUnknownPeers.push({ observerId, peerId });
    }
    this.unknownPeers.set(observerId, entry);
  }

  /**
   * The evidence to show: names that have since become members (a credential
   * issued after the agent first named the peer) no longer count against it.
   */
  private unknownPeerEvidence(): UnknownPeerEvidence[] {
    return [...this.unknownPeers.values()]
      .map((entry) => ({ ...entry, peerIds: entry.peerIds.filter((peerId) => !this.known(peerId)) }))
      .filter((entry) => entry.peerIds.length > 0)
      .sort((a, b) => a.observerId.localeCompare(b.observerId));
  }

  /** Unknown (observer, peer) pairs first seen since the last call, for the log; at most `unknownPeerNamesMax` per observer ever. */
  takeNewUnknownPeers(): { observerId: NodeId; peerId: NodeId }[] {
    const taken = this.newUnknownPeers;
    this.newUnknownPeers = [];
    return taken;
  }

  /** Returns the node's state, creating it on first mention. */
  node(id: NodeId): NodeState {
    let state = this.nodes.get(id);
    if (!state) {
      if (this.nodes.size >= clusterNodesMax) throw new RangeError(`cluster ${this.clusterId} exceeds ${clusterNodesMax} nodes`);
      state = { address: null, connected: false, incarnation: 0, lastReportAtMs: null, faults: [], dataPlane: null, lastSentAtMs: 0, delayMinMs: Number.POSITIVE_INFINITY };
      this.nodes.set(id, state);
      if (!this.matrix.nodes.includes(id)) {
        this.matrix.nodes.push(id);
        this.matrix.nodes.sort();
      }
    }
    return state;
  }

  /** Records an agent's hello; peers it names that are not members are evidence, not nodes. */
  applyHello(hello: AgentHello, receivedAtMs: number): void {
    const state = this.node(hello.agentId);
    state.address = hello.address;
    state.incarnation = hello.incarnation;
    for (const peer of hello.peers) {
      if (this.known(peer)) this.node(peer);
      else this.noteUnknownPeer(hello.agentId, peer, receivedAtMs);
    }
  }

  /** Folds one validated report into the matrix. Reports from an older incarnation are ignored. */
  applyReport(report: AgentReport, receivedAtMs: number, staleAfterMs = Number.POSITIVE_INFINITY): boolean {
    const state = this.node(report.agentId);
    if (report.incarnation < state.incarnation) return false;
    // A report replayed from an outbox after a cut describes the past: it is stored
    // (history), but it must not pass for the present view, nor undo a newer one.
    // Ages are judged against the smallest delay seen from this agent, so a skewed
    // agent clock is not mistaken for a replay.
    const newIncarnation = report.incarnation > state.incarnation;
    if (!newIncarnation && report.sentAtMs < state.lastSentAtMs) return false;
    const delayMs = receivedAtMs - report.sentAtMs;
    const delayMinMs = newIncarnation ? delayMs : Math.min(state.delayMinMs, delayMs);
    state.delayMinMs = delayMinMs;
    state.lastSentAtMs = report.sentAtMs;
    state.incarnation = report.incarnation;
    if (delayMs - delayMinMs > staleAfterMs) return false;
    state.lastReportAtMs = receivedAtMs;
    if (report.dataPlane) state.dataPlane = report.dataPlane;
    this.heartbeatIntervalMs = report.heartbeatIntervalMs;
    if (report.health) this.observerHealth.set(report.agentId, report.health);
    else this.observerHealth.delete(report.agentId);
    if (report.evidence.length > 0) {
      const stamped = report.evidence.map((item) => ({ ...item, lastAtMs: receivedAtMs, observerId: report.agentId }));
      const recent = (items: ObservedEvidence[], itemsMax: number) =>
        items.filter((item) => receivedAtMs - item.lastAtMs <= evidenceWindowMsDefault).slice(-itemsMax);
      this.evidence = recent([...this.evidence, ...stamped.filter((item) => isAccusingEvidenceKind(item.kind))], clusterEvidenceMax);
      this.untrustedEvidence = recent([...this.untrustedEvidence, ...stamped.filter((item) => !isAccusingEvidenceKind(item.kind))], clusterUntrustedEvidenceMax);
    }
    for (const observation of report.observations) {
      if (!this.known(observation.peerId)) {
        this.noteUnknownPeer(report.agentId, observation.peerId, receivedAtMs);
        continue;
      }
      this.node(observation.peerId);
      setCell(this.matrix, report.agentId, observation.peerId, {
        reachable: observation.reachable,
        reportedAtMs: receivedAtMs,
        sinceMs: observation.sinceMs,
        suspicion: observation.suspicion,
      });
    }
    return true;
  }

  /** Runs the classifier at `nowMs` and remembers the verdict. */
  classify(nowMs: number, staleAfterMs: number): PartitionVerdict {
    const evidence = this.untrustedEvidence.length > 0 ? [...this.evidence, ...this.untrustedEvidence] : this.evidence;
    this.verdict = classifyPartition(this.matrix, { nowMs, staleAfterMs, evidence, observerHealth: this.observerHealth });
    return this.verdict;
  }

  /** Builds the dashboard snapshot at `nowMs`. */
  snapshot(nowMs: number, staleAfterMs: number): ClusterSnapshot {
    const nodes: NodeView[] = [...this.nodes.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([id, state]) => ({
        id,
        address: state.address,
        connected: state.connected,
        lastReportAtMs: state.lastReportAtMs,
        stale: state.lastReportAtMs === null || nowMs - state.lastReportAtMs > staleAfterMs,
        faults: state.faults,
        dataPlane: state.dataPlane,
      }));
    const verdict = this.verdict ?? this.classify(nowMs, staleAfterMs);
    return {
      clusterId: this.clusterId,
      name: this.name,
      demo: this.demo,
      seq: this.seq,
      atMs: nowMs,
      nodes,
      links: verdict.cutLinks,
      verdict,
      activePartition: this.activePartition,
      unknownPeers: this.unknownPeerEvidence(),
    };
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
