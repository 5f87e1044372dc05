/**
 * The deterministic cluster simulator. Every node runs the agent's real membership
 * (agent/membership.ts: the peer monitor, signed datagrams, replay windows, probe
 * relays with their bounds) over a simulated transport and network on a virtual clock;
 * its reports wait in an outbox while the control plane is cut, as the agent's do; a
 * simulated control server folds them with core's report fold (the server's replay and
 * skew rules included), runs the real classifier and debouncer, and records the
 * published timeline. One seed decides every random draw, so a run replays exactly.
 */
import { type PacketDecodeResult, decodePacket } from '../agent/heartbeat-codec';
import { Membership } from '../agent/membership';
import type { Endpoint } from '../agent/transport/transport';
import type { PartitionVerdict } from '../core/classify-partition';
import { type DetectorMode, type DetectorProfile, type ProfileName, buildProfile } from '../core/detectors/detector-profiles';
import { checksPerInterval } from '../core/detectors/peer-monitor';
import type { RandomSource } from '../core/detectors/random-source';
import { type DebounceEvent, type DebounceState, initialDebounceState, stepDebounce } from '../core/partition-debounce';
import type { AgentReport, NodeId, PeerObservation } from '../core/protocol';
import { ReportFold, foldedNodeDefaults } from '../core/report-fold';
import { EventQueue } from './event-queue';
import { type ExpectationOutcome, evaluateExpectations } from './expectations';
import { SimulatedNetwork } from './network';
import { createPrng } from './prng';
import { type Scenario, scenarioNodeIds } from './scenario';
import { SimulatedTransport, simulatedEndpoint } from './simulated-transport';

/** Bound on simulated events per run; a runaway scenario stops instead of hanging. */
export const simulationEventsMax = 200_000_000;
/** Most reports a node's outbox holds while the control plane is cut (the agent's default `outboxEntriesMax`); the oldest go first. */
export const simulatedOutboxEntriesMax = 10_000;
/** The cluster every simulated node belongs to, and the key its datagrams are signed with. */
const simulatedClusterId = 'sim';
const simulatedClusterKey = 'simulated-cluster-key-0123456789abcdef';

/** Choices that override the scenario file. */
export interface SimulationOptions {
  /** Detector mode to run instead of the scenario's. */
  mode?: DetectorMode;
  /** Seed to run instead of the scenario's. */
  seed?: number;
  /**
   * Runs without the simulator's speed-ups (one decode per packet in flight, observation objects reused
   * from report to report, no link-quality figures): the reference path that
   * sim/timeline-digest.test.ts and `npm run bench:sim-speed` hold the fast path to.
   */
  reference?: boolean;
}

/** One published change, as the timeline shows it. */
export interface TimelineEntry {
  /** Virtual time (ms). */
  atMs: number;
  /** What the debouncer decided. */
  type: DebounceEvent['type'];
  /** Partition episode number (0 for notes while whole). */
  episode: number;
  /** The verdict's one-line summary. */
  summary: string;
  /** The full verdict published. */
  verdict: PartitionVerdict;
  /** Whether the verdict went out while its shape was still moving (see core/partition-debounce.ts). */
  provisional: boolean;
  /** Flaps of the episode so far. */
  flaps: number;
}

/** A change in the set of links the classifier lists untrusted traffic on (raw verdicts: it is never published). */
export interface UntrustedSighting {
  /** Virtual time (ms). */
  atMs: number;
  /** Peers whose links to some observer carry datagrams failing integrity, sorted. */
  linksFrom: NodeId[];
}

/** What one run measured. */
export interface SimulationMetrics {
  /** Cluster-network datagrams sent per node per virtual second (heartbeats, probes, acks). */
  messagesPerNodePerSecond: number;
  /** Reports sent to the control server per node per virtual second. */
  reportsPerNodePerSecond: number;
  /** Peer-level "unreachable" declarations reaching the server, per node-hour (raw, before classification). */
  peerLossesPerNodeHour: number;
  /** Reports the server's fold kept out of the present view (replayed from an outbox after a cut, or out of order). */
  reportsTakenAsHistory: number;
  /** Classifier runs. */
  classifications: number;
  /** Events processed. */
  events: number;
  /** Wall-clock time of the run (ms), measured by the caller's clock when given. */
  wallMs: number;
}

