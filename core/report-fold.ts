/**
 * The report fold: how agents' reports become a cluster's present view (the directed
 * reachability matrix, each observer's health, the evidence in its window), one
 * definition for the control server (server/cluster-view.ts) and the simulator.
 *
 * Its rules: a report from an older incarnation is ignored; a report older than the
 * newest seen from its agent never undoes it; a report replayed from an outbox after a
 * cut (its delay is more than `staleAfterMs` past the smallest delay seen from that
 * agent, so a skewed agent clock is not taken for a replay) is history, not the present;
 * peers that are not members are bounded evidence about the reporter, never nodes;
 * evidence is decided by its kind, with untrusted kinds on a budget of their own.
 * Pure: the receive time comes in.
 */
import { type ObservedEvidence, type PartitionVerdict, classifyPartition, evidenceWindowMsDefault } from './classify-partition';
import { type AgentReport, type DataPlaneStatus, type FaultInjectionStatus, type NodeId, type ObserverHealth, isAccusingEvidenceKind } from './protocol';
import { type ReachabilityMatrix, createMatrix, setRow } from './reachability';
import type { UnknownPeerEvidence } from './realtime-contract';

/** Largest number of nodes one cluster may hold; bounds memory and matrix work. */
export const clusterNodesMax = 1000;
/** Most accusing (contradiction) evidence items kept per cluster (newest kept). */
export const clusterEvidenceMax = 2048;
/** Most untrusted evidence items kept per cluster (newest kept): their own budget, so a flood of them cannot push out a contradiction. */
export const clusterUntrustedEvidenceMax = 2048;
/** Most distinct unknown peer names kept per reporting agent; the count goes on beyond it. */
export const unknownPeerNamesMax = 16;

/** What the fold keeps per node, from that node's own reports. */
export interface FoldedNode {
  /** Incarnation of the latest report or hello (restarts count up). */
  incarnation: number;
  /** Receive time of the latest report taken into the present view (ms), or null. */
  lastReportAtMs: number | null;
  /** Agent clock time of the latest report seen (ms); older ones are history, not news. */
  lastSentAtMs: number;
  /** Smallest (receive time − agent send time) seen this incarnation: clock skew plus the fastest delivery (ms). */
  delayMinMs: number;
  /** The node's store as of its latest report (counters since its agent started); null when unknown. */
  dataPlane: DataPlaneStatus | null;
  /** Where the agent's injected faults act (kernel or transport) and what it holds, as of its latest report; null when it never said. */
  faultInjection: FaultInjectionStatus | null;
}

/** A fresh node's fold fields. */
export const foldedNodeDefaults = (): FoldedNode => ({ incarnation: 0, lastReportAtMs: null, lastSentAtMs: 0, delayMinMs: Number.POSITIVE_INFINITY, dataPlane: null, faultInjection: null });

/**
 * One cluster's view folded from reports. `N` is what a node holds: the fold's fields
 * and whatever the holder adds (the server adds address, connection, faults), made by
 * `createNode`.
 */
export class ReportFold<N extends FoldedNode = FoldedNode> {
  readonly matrix: ReachabilityMatrix = createMatrix([]);
  readonly nodes = new Map<NodeId, N>();
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
  /** Counts up whenever something a verdict reads changed (a link flipped, a node appeared, health or evidence moved): equal means the last verdict still holds but for time. */
  revision = 0;
  /** Directed cells that turned unreachable since the fold was made: raw peer losses, before any classification. */
  peerLossCount = 0;
  /** Unknown (observer, peer) pairs seen for the first time since the last `takeNewUnknownPeers`. */
  private newUnknownPeers: { observerId: NodeId; peerId: NodeId }[] = [];

  /** `isMember` says who belongs to the cluster; a peer that is neither a member nor already a node is only evidence. */
  constructor(
    private readonly isMember: (nodeId: NodeId) => boolean,
    private readonly createNode: () => N,
    /** Names the cluster in the error past `clusterNodesMax`. */
    readonly clusterId: string,
  ) {}

  /** Whether `id` may be a node: already one, or a member. */
  protected known(id: NodeId): boolean {
    return this.nodes.has(id) || this.isMember(id);
  }

