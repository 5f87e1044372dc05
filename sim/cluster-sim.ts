/**
 * The deterministic cluster simulator. Every node runs the real detection loop
 * (core/detectors/peer-monitor.ts) over a simulated network on a virtual clock; a
 * simulated control server ingests their reports into the directed reachability
 * matrix, runs the real classifier and debouncer, and records the published timeline.
 * One seed decides every random draw, so a run replays exactly from its seed.
 */
import { type ObservedEvidence, type PartitionVerdict, classifyPartition } from '../core/classify-partition';
import { type DetectorMode, type DetectorProfile, type ProfileName, buildProfile } from '../core/detectors/detector-profiles';
import type { ObserverHealthSnapshot } from '../core/detectors/observer-health';
import { type PeerMonitor, checksPerInterval, createPeerMonitor } from '../core/detectors/peer-monitor';
import type { RandomSource } from '../core/detectors/random-source';
import { type DebounceEvent, type DebounceState, initialDebounceState, stepDebounce } from '../core/partition-debounce';
import type { Evidence, NodeId, PeerObservation } from '../core/protocol';
import { type ReachabilityMatrix, createMatrix, setRow } from '../core/reachability';
import { EventQueue } from './event-queue';
import { type ExpectationOutcome, evaluateExpectations } from './expectations';
import { SimulatedNetwork } from './network';
import { createPrng } from './prng';
import { type Scenario, scenarioNodeIds } from './scenario';

/** Bound on simulated events per run; a runaway scenario stops instead of hanging. */
export const simulationEventsMax = 200_000_000;
/** Bound on evidence items the simulated server keeps. */
export const serverEvidenceMax = 10_000;

/** Choices that override the scenario file. */
export interface SimulationOptions {
  /** Detector mode to run instead of the scenario's. */
  mode?: DetectorMode;
  /** Seed to run instead of the scenario's. */
  seed?: number;
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

type Datagram =
  | { type: 'hb'; from: NodeId }
  | { type: 'ping'; from: NodeId; probeId: string; relayFor: NodeId | null }
  | { type: 'ack'; from: NodeId; probeId: string; relayFor: NodeId | null }
  | { type: 'ping-req'; from: NodeId; probeId: string; target: NodeId }
  | { type: 'answer'; from: NodeId; target: NodeId; outcome: 'ack' | 'nack' };

interface Report {
  from: NodeId;
  observations: PeerObservation[];
  health: ObserverHealthSnapshot;
  evidence: Evidence[];
}

type SimEvent =
  | { type: 'check'; node: NodeId; scheduledAtMs: number }
  | { type: 'deliver'; to: NodeId; datagram: Datagram; corrupted: boolean; duplicate: boolean }
  | { type: 'relay-timeout'; node: NodeId; key: string }
  | { type: 'report'; report: Report }
  | { type: 'resume'; node: NodeId }
  | { type: 'server-tick' };

interface SimNode {
  id: NodeId;
  monitor: PeerMonitor;
  random: RandomSource;
  /** Events that arrived while paused, replayed on resume. */
  inbox: SimEvent[];
  missedCheckAtMs: number | null;
  relays: Map<string, { origin: NodeId; target: NodeId }>;
  probeCounter: number;
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
  const sim = new ClusterSimulation(scenario, profile, seed);
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
      peerLossesPerNodeHour: sim.peerLosses / (nodeSeconds / 3600),
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
  peerLosses = 0;
  classifications = 0;
  events = 0;
  private readonly queue = new EventQueue<SimEvent>();
  private readonly network: SimulatedNetwork;
  private readonly networkRandom: RandomSource;
  private readonly pauses: Windowed[] = [];
  private readonly crashes = new Map<NodeId, number>();
  private readonly controlPlaneCuts: Windowed[] = [];
  private readonly matrix: ReachabilityMatrix;
  private readonly health = new Map<NodeId, ObserverHealthSnapshot>();
  private evidence: ObservedEvidence[] = [];
  private debounce: DebounceState = initialDebounceState();
  private dirty = true;
  private lastClassifiedAtMs = -Infinity;
  private readonly checkIntervalMs: number;

