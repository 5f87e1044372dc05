/**
 * The agent's membership adapter: it runs core's peer monitor (the detection loop
 * shared with the simulator: phi accrual or the brief's fixed rule, SWIM-style indirect
 * probes through k other agents, observer health, a bounded heartbeat schedule) over a
 * real transport. It signs and sends what the monitor asks for, verifies what arrives,
 * answers pings and ping requests for other members, and counts bad packets as
 * evidence against where they came from (see `receive`). It owns no timers:
 * `check(nowMs, scheduledAtMs)` and `receive` are driven by the caller, so the same
 * code runs under a real clock and a virtual one.
 */
import type { DetectorProfile } from '../core/detectors/detector-profiles';
import type { ProbeConclusion } from '../core/detectors/indirect-probe';
import type { ObserverHealthSnapshot } from '../core/detectors/observer-health';
import { type CheckResult, type PeerMonitor, createPeerMonitor } from '../core/detectors/peer-monitor';
import { LinkQuality } from '../core/detectors/link-quality';
import type { RandomSource } from '../core/detectors/random-source';
import type { Evidence, PeerObservation, UntrustedEvidenceKind } from '../core/protocol';
import { type ReplayWindow, admitSequence, createReplayWindow } from '../core/replay-window';
import { type DecodedPacket, type MembershipMessage, decodePacket, encodePacket } from './heartbeat-codec';
import { type Endpoint, type Transport, endpointKey } from './transport/transport';

/** One configured peer. */
export interface Peer {
  id: string;
  endpoint: Endpoint;
}

/** Most ping requests this agent serves for others at once; beyond, requests go unanswered (the asker reads a timeout). */
export const relaysMax = 64;

/** A prober answers "nack" at this fraction of the probe timeout, so the answer reaches the asker before its own deadline. */
const relayAnswerRatio = 0.5;

interface Relay {
  origin: string;
  target: string;
  answerAtMs: number;
}

/** Settings of the membership. */
export interface MembershipOptions {
  clusterId: string;
  selfId: string;
  /** This process's incarnation; orders its datagrams across restarts. */
  incarnation: number;
  /** HMAC key shared by the cluster's agents. */
  clusterKey: string;
  peers: Peer[];
  transport: Transport;
  /** Detector mode, intervals, probing, health and schedule settings (see core/detectors/detector-profiles.ts). */
  profile: DetectorProfile;
  /** Start time (ms since epoch). */
  startedAtMs: number;
  /**
   * How long after start a peer never heard from is left unjudged (ms). Agents of a
   * cluster start at different moments; without this grace every start would look
   * like a partition.
   */
  joinGraceMs: number;
  /** Random source for prober choice and heartbeat order (Math.random by default). */
  random?: RandomSource;
  /**
   * Verifies and decodes a datagram (`decodePacket` by default). The simulator passes one
   * that decodes each packet in flight once: a sender signs one packet for all its
   * heartbeat targets, and decoding is a pure function of the key and the bytes, so the
   * same bytes need checking once.
   */
  decode?: typeof decodePacket;
  /**
   * Whether to keep each peer's heartbeat loss and transit figures (core/detectors/link-quality.ts)
   * for the reports' `lossRatio` and `transitMs` (default true). They are shown to operators
   * and read by no verdict (the classifier never looks at them), so the simulator, which
   * publishes only verdicts, turns them off on its fast path.
   */
  linkQuality?: boolean;
}

export class Membership {
  private readonly monitor: PeerMonitor;
  private readonly peers = new Map<string, Peer>();
  private readonly peersByEndpoint = new Map<string, Peer>();
  /**
   * Per configured peer's endpoint object, what `receive` looks up from a datagram's
   * source, found once: its "host:port" key, the peer at that address and that peer's
   * replay window. A caller that hands `receive` those same objects (the simulator does)
   * spares building and hashing a key per datagram and three lookups; any other object
   * is keyed as it comes.
   */
  private readonly configuredSources = new Map<Endpoint, { source: string; linkPeer: Peer | undefined; window: ReplayWindow | undefined }>();
  /**
   * Per-peer anti-replay windows, advanced only by verified datagrams naming that peer:
   * exact duplicates are dropped silently, stale and contradictory packets are evidence.
   */
  private readonly windows = new Map<string, ReplayWindow>();
  private readonly relays = new Map<string, Relay>();
  /** Loss and delay of each peer's heartbeats, for the reports (the console's matrix shows them). */
  private readonly linkQuality = new Map<string, LinkQuality>();
  private readonly random: RandomSource;
  private sequence = 0;
  private probeCounter = 0;
  /** Datagrams sent since start, for benchmarks. */
  datagramsSent = 0;
  /** Called whenever a peer's reachable verdict flips. */
  onChange: () => void = () => undefined;