  /** Returns the node's state, creating it on first mention; throws RangeError past `clusterNodesMax`. */
  node(id: NodeId): N {
    let state = this.nodes.get(id);
    if (!state) {
      if (this.nodes.size >= clusterNodesMax) throw new RangeError(`cluster ${this.clusterId} exceeds ${clusterNodesMax} nodes`);
      state = this.createNode();
      this.nodes.set(id, state);
      this.revision += 1;
      if (!this.matrix.nodes.includes(id)) {
        this.matrix.nodes.push(id);
        this.matrix.nodes.sort();
      }
    }
    return state;
  }

  /** Records that `observerId` named these peers (its configuration): members become nodes, others are evidence. */
  notePeersNamed(observerId: NodeId, peers: readonly NodeId[], atMs: number): void {
    for (const peer of peers) {
      if (this.known(peer)) this.node(peer);
      else this.noteUnknownPeer(observerId, peer, atMs);
    }
  }

  /** Folds one validated report in; returns whether it was taken into the present view (false: older incarnation, out of order, or history). */
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
    if (report.faultInjection) state.faultInjection = report.faultInjection;
    this.heartbeatIntervalMs = report.heartbeatIntervalMs;
    this.applyHealth(report);
    this.applyEvidence(report, receivedAtMs);
    this.applyObservations(report, receivedAtMs);
    return true;
  }

  /** Writes the report's row of the matrix: members only, each unknown peer noted against the reporter. */
  private applyObservations(report: AgentReport, receivedAtMs: number): void {
    let entries = report.observations;
    if (entries.some((observation) => !this.known(observation.peerId))) {
      entries = entries.filter((observation) => {
        if (this.known(observation.peerId)) return true;
        this.noteUnknownPeer(report.agentId, observation.peerId, receivedAtMs);
        return false;
      });
    }
    for (const observation of entries) if (!this.nodes.has(observation.peerId)) this.node(observation.peerId);
    const flipped = setRow(this.matrix, report.agentId, entries, receivedAtMs, report.sentAtMs);
    if (flipped.length === 0) return;
    this.revision += 1;
    const row = this.matrix.cells.get(report.agentId)!;
    for (const peer of flipped) if (!row.get(peer)!.reachable) this.peerLossCount += 1;
  }

  private applyHealth(report: AgentReport): void {
    const previous = this.observerHealth.get(report.agentId);
    if (previous?.discounted !== report.health?.discounted) this.revision += 1;
    if (report.health) this.observerHealth.set(report.agentId, report.health);
    else this.observerHealth.delete(report.agentId);
  }

  private applyEvidence(report: AgentReport, receivedAtMs: number): void {
    if (report.evidence.length === 0) return;
    this.revision += 1;
    const stamped = report.evidence.map((item) => ({ ...item, lastAtMs: receivedAtMs, observerId: report.agentId }));
    const recent = (items: ObservedEvidence[], itemsMax: number) =>
      items.filter((item) => receivedAtMs - item.lastAtMs <= evidenceWindowMsDefault).slice(-itemsMax);
    this.evidence = recent([...this.evidence, ...stamped.filter((item) => isAccusingEvidenceKind(item.kind))], clusterEvidenceMax);
    this.untrustedEvidence = recent([...this.untrustedEvidence, ...stamped.filter((item) => !isAccusingEvidenceKind(item.kind))], clusterUntrustedEvidenceMax);
  }

  /** Runs the classifier over the view at `nowMs`. */
  classify(nowMs: number, staleAfterMs: number): PartitionVerdict {
    const evidence = this.untrustedEvidence.length > 0 ? [...this.evidence, ...this.untrustedEvidence] : this.evidence;
    // Half the stale age (1.5 intervals with the profiles' 3I + 100 ms) is overdue: see classify-partition's rule 1.
    const overdueAfterMs = staleAfterMs / 2;
    return classifyPartition(this.matrix, { nowMs, staleAfterMs, evidence, observerHealth: this.observerHealth, overdueAfterMs });
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
  unknownPeerEvidence(): UnknownPeerEvidence[] {
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
}
