/**
 * The agent's detector loop: sends signed heartbeats to its peers, feeds the
 * ones that arrive to one failure detector per peer, and records byzantine
 * evidence (bad signatures, malformed packets, replays, forged senders). It owns
 * no timers: `tick(nowMs)` and `receive(...)` are driven by the caller, so the
 * same code runs under a real clock and a virtual one.
 */
import type { FailureDetector, FailureDetectorFactory } from '../core/detectors/failure-detector';
import type { Evidence, PeerObservation } from '../core/protocol';
import { decodeHeartbeat, encodeHeartbeat } from './heartbeat-codec';
import { type Endpoint, type Transport, endpointKey } from './transport/transport';

/** One configured peer. */
export interface Peer {
  id: string;
  endpoint: Endpoint;
}

interface PeerState {
  peer: Peer;
  detector: FailureDetector;
  reachable: boolean;
  sinceMs: number;
  /** Highest (incarnation, sequence) accepted, to reject replays. */
  incarnation: number;
  sequence: number;
}

/** Settings of the loop. */
export interface MembershipOptions {
  clusterId: string;
  selfId: string;
  incarnation: number;
  clusterKey: string;
  peers: Peer[];
  transport: Transport;
  detectorFactory: FailureDetectorFactory;
  /** Start time (ms since epoch). */
  startedAtMs: number;
  /**
   * How long after start a peer never heard from is still presumed reachable (ms).
   * Agents of a cluster start at different moments; without this grace every
   * start would look like a partition.
   */
  joinGraceMs: number;
}

export class Membership {
  private readonly peers = new Map<string, PeerState>();
  private readonly peersByEndpoint = new Map<string, PeerState>();
  private evidence = new Map<string, Evidence>();
  private sequence = 0;
  /** Called whenever a peer's reachable verdict flips. */
  onChange: () => void = () => undefined;

  constructor(private readonly options: MembershipOptions) {
    for (const peer of options.peers) {
      const state: PeerState = {
        peer,
        detector: options.detectorFactory(options.startedAtMs),
        reachable: true,
        sinceMs: options.startedAtMs,
        incarnation: -1,
        sequence: -1,
      };
      this.peers.set(peer.id, state);
      this.peersByEndpoint.set(endpointKey(peer.endpoint), state);
    }
  }

  /** Sends one heartbeat to every peer and re-evaluates detectors. */
  tick(nowMs: number): void {
    this.sequence += 1;
    const packet = encodeHeartbeat(this.options.clusterKey, {
      clusterId: this.options.clusterId,
      from: this.options.selfId,
      incarnation: this.options.incarnation,
      sequence: this.sequence,
      sentAtMs: nowMs,
    });
    for (const state of this.peers.values()) this.options.transport.send(state.peer.endpoint, packet);
    this.evaluate(nowMs);
  }

  /** Re-evaluates every detector; fires `onChange` if any verdict flipped. */
  evaluate(nowMs: number): void {
    let changed = false;
    for (const state of this.peers.values()) {
      const joining = state.detector.lastHeartbeatAtMs() === null && nowMs - this.options.startedAtMs < this.options.joinGraceMs;
      const reachable = joining || state.detector.isAvailable(nowMs);
      if (reachable !== state.reachable) {
        state.reachable = reachable;
        state.sinceMs = nowMs;
        changed = true;
      }
    }
    if (changed) this.onChange();
  }

  private addEvidence(peerId: string, kind: Evidence['kind'], nowMs: number): void {
    const key = `${peerId}/${kind}`;
    const current = this.evidence.get(key);
    this.evidence.set(key, { peerId, kind, count: (current?.count ?? 0) + 1, lastAtMs: nowMs });
  }

  /** Handles one datagram. */
  receive(bytes: Uint8Array, from: Endpoint, nowMs: number): void {
    const bySource = this.peersByEndpoint.get(endpointKey(from));
    const decoded = decodeHeartbeat(this.options.clusterKey, bytes);
    if (!decoded.ok) {
      const blamed = bySource?.peer.id ?? (decoded.claimedFrom && this.peers.has(decoded.claimedFrom) ? decoded.claimedFrom : null);
      if (blamed) this.addEvidence(blamed, decoded.reason, nowMs);
      return;
    }
    const { heartbeat } = decoded;
    const claimed = this.peers.get(heartbeat.from);
    if (!claimed || heartbeat.clusterId !== this.options.clusterId) {
      if (bySource) this.addEvidence(bySource.peer.id, 'forged-sender', nowMs);
      return;
    }
    if (bySource && bySource !== claimed) {
      this.addEvidence(claimed.peer.id, 'forged-sender', nowMs);
      return;
    }
    const older =
      heartbeat.incarnation < claimed.incarnation ||
      (heartbeat.incarnation === claimed.incarnation && heartbeat.sequence <= claimed.sequence);
    if (older) {
      this.addEvidence(claimed.peer.id, 'replay', nowMs);
      return;
    }
    claimed.incarnation = heartbeat.incarnation;
    claimed.sequence = heartbeat.sequence;
    claimed.detector.heartbeat(nowMs);
    if (!claimed.reachable) this.evaluate(nowMs);
  }

  /** The current view of every peer. */
  observations(nowMs: number): PeerObservation[] {
    return [...this.peers.values()].map((state) => ({
      peerId: state.peer.id,
      reachable: state.reachable,
      lastHeardAtMs: state.detector.lastHeartbeatAtMs(),
      sinceMs: state.sinceMs,
      suspicion: Math.min(1e6, Math.round(state.detector.suspicion(nowMs) * 1000) / 1000),
    }));
  }

  /** Evidence gathered since the last call (and clears it). */
  takeEvidence(): Evidence[] {
    const taken = [...this.evidence.values()];
    this.evidence = new Map();
    return taken;
  }

  /** Endpoint of a peer, for fault rules. */
  endpointOf(peerId: string): Endpoint | undefined {
    return this.peers.get(peerId)?.peer.endpoint;
  }
}