/** The result of one run. */
export interface SimulationResult {
  /** Scenario name. */
  scenario: string;
  /** Seed actually used: replaying with it gives the same result. */
  seed: number;
  /** Detector mode actually used. */
  mode: DetectorMode;
  /** Number of simulated nodes. */
  nodeCount: number;
  /** Heartbeat interval of the profile used (ms). */
  heartbeatIntervalMs: number;
  /** Published changes, in order. */
  timeline: TimelineEntry[];
  /** Changes of the untrusted traffic the classifier listed, in order. */
  untrusted: UntrustedSighting[];
  /** Per expectation: whether it held, when, and why not. */
  outcomes: ExpectationOutcome[];
  /** True when every expectation held. */
  passed: boolean;
  /** Measurements. */
  metrics: SimulationMetrics;
}

type SimEvent =
  | { type: 'check'; node: NodeId; scheduledAtMs: number }
  | { type: 'deliver'; from: NodeId; to: NodeId; packet: SimPacket }
  | { type: 'report'; report: AgentReport }
  | { type: 'resume'; node: NodeId }
  | { type: 'server-tick' };

/**
 * A datagram in flight, shared by every copy of one sent packet (a sender hands the same
 * bytes to all its heartbeat targets, and a duplicate is the same bytes again), with its
 * decoding once the first receiver has asked for it (fast path; see `decodeOnce`).
 */
interface SimPacket {
  bytes: Uint8Array;
  /** The key `decoded` was computed with, or null before the first decode. */
  key: string | null;
  decoded: PacketDecodeResult | null;
}

interface SimNode {
  id: NodeId;
  membership: Membership;
  /** Events that arrived while paused, replayed on resume. */
  inbox: SimEvent[];
  missedCheckAtMs: number | null;
  /** Reports written and not yet delivered (the control plane was cut), oldest first. */
  outbox: AgentReport[];
  /** The last report sequence number written. */
  sequence: number;
  /** The node's one check event, written over and scheduled again by each check (at most one is ever pending: see `check`). */
  checkEvent: { type: 'check'; node: NodeId; scheduledAtMs: number };
  /** Observation arrays of this node's reports the fold is done with, to be written over by the next ones (fast path). */
  spareObservations: PeerObservation[][];
}

interface Windowed {
  atMs: number;
  untilMs: number;
  nodes: Set<NodeId>;
}

/** Runs one scenario and returns its timeline, outcomes and metrics. */
export function runSimulation(scenario: Scenario, options: SimulationOptions = {}, wallClock?: () => number): SimulationResult {
  const startedWallMs = wallClock?.() ?? 0;
  const seed = options.seed ?? scenario.seed;
  const mode = (options.mode ?? scenario.detector) as DetectorMode;
  const profile = buildProfile(scenario.profile as ProfileName, mode, {
    heartbeatIntervalMs: scenario.heartbeatIntervalMs,
    peersPerIntervalMax: scenario.peersPerIntervalMax,
  });
  const sim = new ClusterSimulation(scenario, profile, seed, options.reference === true);
  sim.run();
  const outcomes = evaluateExpectations(scenario, sim.timeline, sim.untrusted);
  const nodeSeconds = (sim.nodes.size * scenario.durationMs) / 1000;
  return {
    scenario: scenario.name,
    seed,
    mode,
    nodeCount: sim.nodes.size,
    heartbeatIntervalMs: profile.heartbeatIntervalMs,
    timeline: sim.timeline,
    untrusted: sim.untrusted,
    outcomes,
    passed: outcomes.every((outcome) => outcome.held),
    metrics: {
      messagesPerNodePerSecond: sim.datagramsSent / nodeSeconds,
      reportsPerNodePerSecond: sim.reportsSent / nodeSeconds,
      peerLossesPerNodeHour: sim.peerLosses() / (nodeSeconds / 3600),
      reportsTakenAsHistory: sim.reportsTakenAsHistory,
      classifications: sim.classifications,
      events: sim.events,
      wallMs: (wallClock?.() ?? 0) - startedWallMs,
    },
  };
}