  constructor(private readonly options: MembershipOptions) {
    this.random = options.random ?? Math.random;
    // Each address keyed once: the maps and the records share the string.
    const sources = options.peers.map((peer) => endpointKey(peer.endpoint));
    options.peers.forEach((peer, index) => {
      this.peers.set(peer.id, peer);
      this.peersByEndpoint.set(sources[index]!, peer);
      this.windows.set(peer.id, createReplayWindow());
    });
    options.peers.forEach((peer, index) => {
      const source = sources[index]!;
      const linkPeer = this.peersByEndpoint.get(source);
      this.configuredSources.set(peer.endpoint, { source, linkPeer, window: linkPeer && this.windows.get(linkPeer.id) });
    });
    // A peer's heartbeats come once per interval, or once per round when a bounded schedule needs several to reach every peer.
    const rounds = Math.max(1, Math.ceil(options.peers.length / options.profile.schedule.peersPerIntervalMax));
    if (options.linkQuality !== false) for (const peer of options.peers) this.linkQuality.set(peer.id, new LinkQuality(options.profile.heartbeatIntervalMs * rounds, options.startedAtMs));
    this.monitor = createPeerMonitor({
      selfId: options.selfId,
      peers: options.peers.map((peer) => peer.id),
      profile: options.profile,
      startedAtMs: options.startedAtMs,
      joinGraceMs: options.joinGraceMs,
    });
  }

  /** The detector profile in use. */
  get profile(): DetectorProfile {
    return this.options.profile;
  }

  /**
   * Runs one periodic check (due `checksPerInterval` times per heartbeat interval) that was
   * scheduled for `scheduledAtMs` and runs at `nowMs`, after `idleChecksSkipped` idle ones
   * slept through (see `idleChecksAhead`): sends the heartbeats and probes the monitor asks
   * for, answers expired relays, and fires `onChange` if a verdict flipped.
   */
  check(nowMs: number, scheduledAtMs: number = nowMs, idleChecksSkipped = 0): CheckResult {
    const result = this.monitor.check(nowMs, scheduledAtMs, this.random, idleChecksSkipped);
    if (result.heartbeatTargets.length > 0) {
      const packet = this.encode({ type: 'heartbeat' }, nowMs);
      for (const target of result.heartbeatTargets) this.sendTo(target, packet);
    }
    for (const probe of result.probesStarted) this.startProbe(probe.target, probe.probers, nowMs);
    this.answerExpiredRelays(nowMs);
    if (result.changed) this.onChange();
    return result;
  }