  constructor(
    private readonly scenario: Scenario,
    private readonly profile: DetectorProfile,
    seed: number,
  ) {
    const ids = scenarioNodeIds(scenario);
    this.network = new SimulatedNetwork(scenario, ids, createPrng(seed, 1));
    this.networkRandom = createPrng(seed, 2);
    this.matrix = createMatrix(ids);
    this.checkIntervalMs = profile.heartbeatIntervalMs / checksPerInterval;
    const phaseRandom = createPrng(seed, 3);
    ids.forEach((id, index) => {
      const monitor = createPeerMonitor({ selfId: id, peers: ids, profile, startedAtMs: 0 });
      this.nodes.set(id, { id, monitor, random: createPrng(seed, 100 + index), inbox: [], missedCheckAtMs: null, relays: new Map(), probeCounter: 0 });
      const firstCheckAtMs = phaseRandom() * this.checkIntervalMs;
      this.queue.push(firstCheckAtMs, { type: 'check', node: id, scheduledAtMs: firstCheckAtMs });
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
      } else if (fault.kind === 'control-plane-cut' || (fault.kind === 'isolate' && fault.controlPlane)) {
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
      const next = this.queue.pop();
      if (!next || next.atMs > this.scenario.durationMs) return;
      this.events += 1;
      if (this.events > simulationEventsMax) throw new Error(`simulation exceeded ${simulationEventsMax} events`);
      this.handle(next.payload, next.atMs);
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
    if (event.type === 'relay-timeout') return this.relayTimeout(node, event.key, nowMs);
    this.receive(node, event, nowMs);
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

  private send(from: NodeId, to: NodeId, datagram: Datagram, nowMs: number): void {
    this.datagramsSent += 1;
    const fate = this.network.send(from, to, nowMs, this.networkRandom);
    if (!fate.delivered) return;
    this.queue.push(nowMs + fate.delayMs, { type: 'deliver', to, datagram, corrupted: fate.corrupted, duplicate: false });
    if (fate.duplicateDelayMs !== null) {
      this.queue.push(nowMs + fate.duplicateDelayMs, { type: 'deliver', to, datagram, corrupted: false, duplicate: true });
    }
  }

  private check(node: SimNode, scheduledAtMs: number, nowMs: number): void {
    const result = node.monitor.check(nowMs, scheduledAtMs, node.random);
    for (const target of result.heartbeatTargets) this.send(node.id, target, { type: 'hb', from: node.id }, nowMs);
    for (const probe of result.probesStarted) {
      node.probeCounter += 1;
      const probeId = `${node.id}:${node.probeCounter}`;
      for (let ping = 0; ping < this.profile.indirect.directPingsCount; ping += 1) {
        this.send(node.id, probe.target, { type: 'ping', from: node.id, probeId, relayFor: null }, nowMs);
      }
      for (const prober of probe.probers) this.send(node.id, prober, { type: 'ping-req', from: node.id, probeId, target: probe.target }, nowMs);
    }
    if (result.changed || result.heartbeatTargets.length > 0) this.report(node, nowMs);
    // The next check is scheduled from the planned time, not the actual one, like a fixed-rate timer.
    let nextAtMs = scheduledAtMs + this.checkIntervalMs;
    while (nextAtMs <= nowMs) nextAtMs += this.checkIntervalMs;
    this.queue.push(nextAtMs, { type: 'check', node: node.id, scheduledAtMs: nextAtMs });
  }

  private report(node: SimNode, nowMs: number): void {
    const report: Report = {
      from: node.id,
      observations: node.monitor.observations(nowMs),
      health: node.monitor.health(nowMs),
      evidence: node.monitor.drainEvidence(),
    };
    this.reportsSent += 1;
    if (this.within(this.controlPlaneCuts, node.id, nowMs)) return;
    this.queue.push(nowMs + this.scenario.network.controlPlaneDelayMs, { type: 'report', report });
  }

  private receive(node: SimNode, event: Extract<SimEvent, { type: 'deliver' }>, nowMs: number): void {
    const datagram = event.datagram;
    // A corrupted datagram fails the signature check: it is counted against the link it
    // arrived on (failing integrity), never against the node it names, and never a heartbeat.
    if (event.corrupted) return node.monitor.recordEvidence({ kind: 'bad-signature', linkPeerId: datagram.from }, nowMs);
    // An exact duplicate falls inside the agent's sequence window: dropped, not evidence of replay.
    if (event.duplicate) return;
    node.monitor.heard(datagram.from, nowMs);
    switch (datagram.type) {
      case 'hb':
        return;
      case 'ping':
        return this.send(node.id, datagram.from, { type: 'ack', from: node.id, probeId: datagram.probeId, relayFor: datagram.relayFor }, nowMs);
      case 'ack': {
        if (datagram.relayFor === null) return;
        const key = `${datagram.relayFor}/${datagram.probeId}`;
        const relay = node.relays.get(key);
        if (!relay) return;
        node.relays.delete(key);
        return this.send(node.id, relay.origin, { type: 'answer', from: node.id, target: relay.target, outcome: 'ack' }, nowMs);
      }
      case 'ping-req': {
        const key = `${datagram.from}/${datagram.probeId}`;
        node.relays.set(key, { origin: datagram.from, target: datagram.target });
        this.send(node.id, datagram.target, { type: 'ping', from: node.id, probeId: datagram.probeId, relayFor: datagram.from }, nowMs);
        // The prober answers "nack" a little before the asker's own deadline.
        this.queue.push(nowMs + this.profile.indirect.probeTimeoutMs * 0.6, { type: 'relay-timeout', node: node.id, key });
        return;
      }
      case 'answer':
        return node.monitor.proberAnswered(datagram.target, datagram.from, datagram.outcome);
    }
  }

  private relayTimeout(node: SimNode, key: string, nowMs: number): void {
    const relay = node.relays.get(key);
    if (!relay) return;
    node.relays.delete(key);
    this.send(node.id, relay.origin, { type: 'answer', from: node.id, target: relay.target, outcome: 'nack' }, nowMs);
  }

  /** The simulated server's ingest: one report rewrites its author's row of the matrix. */
  private ingest(report: Report, nowMs: number): void {
    const changed = setRow(this.matrix, report.from, report.observations, nowMs);
    if (changed.length > 0) this.dirty = true;
    const row = this.matrix.cells.get(report.from)!;
    for (const peer of changed) if (!row.get(peer)!.reachable) this.peerLosses += 1;
    const previousHealth = this.health.get(report.from);
    if (previousHealth?.discounted !== report.health.discounted) this.dirty = true;
    this.health.set(report.from, report.health);
    if (report.evidence.length > 0) {
      this.dirty = true;
      this.evidence.push(...report.evidence.map((item) => ({ ...item, observerId: report.from })));
      if (this.evidence.length > serverEvidenceMax) this.evidence = this.evidence.slice(-serverEvidenceMax);
    }
  }

  private serverTick(nowMs: number): void {
    this.queue.push(nowMs + this.checkIntervalMs, { type: 'server-tick' });
    // Staleness moves with time alone, so classify at least once per interval even when nothing arrived.
    if (!this.dirty && nowMs - this.lastClassifiedAtMs < this.profile.heartbeatIntervalMs) return;
    this.dirty = false;
    this.lastClassifiedAtMs = nowMs;
    this.classifications += 1;
    const windowMs = 30_000;
    this.evidence = this.evidence.filter((item) => nowMs - item.lastAtMs <= windowMs);
    const verdict = classifyPartition(this.matrix, {
      nowMs,
      staleAfterMs: this.profile.staleAfterMs,
      evidence: this.evidence,
      observerHealth: this.health,
      evidenceWindowMs: windowMs,
    });
    this.noteUntrusted(verdict, nowMs);
    const stepped = stepDebounce(this.debounce, verdict, nowMs, this.profile.debounce);
    this.debounce = stepped.state;
    for (const event of stepped.events) {
      this.timeline.push({ atMs: nowMs, type: event.type, episode: event.episode, summary: event.verdict.summary, verdict: event.verdict });
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
}