class ClusterSimulation {
  readonly nodes = new Map<NodeId, SimNode>();
  readonly timeline: TimelineEntry[] = [];
  readonly untrusted: UntrustedSighting[] = [];
  datagramsSent = 0;
  reportsSent = 0;
  reportsTakenAsHistory = 0;
  classifications = 0;
  events = 0;
  private readonly queue = new EventQueue<SimEvent>();
  private readonly network: SimulatedNetwork;
  private readonly networkRandom: RandomSource;
  private readonly pauses: Windowed[] = [];
  private readonly crashes = new Map<NodeId, number>();
  private readonly controlPlaneCuts: Windowed[] = [];
  private readonly fold: ReportFold;
  private debounce: DebounceState = initialDebounceState();
  private dirty = true;
  /** The fold's revision at the last classification. */
  private classifiedRevision = -1;
  /** Virtual time of the event being handled: what the transports stamp their sends with. */
  private nowMs = 0;
  private lastClassifiedAtMs = -Infinity;
  private readonly checkIntervalMs: number;
  private readonly endpoints = new Map<NodeId, Endpoint>();
  /** The packet last handed to the network, shared by its copies to each target. */
  private sending: SimPacket | null = null;
  /** The packet being delivered, while its receiver runs (fast path's `decodeOnce`). */
  private arriving: SimPacket | null = null;

  constructor(
    private readonly scenario: Scenario,
    private readonly profile: DetectorProfile,
    seed: number,
    private readonly reference: boolean,
  ) {
    const ids = scenarioNodeIds(scenario);
    this.network = new SimulatedNetwork(scenario, ids, createPrng(seed, 1));
    this.networkRandom = createPrng(seed, 2);
    this.fold = new ReportFold(() => true, foldedNodeDefaults, simulatedClusterId);
    for (const id of ids) this.fold.node(id);
    this.checkIntervalMs = profile.heartbeatIntervalMs / checksPerInterval;
    const phaseRandom = createPrng(seed, 3);
    const decode: typeof decodePacket = reference ? decodePacket : (key, bytes) => this.decodeOnce(key, bytes);
    // One endpoint object and one peer entry per node, shared by every membership, so a receiver finds a sender's key without building it.
    for (const id of ids) this.endpoints.set(id, simulatedEndpoint(id));
    const peerEntries = ids.map((peer) => ({ id: peer, endpoint: this.endpoints.get(peer)! }));
    ids.forEach((id, index) => {
      const membership = new Membership({
        clusterId: simulatedClusterId,
        selfId: id,
        incarnation: 1,
        clusterKey: simulatedClusterKey,
        peers: peerEntries.filter((peer) => peer.id !== id),
        transport: new SimulatedTransport(id, (to, bytes) => this.send(id, to, bytes)),
        profile,
        startedAtMs: 0,
        joinGraceMs: 0,
        random: createPrng(seed, 100 + index),
        decode,
        // Loss and transit figures are read by no verdict (only shown to operators): the fast path skips them.
        linkQuality: reference,
      });
      const firstCheckAtMs = phaseRandom() * this.checkIntervalMs;
      const checkEvent = { type: 'check' as const, node: id, scheduledAtMs: firstCheckAtMs };
      this.nodes.set(id, { id, membership, inbox: [], missedCheckAtMs: null, outbox: [], sequence: 0, checkEvent, spareObservations: [] });
      this.queue.push(firstCheckAtMs, checkEvent);
    });
    this.compileNodeFaults();
    this.queue.push(0, { type: 'server-tick' });
  }

  private compileNodeFaults(): void {
    const endMs = this.scenario.durationMs + 1;
    for (const fault of this.scenario.faults) {
      if (fault.kind === 'pause') {
        this.pauses.push({ atMs: fault.atMs, untilMs: fault.untilMs, nodes: new Set(fault.nodes) });
        for (const node of fault.nodes) this.queue.push(fault.untilMs, { type: 'resume', node });
      } else if (fault.kind === 'crash') {
        for (const node of fault.nodes) this.crashes.set(node, Math.min(this.crashes.get(node) ?? Infinity, fault.atMs));
      } else if (fault.kind === 'control-plane-cut' || ((fault.kind === 'isolate' || fault.kind === 'isolate-group') && fault.controlPlane)) {
        this.controlPlaneCuts.push({ atMs: fault.atMs, untilMs: fault.untilMs ?? endMs, nodes: new Set(fault.nodes) });
      }
    }
  }

