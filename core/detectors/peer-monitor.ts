/**
 * One agent's detection loop, as pure logic the agent program and the simulator both
 * run: it keeps a failure detector per peer, decides whom to heartbeat each interval
 * (bounded, see probe-schedule.ts), starts indirect probes before declaring a peer
 * unreachable (phi+indirect mode), tracks its own health, counts bad datagrams,
 * and produces the observations an agent report carries.
 *
 * It never reads a clock nor sends a packet: the caller passes the time and the
 * random source in, carries out the returned sends, and feeds back what arrives.
 */
import { type EvidenceSighting, EvidenceLedger } from '../evidence-ledger';
import type { Evidence, NodeId, PeerObservation } from '../protocol';
import type { DetectorProfile } from './detector-profiles';
import { detectorFactory } from './detector-profiles';
import type { FailureDetector } from './failure-detector';
import { type PhiAccrualDetector, phiQuietDeviations } from './phi-accrual-detector';
import {
  type ProbeConclusion,
  type ProberAnswer,
  type ProberOutcome,
  concludeProbe,
  meansUnreachable,
  pickProbers,
} from './indirect-probe';
import {
  type ObserverHealthSnapshot,
  type ObserverHealthState,
  healthSnapshot,
  initialObserverHealth,
  recordPeerLoss,
  recordProbeUnanswered,
  recordTick,
  suspicionMultiplier,
} from './observer-health';
import { type ProbeScheduleState, initialProbeSchedule, nextProbeTargets } from './probe-schedule';
import type { RandomSource } from './random-source';

/** Detection checks per heartbeat interval: suspicion is looked at this often, so a crossing is seen within I/4. */
export const checksPerInterval = 4;

/** A probe round in flight about one peer. */
export interface ProbeRound {
  /** The suspected peer. */
  target: NodeId;
  /** Members asked to probe it. */
  probers: NodeId[];
  /** When the round began (ms). */
  startedAtMs: number;
  /** When the round concludes with whatever answers arrived (ms). */
  deadlineMs: number;
  /** Answers received so far. */
  answers: ProberAnswer[];
}

/** What the caller must send after one check. */
export interface CheckResult {
  /** Peers to send a heartbeat to now (empty on checks that are not heartbeat checks). */
  heartbeatTargets: NodeId[];
  /** Probe rounds just started: ping `target` directly and send a ping-request about it to each prober. */
  probesStarted: Array<{ target: NodeId; probers: NodeId[] }>;
  /** Probe rounds concluded during this check. */
  conclusions: Array<{ target: NodeId; conclusion: ProbeConclusion }>;
  /** Whether any peer's reachability changed since the previous check (worth an immediate report). */
  changed: boolean;
}

interface PeerState {
  peer: NodeId;
  /** Position in the monitor's peer order (and in its `attentionAtMs` table). */
  position: number;
  detector: FailureDetector;
  /** Until this time (ms) suspicion cannot reach any threshold, so checks skip the peer (a cost bound for large clusters). */
  quietUntilMs: number;
  reachable: boolean;
  sinceMs: number;
  probe: ProbeRound | null;
  lastConclusion: ProbeConclusion | null;
  /** After a `link-cut` conclusion, the peer is kept until this time (ms) in case its datagrams are late, not lost; null otherwise. */
  lateGraceUntilMs: number | null;
  /** Smallest transit (receive time − the sender's send time, ms) seen: the link's floor plus the clocks' offset. */
  transitFloorMs: number;
  /** Smoothed extra delay above the floor (ms): what the report shows. */
  extraDelayMs: number;
  /** Recent peak extra delay (ms), decaying: how long a late datagram may still take. */
  extraDelayPeakMs: number;
  /** When the last link-cut conclusions about the peer came (ms), newest last, at most `lossyLinkCutsMin`: several close together make the link lossy, not merely slow. */
  linkCutsAtMs: readonly number[];
  /** When a lossy, unreachable peer was first heard again (ms), or null. */
  recoveringSinceMs: number | null;
}

