/**
 * An observer's judgement of its own health, after Lifeguard (Dadgar et al. 2018) and
 * Kubernetes' node lifecycle rule that mass failure is probably the observer's fault.
 * A score rises when the observer misses its own deadlines (it was paused or starved),
 * when it suddenly loses most of its peers at once, or when its probes go unanswered
 * by everyone; it decays with time. While the score is above zero the observer's
 * verdicts are discounted: it waits longer before suspecting, and the classifier does
 * not take its "unreachable" claims as evidence.
 *
 * Stateful by value: every function returns a new state.
 */
import type { NodeId } from '../protocol';

/** Settings of the local health score. */
export interface ObserverHealthOptions {
  /** Highest score (Lifeguard's saturation limit, 8 there). */
  scoreMax: number;
  /** A tick that runs this much later (ms) than scheduled counts as a missed own deadline. */
  deadlineLatenessToleranceMs: number;
  /** Fraction of watched peers that, lost within `massLossWindowMs`, counts as "most peers at once". */
  massLossRatioMin: number;
  /** Losses closer together than this (ms) count as simultaneous. */
  massLossWindowMs: number;
  /** Fewer watched peers than this never trigger the mass-loss rule (tiny clusters lose "most" peers too easily). */
  massLossPeersMin: number;
  /** Score added by one mass loss. */
  massLossPenalty: number;
  /** One point of score is forgiven per this much time (ms). */
  scoreDecayMs: number;
}

/** Upper bound on remembered recent losses, whatever the cluster size. */
export const recentLossesMax = 1024;

/** The health score and what it needs to evolve. */
export interface ObserverHealthState {
  /** Current score, 0 (healthy) .. scoreMax. */
  score: number;
  /** Time (ms) up to which decay has been applied. */
  decayedAtMs: number;
  /** Peers lost recently, with when (ms); feeds the mass-loss rule. */
  recentLosses: ReadonlyArray<{ peerId: NodeId; atMs: number }>;
  /** Why the score last rose, for the evidence chain; null when it never did. */
  lastReason: HealthReason | null;
  /** Count of missed own deadlines since start, for reports. */
  missedDeadlines: number;
}

/** Why the observer lowered its trust in itself. */
export type HealthReason = 'missed-deadline' | 'mass-loss' | 'probe-unanswered';

/** What a report carries about the observer's health. */
export interface ObserverHealthSnapshot {
  /** Score at the time of the snapshot. */
  score: number;
  /** Whether the observer's verdicts should be discounted now. */
  discounted: boolean;
  /** Why the score last rose, or null. */
  lastReason: HealthReason | null;
  /** Missed own deadlines since start. */
  missedDeadlines: number;
}

/** A fresh, healthy state at `nowMs`. */
export function initialObserverHealth(nowMs: number): ObserverHealthState {
  return { score: 0, decayedAtMs: nowMs, recentLosses: [], lastReason: null, missedDeadlines: 0 };
}

/** Applies time-based decay up to `nowMs`. */
export function decayHealth(state: ObserverHealthState, nowMs: number, options: ObserverHealthOptions): ObserverHealthState {
  if (nowMs <= state.decayedAtMs) return state;
  const points = Math.floor((nowMs - state.decayedAtMs) / options.scoreDecayMs);
  if (state.score === 0) return { ...state, decayedAtMs: nowMs };
  if (points === 0) return state;
  return {
    ...state,
    score: Math.max(0, state.score - points),
    decayedAtMs: state.decayedAtMs + points * options.scoreDecayMs,
  };
}

function raise(state: ObserverHealthState, by: number, reason: HealthReason, options: ObserverHealthOptions): ObserverHealthState {
  return { ...state, score: Math.min(options.scoreMax, state.score + by), lastReason: reason };
}

/** Records one run of the observer's own periodic work that was due at `scheduledAtMs` and ran at `ranAtMs`. */
export function recordTick(
  state: ObserverHealthState,
  scheduledAtMs: number,
  ranAtMs: number,
  options: ObserverHealthOptions,
): ObserverHealthState {
  const decayed = decayHealth(state, ranAtMs, options);
  if (ranAtMs - scheduledAtMs <= options.deadlineLatenessToleranceMs) return decayed;
  // A late tick after a long stall is one deadline missed per tolerance span slept through.
  const missed = Math.ceil((ranAtMs - scheduledAtMs) / Math.max(1, options.deadlineLatenessToleranceMs));
  const raised = raise(decayed, Math.min(options.scoreMax, missed), 'missed-deadline', options);
  return { ...raised, missedDeadlines: raised.missedDeadlines + missed, decayedAtMs: ranAtMs };
}

/**
 * Records that `peerId` was declared lost at `nowMs` while `watchedPeers` peers were
 * watched. Raises the score when most peers were lost within the mass-loss window.
 */
export function recordPeerLoss(
  state: ObserverHealthState,
  peerId: NodeId,
  nowMs: number,
  watchedPeers: number,
  options: ObserverHealthOptions,
): ObserverHealthState {
  const decayed = decayHealth(state, nowMs, options);
  const recent = decayed.recentLosses.filter((loss) => nowMs - loss.atMs <= options.massLossWindowMs && loss.peerId !== peerId);
  recent.push({ peerId, atMs: nowMs });
  const bounded = recent.slice(-recentLossesMax);
  const isMassLoss = watchedPeers >= options.massLossPeersMin && bounded.length >= options.massLossRatioMin * watchedPeers;
  if (!isMassLoss) return { ...decayed, recentLosses: bounded };
  // Forget the losses that triggered it, so one event raises the score once.
  return { ...raise(decayed, options.massLossPenalty, 'mass-loss', options), recentLosses: [] };
}

/** Records a probe round that nobody answered, not even the probers. */
export function recordProbeUnanswered(state: ObserverHealthState, nowMs: number, options: ObserverHealthOptions): ObserverHealthState {
  return { ...raise(decayHealth(state, nowMs, options), 1, 'probe-unanswered', options), decayedAtMs: nowMs };
}

/** Lifeguard's local health multiplier: suspicion thresholds are scaled by (score + 1). */
export function suspicionMultiplier(state: ObserverHealthState): number {
  return state.score + 1;
}

/** The snapshot an observer reports about itself at `nowMs`. */
export function healthSnapshot(state: ObserverHealthState, nowMs: number, options: ObserverHealthOptions): ObserverHealthSnapshot {
  const decayed = decayHealth(state, nowMs, options);
  return {
    score: decayed.score,
    discounted: decayed.score > 0,
    lastReason: decayed.lastReason,
    missedDeadlines: decayed.missedDeadlines,
  };
}