  private within(windows: Windowed[], node: NodeId, nowMs: number): boolean {
    // A plain loop: this runs for every event.
    for (const window of windows) if (nowMs >= window.atMs && nowMs < window.untilMs && window.nodes.has(node)) return true;
    return false;
  }

  private isCrashed(node: NodeId, nowMs: number): boolean {
    return nowMs >= (this.crashes.get(node) ?? Infinity);
  }

  run(): void {
    for (;;) {
      const atMs = this.queue.peekAtMs();
      if (atMs > this.scenario.durationMs) return;
      const payload = this.queue.pop()!;
      this.events += 1;
      if (this.events > simulationEventsMax) throw new Error(`simulation exceeded ${simulationEventsMax} events`);
      this.nowMs = atMs;
      this.handle(payload, atMs);
    }
  }

  private handle(event: SimEvent, nowMs: number): void {
    if (event.type === 'server-tick') return this.serverTick(nowMs);
    if (event.type === 'report') return this.ingest(event.report, nowMs);
    const nodeId = event.type === 'deliver' ? event.to : event.node;
    if (this.isCrashed(nodeId, nowMs)) return;
    const node = this.nodes.get(nodeId)!;
    if (event.type === 'resume') return this.resume(node, nowMs);
    if (this.within(this.pauses, nodeId, nowMs)) {
      if (event.type === 'check') node.missedCheckAtMs ??= event.scheduledAtMs;
      else node.inbox.push(event);
      return;
    }
    if (event.type === 'check') return this.check(node, event.scheduledAtMs, nowMs);
    this.arriving = event.packet;
    node.membership.receive(event.packet.bytes, this.endpoints.get(event.from)!, nowMs);
    this.arriving = null;
  }

  private resume(node: SimNode, nowMs: number): void {
    if (this.within(this.pauses, node.id, nowMs)) return;
    const queued = node.inbox;
    node.inbox = [];
    for (const event of queued) this.handle(event, nowMs);
    if (node.missedCheckAtMs !== null) {
      const scheduledAtMs = node.missedCheckAtMs;
      node.missedCheckAtMs = null;
      this.check(node, scheduledAtMs, nowMs);
    }
  }

  /** What a node's transport does with a datagram: the simulated network decides its fate. */
  private send(from: NodeId, to: NodeId, bytes: Uint8Array): void {
    const nowMs = this.nowMs;
    this.datagramsSent += 1;
    const fate = this.network.send(from, to, nowMs, this.networkRandom);
    if (!fate.delivered) return;
    // A corrupted datagram has a flipped bit in its signature: the receiver's check fails.
    // A sender hands one packet to its targets one after another, so the last one sent is all the sharing needs.
    if (this.sending?.bytes !== bytes) this.sending = { bytes, key: null, decoded: null };
    const packet = this.sending;
    const arriving = fate.corrupted ? { bytes: flipSignatureBit(bytes), key: null, decoded: null } : packet;
    this.queue.push(nowMs + fate.delayMs, { type: 'deliver', from, to, packet: arriving });
    // An exact duplicate: the receiver's replay window drops it silently.
    if (fate.duplicateDelayMs !== null) this.queue.push(nowMs + fate.duplicateDelayMs, { type: 'deliver', from, to, packet });
  }

  /**
   * `decodePacket` for the fast path, computed once per packet in flight instead of once
   * per receiver: the answer is a pure function of the key and the bytes, receivers only
   * read it, and a corrupted copy is a packet of its own. Bytes other than the arriving
   * packet's (none today) are decoded as they come.
   */
  private decodeOnce(key: string, bytes: Uint8Array): PacketDecodeResult {
    const packet = this.arriving;
    if (packet === null || packet.bytes !== bytes) return decodePacket(key, bytes);
    if (packet.key !== key || packet.decoded === null) {
      packet.key = key;
      packet.decoded = decodePacket(key, bytes);
    }
    return packet.decoded;
  }

  private check(node: SimNode, scheduledAtMs: number, nowMs: number): void {
    const result = node.membership.check(nowMs, scheduledAtMs);
    if (result.changed || result.heartbeatTargets.length > 0) this.report(node, nowMs);
    // The next check is scheduled from the planned time, not the actual one, like a fixed-rate timer.
    let nextAtMs = scheduledAtMs + this.checkIntervalMs;
    while (nextAtMs <= nowMs) nextAtMs += this.checkIntervalMs;
    // The node's check event is not pending now: this runs for it, just popped, or on resume for one that fell in the pause and was not rescheduled.
    node.checkEvent.scheduledAtMs = nextAtMs;
    this.queue.push(nextAtMs, node.checkEvent);
  }