/** A link with this many link-cut conclusions within `lossyMemoryIntervals`, and not measured slow, is lossy: it gets no late grace. */
const lossyLinkCutsMin = 2;
/** How far back (intervals) link-cut conclusions count towards a lossy link. */
const lossyMemoryIntervals = 16;

/** The `linkCutsAtMs` of every peer without a link cut: shared, since the list is replaced, never changed in place. */
const noLinkCuts: readonly number[] = [];

/** Weight of one new transit sample in the smoothed extra delay. */
const extraDelaySmoothing = 0.2;
/** Per sample, the recent peak extra delay keeps this fraction of itself when the new sample is lower. */
const extraDelayPeakDecay = 0.95;
/** A link whose recent peak extra delay reaches this fraction of an interval is slow: its silences are lateness, never counted as loss. */
export const lateRatioMin = 0.25;
/** Extra delays below this (ms) are not reported: clock jitter and scheduling, not a slow link. */
export const reportedDelayMinMs = 5;

/** The monitor's surface. */
export interface PeerMonitor {
  /** A valid datagram (heartbeat, ping, ack) arrived directly from `peerId` at `nowMs`, sent at `sentAtMs` by the peer's clock when known. */
  heard(peerId: NodeId, nowMs: number, sentAtMs?: number): void;
  /** A prober answered about `target`. */
  proberAnswered(target: NodeId, proberId: NodeId, outcome: ProberOutcome): void;
  /** A bad datagram at `nowMs`, counted against where it came from (see core/evidence-ledger.ts); never a sign of life. */
  recordEvidence(sighting: EvidenceSighting, nowMs: number): void;
  /**
   * Runs one periodic check that was due at `scheduledAtMs` and runs at `nowMs`, after
   * `idleChecksSkipped` checks (default 0) that `idleChecksAhead` had said were idle and the
   * caller slept through instead of running.
   */
  check(nowMs: number, scheduledAtMs: number, random: RandomSource, idleChecksSkipped?: number): CheckResult;
  /**
   * How many of the coming checks, the first due at `firstAtMs` and then one every
   * `checkIntervalMs`, would find nothing to do (no heartbeat to send, no probe in flight,
   * no peer whose suspicion could have reached a threshold, no change to report), given
   * what is known now. Skipping them changes nothing but the count of checks, which the
   * next `check` is told; an arrival can make a check busy again (a peer heard after being
   * lost is a change to report), so a caller asks again after each one. An agent that
   * sleeps through idle checks wakes once per interval instead of `checksPerInterval`
   * times, and its wakeups are most of its CPU.
   */
  idleChecksAhead(firstAtMs: number, checkIntervalMs: number): number;
  /**
   * The observations a report carries now, as fresh objects; or, given `into` (an array
   * this method filled before, whose report is done with), written into those objects in
   * place, each with the last probe conclusion as `probe` (undefined when none): the same
   * values without a million fresh objects per second in a large simulation.
   */
  observations(nowMs: number, into?: PeerObservation[]): PeerObservation[];
  /** Evidence gathered since the last call, then forgotten (bounded by the ledger's limits, within `reportEvidenceMax`). */
  drainEvidence(): Evidence[];
  /** The monitor's own health now. */
  health(nowMs: number): ObserverHealthSnapshot;
  /** The last probe conclusion about `peerId`, or null; tells "link cut" from "peer down" in the evidence. */
  lastConclusion(peerId: NodeId): ProbeConclusion | null;
}

/** Settings of a monitor. */
export interface PeerMonitorOptions {
  /** The agent running the monitor. */
  selfId: NodeId;
  /** Every peer it watches (not itself). */
  peers: readonly NodeId[];
  /** The profile: detector mode, intervals, probing and health settings. */
  profile: DetectorProfile;
  /** When the monitor starts (ms). */
  startedAtMs: number;
  /**
   * How long after start (ms) a peer never heard from is left unjudged: members of a real
   * cluster start at different moments, and without this every start would look like a
   * partition (and a mass loss). Default 0, as in the simulator where all start together.
   */
  joinGraceMs?: number;
}