  /**
   * Handles one datagram from `from`. Only a datagram that verifies, names a
   * configured peer, and is new to that peer's replay window counts as hearing the
   * peer. Anything else is evidence counted against where it came from: a bad
   * signature, a malformed body, a replay or a datagram re-sent from another peer's
   * address proves nothing about the node it names (no key is needed to send one),
   * and none of them touches that node's replay window. Only a contradiction (two
   * validly signed datagrams under one number) accuses the node.
   */
  receive(bytes: Uint8Array, from: Endpoint, nowMs: number): void {
    const configured = this.configuredSources.get(from);
    const source = configured ? configured.source : endpointKey(from);
    const linkPeer = configured ? configured.linkPeer : this.peersByEndpoint.get(source);
    const linkPeerId = linkPeer?.id;
    const decoded = (this.options.decode ?? decodePacket)(this.options.clusterKey, bytes);
    if (!decoded.ok) return this.untrusted(decoded.reason, decoded.claimedFrom, source, linkPeerId, nowMs);
    const { envelope } = decoded.packet;
    // Only the claimed peer's id is used below: the peer at the source's address, when it is the one named, is that peer.
    const claimed = linkPeerId === envelope.from ? linkPeer : this.peers.get(envelope.from);
    if (!claimed || envelope.clusterId !== this.options.clusterId) return this.untrusted('forged-sender', envelope.from, source, linkPeerId, nowMs);
    if (linkPeerId !== undefined && linkPeerId !== claimed.id) return this.untrusted('forged-sender', claimed.id, source, linkPeerId, nowMs);
    const window = claimed === linkPeer && configured?.window ? configured.window : this.windows.get(claimed.id)!;
    const admission = admitSequence(window, envelope.incarnation, envelope.sequence, decoded.packet.digest);
    if (admission === 'duplicate') return;
    if (admission === 'replay') return this.untrusted('replay', claimed.id, source, linkPeerId, nowMs);
    if (admission === 'contradiction') return this.monitor.recordEvidence({ kind: 'contradiction', namedId: claimed.id, source, linkPeerId }, nowMs);
    this.monitor.heard(claimed.id, nowMs, envelope.sentAtMs);
    if (decoded.packet.message.type === 'heartbeat') this.linkQuality.get(claimed.id)?.heard(nowMs, envelope.sentAtMs);
    // A peer heard again flips back to reachable inside the monitor; the next check (within I/4) reports it.
    this.handleMessage(decoded.packet, nowMs);
  }

  /** Counts an untrusted datagram against where it came from (a method, not a closure made per datagram). */
  private untrusted(kind: UntrustedEvidenceKind, named: string | undefined, source: string, linkPeerId: string | undefined, nowMs: number): void {
    this.monitor.recordEvidence({ kind, source, linkPeerId, namedId: named !== undefined && this.peers.has(named) ? named : undefined }, nowMs);
  }

  /**
   * How many of the coming checks (the first due at `firstAtMs`, then one every
   * `checkIntervalMs`) have nothing to do: the monitor's idle checks (core's
   * `idleChecksAhead`), ending before the first relay whose "nack" is due. Asked again
   * after every arrival, which may make an earlier check busy.
   */
  idleChecksAhead(firstAtMs: number, checkIntervalMs: number): number {
    let idle = this.monitor.idleChecksAhead(firstAtMs, checkIntervalMs);
    for (const relay of this.relays.values()) idle = Math.min(idle, Math.max(0, Math.ceil((relay.answerAtMs - firstAtMs) / checkIntervalMs)));
    return idle;
  }

  /**
   * The current view of every peer, with the last probe conclusion where there is one.
   * Given `into` (an array this method filled before, whose report is done with), the
   * same values are written into its objects in place (see `PeerMonitor.observations`).
   */
  observations(nowMs: number, into?: PeerObservation[]): PeerObservation[] {
    if (into) return this.observationsInto(nowMs, into);
    // The monitor builds fresh objects on every call, so they are finished in place: a
    // report of a 1,000-node cluster carries 999 of them, four times a second.
    const observations: PeerObservation[] = this.monitor.observations(nowMs);
    for (const observation of observations) {
      observation.suspicion = Math.round(observation.suspicion * 1000) / 1000;
      const probe = this.monitor.lastConclusion(observation.peerId);
      const figures = this.linkQuality.get(observation.peerId)?.figures(nowMs);
      if (figures) {
        observation.transitMs = figures.delayMs === null ? null : Math.round(figures.delayMs * 10) / 10;
        observation.lossRatio = figures.lossRatio === null ? null : Math.round(figures.lossRatio * 1000) / 1000;
      }
      if (probe !== null) observation.probe = probe;
    }
    return observations;
  }

  private observationsInto(nowMs: number, into: PeerObservation[]): PeerObservation[] {
    const observations = this.monitor.observations(nowMs, into);
    const withFigures = this.linkQuality.size > 0;
    for (const observation of observations) {
      observation.suspicion = Math.round(observation.suspicion * 1000) / 1000;
      const figures = withFigures ? this.linkQuality.get(observation.peerId)?.figures(nowMs) : undefined;
      observation.transitMs = figures ? (figures.delayMs === null ? null : Math.round(figures.delayMs * 10) / 10) : undefined;
      observation.lossRatio = figures ? (figures.lossRatio === null ? null : Math.round(figures.lossRatio * 1000) / 1000) : undefined;
    }
    return observations;
  }