  /** Writes a report to the node's outbox and sends what the control plane lets through, oldest first. */
  private report(node: SimNode, nowMs: number): void {
    node.sequence += 1;
    node.outbox.push({
      clusterId: simulatedClusterId,
      agentId: node.id,
      incarnation: 1,
      sequence: node.sequence,
      sentAtMs: Math.round(nowMs),
      heartbeatIntervalMs: Math.round(this.profile.heartbeatIntervalMs),
      observations: this.reference ? node.membership.observations(nowMs) : node.membership.observations(nowMs, node.spareObservations.pop() ?? []),
      evidence: node.membership.takeEvidence(),
      health: node.membership.health(nowMs),
    });
    if (node.outbox.length > simulatedOutboxEntriesMax) node.outbox.shift();
    this.reportsSent += 1;
    if (this.within(this.controlPlaneCuts, node.id, nowMs)) return;
    const arrivesAtMs = nowMs + this.scenario.network.controlPlaneDelayMs;
    for (const report of node.outbox) this.queue.push(arrivesAtMs, { type: 'report', report });
    node.outbox = [];
  }

  /** The simulated server's ingest: the server's own fold. */
  private ingest(report: AgentReport, nowMs: number): void {
    if (!this.fold.applyReport(report, nowMs, this.profile.staleAfterMs)) this.reportsTakenAsHistory += 1;
    // The fold copies what it keeps of the observations into its cells and holds no reference to them.
    if (!this.reference) this.nodes.get(report.agentId)!.spareObservations.push(report.observations);
  }

  private serverTick(nowMs: number): void {
    this.queue.push(nowMs + this.checkIntervalMs, { type: 'server-tick' });
    // Staleness moves with time alone, so classify at least once per interval even when nothing arrived.
    const changed = this.fold.revision !== this.classifiedRevision;
    if (!this.dirty && !changed && nowMs - this.lastClassifiedAtMs < this.profile.heartbeatIntervalMs) return;
    this.dirty = false;
    this.classifiedRevision = this.fold.revision;
    this.lastClassifiedAtMs = nowMs;
    this.classifications += 1;
    const verdict = this.fold.classify(nowMs, this.profile.staleAfterMs);
    this.noteUntrusted(verdict, nowMs);
    const stepped = stepDebounce(this.debounce, verdict, nowMs, this.profile.debounce);
    this.debounce = stepped.state;
    for (const event of stepped.events) {
      this.timeline.push({
        atMs: nowMs,
        type: event.type,
        episode: event.episode,
        summary: event.verdict.summary,
        verdict: event.verdict,
        provisional: event.provisional,
        flaps: event.flaps,
      });
    }
    // A pending change must be re-examined when its window ends, even if no report arrives.
    const published = this.debounce.published;
    const opening = published?.partitioned === false && this.debounce.partitionedSinceMs !== null;
    const closing = published?.partitioned === true && this.debounce.healthySinceMs !== null;
    if (this.debounce.pending !== null || opening || closing) this.dirty = true;
  }

  /** Records the links carrying untrusted traffic when that set changes. */
  private noteUntrusted(verdict: PartitionVerdict, nowMs: number): void {
    const linksFrom = [...new Set(verdict.untrustedTraffic.flatMap((group) => (group.linkPeerId === null ? [] : [group.linkPeerId])))].sort();
    const last = this.untrusted.at(-1)?.linksFrom ?? [];
    if (linksFrom.join(',') !== last.join(',')) this.untrusted.push({ atMs: nowMs, linksFrom });
  }

  /** Directed "unreachable" flips the server took in: raw peer losses. */
  peerLosses(): number {
    return this.fold.peerLossCount;
  }
}

/** A copy of `bytes` with one bit of the signature (after the type byte) flipped. */
function flipSignatureBit(bytes: Uint8Array): Uint8Array {
  // A copy, not `slice()`: on a Buffer that is a view, and the sender shares one packet among its targets.
  const copy = new Uint8Array(bytes);
  if (copy.length > 1) copy[1]! ^= 0x01;
  return copy;
}