/**
 * With round-robin heartbeats a peer is heard once per round, not once per interval, so
 * the detector is scaled to the round length: the same formulas, with I × rounds.
 */
function scaledProfile(profile: DetectorProfile, peerCount: number): DetectorProfile {
  const rounds = Math.max(1, Math.ceil(peerCount / profile.schedule.peersPerIntervalMax));
  if (rounds === 1) return profile;
  const intervalMs = profile.heartbeatIntervalMs * rounds;
  return {
    ...profile,
    fixed: { ...profile.fixed, heartbeatIntervalMs: intervalMs },
    phi: {
      ...profile.phi,
      firstHeartbeatEstimateMs: intervalMs,
      minStdDeviationMs: profile.phi.minStdDeviationMs * rounds,
      sampleIntervalMaxMs: profile.phi.sampleIntervalMaxMs * rounds,
    },
  };
}

/** Creates the detection loop of one agent. */
export function createPeerMonitor(options: PeerMonitorOptions): PeerMonitor {
  const { selfId, profile } = options;
  const peers = [...new Set(options.peers)].filter((peer) => peer !== selfId).sort();
  const scaled = scaledProfile(profile, peers.length);
  const factory = detectorFactory(scaled);
  /**
   * How long after a heartbeat suspicion stays below every threshold, so checks need not
   * compute it: phi stays below the threshold (the lowest limit, whatever the health
   * score) until `phiQuietDeviations` deviations past the learned mean plus the
   * acceptable pause; the fixed rule counts at most one missed interval during the first
   * interval. A detector's statistics change only on a heartbeat, when this is recomputed.
   * Until the first heartbeat silence counts from the start, so the same span from the
   * start holds for a peer never heard (at 1,000 peers on a bounded schedule, most of the
   * first round: each check would otherwise compute phi for every one of them).
   */
  const quietDeviations = phiQuietDeviations(profile.phi.phiThreshold);
  const quietSpanMs = (detector: FailureDetector): number => {
    if ('statistics' in detector) {
      if (profile.phi.phiThreshold <= 0.31) return 0;
      const { meanMs, stdDeviationMs } = (detector as PhiAccrualDetector).statistics();
      const deviationMs = Math.max(stdDeviationMs, scaled.phi.minStdDeviationMs);
      return meanMs + scaled.phi.acceptableHeartbeatPauseMs + quietDeviations * deviationMs;
    }
    return profile.fixed.missedHeartbeatsMax > 1 ? scaled.fixed.heartbeatIntervalMs : 0;
  };

  // One state per peer, in peer order; the array is what the per-check loop walks (no lookups), the map serves arrivals.
  const peerStates: PeerState[] = peers.map((peer, position) => {
    const detector = factory(options.startedAtMs);
    return {
      peer,
      position,
      detector,
      // A peer never heard is not judged during the join grace (`joining`), nor while its silence since the start is quiet.
      quietUntilMs: Math.max(options.startedAtMs, options.startedAtMs + (options.joinGraceMs ?? 0), options.startedAtMs + quietSpanMs(detector)),
      reachable: true,
      sinceMs: options.startedAtMs,
      probe: null,
      lastConclusion: null,
      lateGraceUntilMs: null,
      transitFloorMs: Number.POSITIVE_INFINITY,
      extraDelayMs: 0,
      extraDelayPeakMs: 0,
      linkCutsAtMs: noLinkCuts,
      recoveringSinceMs: null,
    };
  });
  const states = new Map<NodeId, PeerState>(peerStates.map((state) => [state.peer, state]));
  /**
   * Per peer, the earliest time a check has anything to do for it: now for a probe in
   * flight, never for a peer already unreachable, the end of its quiet span otherwise.
   * A check scans this small table and looks at a peer's state only when due, so its cost
   * in a large cluster is a pass over contiguous numbers, not over every peer's objects.
   * Kept in step with the state by `refreshAttention` after every change.
   */
  const attentionAtMs = new Float64Array(peers.length);
  const refreshAttention = (state: PeerState) => {
    attentionAtMs[state.position] =
      state.probe || state.lateGraceUntilMs !== null ? Number.NEGATIVE_INFINITY : state.reachable ? state.quietUntilMs : Number.POSITIVE_INFINITY;
  };
  peerStates.forEach(refreshAttention);
  let health: ObserverHealthState = initialObserverHealth(options.startedAtMs);
  let schedule: ProbeScheduleState = initialProbeSchedule();
  let checks = 0;
  let changed = false;
  const evidence = new EvidenceLedger();
  const joinGraceEndsAtMs = options.startedAtMs + (options.joinGraceMs ?? 0);
  const joining = (state: PeerState, nowMs: number) => nowMs < joinGraceEndsAtMs && state.detector.lastHeartbeatAtMs() === null;
  const threshold = profile.mode === 'fixed' ? profile.fixed.missedHeartbeatsMax : profile.phi.phiThreshold;

  const markUnreachable = (peer: NodeId, state: PeerState, nowMs: number) => {
    state.reachable = false;
    state.sinceMs = nowMs;
    refreshAttention(state);
    changed = true;
    health = recordPeerLoss(health, peer, nowMs, peers.length, profile.health);
  };

  const conclude = (state: PeerState, nowMs: number, result: CheckResult) => {
    const probe = state.probe!;
    const answered = new Map(probe.answers.map((answer) => [answer.proberId, answer]));
    const answers = probe.probers.map((proberId) => answered.get(proberId) ?? { proberId, outcome: 'timeout' as const });
    const conclusion = concludeProbe(false, answers);
    state.probe = null;
    state.lastConclusion = conclusion;
    refreshAttention(state);
    result.conclusions.push({ target: probe.target, conclusion });
    if (conclusion === 'inconclusive') health = recordProbeUnanswered(health, nowMs, profile.health);
    if (conclusion === 'link-cut') state.linkCutsAtMs = [...state.linkCutsAtMs, nowMs].slice(-lossyLinkCutsMin);
    if (conclusion === 'link-cut' && !lossyLink(state, nowMs)) {
      // Others reach the peer, we do not: a cut link, or a slow one whose datagrams are still on their way.
      state.lateGraceUntilMs = nowMs + lateGraceMs(state);
      refreshAttention(state);
    } else if (meansUnreachable(conclusion)) markUnreachable(probe.target, state, nowMs);
  };

  /** A link whose last late grace ran out recently and that is not measured slow: it loses datagrams. */
  const lossyLink = (state: PeerState, nowMs: number) =>
    state.extraDelayPeakMs < scaled.heartbeatIntervalMs * lateRatioMin &&
    state.linkCutsAtMs.length >= lossyLinkCutsMin &&
    nowMs - state.linkCutsAtMs[0]! <= lossyMemoryIntervals * scaled.heartbeatIntervalMs;

  /** How long a link-cut conclusion waits for a late datagram: one interval, or twice the recent peak delay if longer, at most four intervals. */
  const lateGraceMs = (state: PeerState) => Math.min(4 * scaled.heartbeatIntervalMs, Math.max(scaled.heartbeatIntervalMs, 2 * state.extraDelayPeakMs));

  /** Learns the link's delay from one datagram's transit (the clocks' offset cancels against the floor). */
  const noteTransit = (state: PeerState, nowMs: number, sentAtMs: number): number => {
    const transitMs = nowMs - sentAtMs;
    if (!Number.isFinite(transitMs)) return 0;
    state.transitFloorMs = Math.min(state.transitFloorMs, transitMs);
    const extraMs = transitMs - state.transitFloorMs;
    state.extraDelayMs += extraDelaySmoothing * (extraMs - state.extraDelayMs);
    state.extraDelayPeakMs = Math.max(extraMs, state.extraDelayPeakMs * extraDelayPeakDecay);
    return extraMs;
  };

  const observationsInto = (nowMs: number, into: PeerObservation[]): PeerObservation[] => {
    for (let position = 0; position < peerStates.length; position += 1) {
      const state = peerStates[position]!;
      const suspicion = Math.min(1e6, state.detector.suspicion(nowMs));
      const delayMs = state.extraDelayMs >= reportedDelayMinMs ? Math.min(600_000, Math.round(state.extraDelayMs)) : undefined;
      const probe = state.lastConclusion ?? undefined;
      const observation = into[position];
      if (observation === undefined) {
        into.push({ peerId: state.peer, reachable: state.reachable, lastHeardAtMs: state.detector.lastHeartbeatAtMs(), sinceMs: state.sinceMs, suspicion, delayMs, probe });
        continue;
      }
      observation.peerId = state.peer;
      observation.reachable = state.reachable;
      observation.lastHeardAtMs = state.detector.lastHeartbeatAtMs();
      observation.sinceMs = state.sinceMs;
      observation.suspicion = suspicion;
      observation.delayMs = delayMs;
      observation.probe = probe;
    }
    into.length = peerStates.length;
    return into;
  };

  const reachablePeers = () => peerStates.filter((state) => state.reachable).map((state) => state.peer);

  return {
    heard(peerId, nowMs, sentAtMs) {
      const state = states.get(peerId);
      if (!state) return;
      if (sentAtMs !== undefined) noteTransit(state, nowMs, sentAtMs);
      if (state.lateGraceUntilMs !== null) {
        // It was late, not lost (or a datagram or two were lost on a link that otherwise delivers).
        state.lateGraceUntilMs = null;
        state.lastConclusion = 'alive';
      }
      state.detector.heartbeat(nowMs);
      state.quietUntilMs = nowMs + quietSpanMs(state.detector);
      if (state.probe) {
        state.probe = null;
        state.lastConclusion = 'alive';
      }
      // A link that has shown itself lossy comes back only once heard again an interval after the first datagram through: a flaky link stays down, not up and down per datagram.
      const lossy = lossyLink(state, nowMs);
      if (!state.reachable && lossy && state.recoveringSinceMs === null) state.recoveringSinceMs = nowMs;
      const recovered = !lossy || (state.recoveringSinceMs !== null && nowMs - state.recoveringSinceMs >= scaled.heartbeatIntervalMs);
      if (!state.reachable && recovered && state.detector.isAvailable(nowMs)) {
        state.recoveringSinceMs = null;
        state.reachable = true;
        state.sinceMs = nowMs;
        changed = true;
      }
      refreshAttention(state);
    },
    proberAnswered(target, proberId, outcome) {
      const probe = states.get(target)?.probe;
      if (!probe || !probe.probers.includes(proberId)) return;
      if (!probe.answers.some((answer) => answer.proberId === proberId)) probe.answers.push({ proberId, outcome });
    },
    recordEvidence(sighting, nowMs) {
      evidence.record(sighting, nowMs);
    },
    check(nowMs, scheduledAtMs, random, idleChecksSkipped = 0) {
      // An idle check does nothing but count; the checks skipped (numbers `checks` .. `checks + skipped - 1`) must not include a heartbeat check.
      const untilHeartbeat = (checksPerInterval - (checks % checksPerInterval)) % checksPerInterval;
      if (!Number.isInteger(idleChecksSkipped) || idleChecksSkipped < 0 || idleChecksSkipped > untilHeartbeat) {
        throw new RangeError(`${idleChecksSkipped} checks skipped, but only ${untilHeartbeat} come before the next heartbeat check`);
      }
      checks += idleChecksSkipped;
      health = recordTick(health, scheduledAtMs, nowMs, profile.health);
      const result: CheckResult = { heartbeatTargets: [], probesStarted: [], conclusions: [], changed: false };
      // After a stall the peers' heartbeats may be waiting unread: judge nobody on a late check.
      const late = nowMs - scheduledAtMs > profile.health.deadlineLatenessToleranceMs;
      // Lifeguard scales timeouts by (score + 1). Phi is a log10 scale, so the faithful
      // counterpart for phi adds log10(score + 1)·k; one order of magnitude per point
      // (threshold + score) is simpler and still bounded by scoreMax.
      const limit = profile.mode === 'fixed' ? threshold * suspicionMultiplier(health) : threshold + suspicionMultiplier(health) - 1;
      for (let position = 0; position < peerStates.length; position += 1) {
        // Not due: the full test below would skip this peer too (no probe, and unreachable or still quiet).
        if (nowMs < attentionAtMs[position]!) continue;
        const state = peerStates[position]!;
        const peer = state.peer;
        if (state.probe) {
          const complete = state.probe.answers.length >= state.probe.probers.length && state.probe.probers.length > 0;
          if (nowMs >= state.probe.deadlineMs || complete) conclude(state, nowMs, result);
          continue;
        }
        if (state.lateGraceUntilMs !== null) {
          if (nowMs < state.lateGraceUntilMs) continue;
          state.lateGraceUntilMs = null;
          markUnreachable(peer, state, nowMs);
          continue;
        }
        if (late || !state.reachable || nowMs < state.quietUntilMs || joining(state, nowMs)) continue;
        if (state.detector.suspicion(nowMs) < limit) continue;
        if (profile.mode !== 'phi+indirect') {
          markUnreachable(peer, state, nowMs);
          continue;
        }
        const probers = pickProbers(reachablePeers(), selfId, peer, profile.indirect, random);
        state.probe = { target: peer, probers, startedAtMs: nowMs, deadlineMs: nowMs + profile.indirect.probeTimeoutMs, answers: [] };
        refreshAttention(state);
        result.probesStarted.push({ target: peer, probers });
      }
      if (checks % checksPerInterval === 0) {
        const next = nextProbeTargets(schedule, peers, profile.schedule, random);
        schedule = next.state;
        result.heartbeatTargets = next.targets;
      }
      checks += 1;
      result.changed = changed;
      changed = false;
      return result;
    },
    idleChecksAhead(firstAtMs, checkIntervalMs) {
      if (changed) return 0;
      const untilHeartbeat = (checksPerInterval - (checks % checksPerInterval)) % checksPerInterval;
      let earliestMs = Number.POSITIVE_INFINITY;
      for (let position = 0; position < attentionAtMs.length; position += 1) earliestMs = Math.min(earliestMs, attentionAtMs[position]!);
      // Checks due strictly before the earliest attention time would skip every peer.
      const beforeAttention = earliestMs === Number.POSITIVE_INFINITY ? untilHeartbeat : Math.max(0, Math.ceil((earliestMs - firstAtMs) / checkIntervalMs));
      return Math.min(untilHeartbeat, beforeAttention);
    },
    observations(nowMs, into) {
      if (into) return observationsInto(nowMs, into);
      return peerStates.map((state) => {
        return {
          peerId: state.peer,
          reachable: state.reachable,
          lastHeardAtMs: state.detector.lastHeartbeatAtMs(),
          sinceMs: state.sinceMs,
          suspicion: Math.min(1e6, state.detector.suspicion(nowMs)),
          ...(state.extraDelayMs >= reportedDelayMinMs && { delayMs: Math.min(600_000, Math.round(state.extraDelayMs)) }),
        };
      });
    },
    drainEvidence: () => evidence.drain(),
    health: (nowMs) => healthSnapshot(health, nowMs, profile.health),
    lastConclusion: (peerId) => states.get(peerId)?.lastConclusion ?? null,
  };
}