  /** The last probe conclusion about `peerId`, or null. */
  lastConclusion(peerId: string): ProbeConclusion | null {
    return this.monitor.lastConclusion(peerId);
  }

  /** This observer's own health: whether its verdicts should be discounted, and why. */
  health(nowMs: number): ObserverHealthSnapshot {
    return this.monitor.health(nowMs);
  }

  /** Evidence gathered since the last call (and clears it). */
  takeEvidence(): Evidence[] {
    return this.monitor.drainEvidence();
  }

  /** Endpoint of a peer, for fault rules. */
  endpointOf(peerId: string): Endpoint | undefined {
    return this.peers.get(peerId)?.endpoint;
  }

  private handleMessage(packet: DecodedPacket, nowMs: number): void {
    const from = packet.envelope.from;
    const message = packet.message;
    switch (message.type) {
      case 'heartbeat':
        return;
      case 'ping':
        return this.sendTo(from, this.encode({ type: 'ack', probeId: message.probeId, relayFor: message.relayFor }, nowMs));
      case 'ack':
        return this.relayAck(from, message.probeId, message.relayFor, nowMs);
      case 'ping-request':
        return this.serveProbeRequest(from, message.probeId, message.target, nowMs);
      case 'probe-answer':
        return this.monitor.proberAnswered(message.target, from, message.outcome);
    }
  }

  /** The monitor's probe round: direct pings to the suspect and a ping request to each prober. */
  private startProbe(target: string, probers: readonly string[], nowMs: number): void {
    this.probeCounter += 1;
    const probeId = this.probeCounter;
    for (let ping = 0; ping < this.options.profile.indirect.directPingsCount; ping += 1) {
      this.sendTo(target, this.encode({ type: 'ping', probeId, relayFor: null }, nowMs));
    }
    for (const prober of probers) this.sendTo(prober, this.encode({ type: 'ping-request', probeId, target }, nowMs));
  }

  /** Pings `target` on behalf of `origin`; answers "nack" later unless the target acks first. */
  private serveProbeRequest(origin: string, probeId: number, target: string, nowMs: number): void {
    if (!this.peers.has(target) || target === origin) return;
    const key = `${origin}/${probeId}`;
    if (this.relays.has(key) || this.relays.size >= relaysMax) return;
    const answerAtMs = nowMs + this.options.profile.indirect.probeTimeoutMs * relayAnswerRatio;
    this.relays.set(key, { origin, target, answerAtMs });
    this.sendTo(target, this.encode({ type: 'ping', probeId, relayFor: origin }, nowMs));
  }

  private relayAck(from: string, probeId: number, relayFor: string | null, nowMs: number): void {
    if (relayFor === null) return; // A direct ack: `heard` already cancelled the suspicion.
    const key = `${relayFor}/${probeId}`;
    const relay = this.relays.get(key);
    if (!relay || relay.target !== from) return;
    this.relays.delete(key);
    this.sendTo(relay.origin, this.encode({ type: 'probe-answer', target: relay.target, outcome: 'ack' }, nowMs));
  }

  private answerExpiredRelays(nowMs: number): void {
    for (const [key, relay] of this.relays) {
      if (nowMs < relay.answerAtMs) continue;
      this.relays.delete(key);
      this.sendTo(relay.origin, this.encode({ type: 'probe-answer', target: relay.target, outcome: 'nack' }, nowMs));
    }
  }

  private encode(message: MembershipMessage, nowMs: number): Uint8Array {
    this.sequence += 1;
    const head = {
      clusterId: this.options.clusterId,
      from: this.options.selfId,
      incarnation: this.options.incarnation,
      sequence: this.sequence,
      sentAtMs: Math.max(0, Math.round(nowMs)),
    };
    return encodePacket(this.options.clusterKey, head, message);
  }

  private sendTo(peerId: string, packet: Uint8Array): void {
    const peer = this.peers.get(peerId);
    if (!peer) return;
    this.datagramsSent += 1;
    this.options.transport.send(peer.endpoint, packet);
  }
}
