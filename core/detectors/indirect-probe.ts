/**
 * SWIM-style indirect probing, as pure decisions. Before an observer declares a peer
 * unreachable it pings the peer once more directly and asks k other members to ping
 * it on its behalf. Their answers tell a cut link (others still reach the peer) from
 * a peer that is down or cut off from everyone asked, and from an observer that is
 * itself cut off (nobody answers at all). The message exchange belongs to the caller.
 */
import type { NodeId } from '../protocol';
import { type RandomSource, sampleWithoutReplacement } from './random-source';

/** Settings of indirect probing. */
export interface IndirectProbeOptions {
  /** How many other members are asked to probe the peer (SWIM's k; memberlist uses 3). */
  probersCount: number;
  /** Direct pings sent at the start of a round; two make a single lost datagram unable to fake a cut link. */
  directPingsCount: number;
  /** How long (ms) the observer waits for the direct ack and the probers' answers before concluding. */
  probeTimeoutMs: number;
}

/** Largest k accepted: more probers add messages but almost no certainty. */
export const probersCountMax = 16;

/** What one asked member answered about the peer. */
export type ProberOutcome =
  /** The prober reached the peer: the peer is alive and the prober can hear it. */
  | 'ack'
  /** The prober answered but could not reach the peer within its own timeout. */
  | 'nack'
  /** The prober did not answer at all (it, or the path to it, is down). */
  | 'timeout';

/** One prober's answer. */
export interface ProberAnswer {
  /** The member that was asked. */
  proberId: NodeId;
  /** What it answered. */
  outcome: ProberOutcome;
}

/** The conclusion of one probe round about one peer. */
export type ProbeConclusion =
  /** The direct re-probe was answered: the earlier silence was transient loss; keep the peer. */
  | 'alive'
  /** The peer answered someone else but not us: our link to it is cut; the peer is up. */
  | 'link-cut'
  /** Probers answered but none reached the peer: it is down or cut off from all of them. */
  | 'peer-down'
  /** Nobody answered, not even the probers: we are probably the one cut off; count it against our own health. */
  | 'inconclusive';

/**
 * Picks up to `options.probersCount` probers among `members`, never the observer
 * itself nor the suspected peer, uniformly at random from the passed-in source.
 */
export function pickProbers(
  members: readonly NodeId[],
  observerId: NodeId,
  suspectId: NodeId,
  options: IndirectProbeOptions,
  random: RandomSource,
): NodeId[] {
  if (options.probersCount < 0 || options.probersCount > probersCountMax) {
    throw new RangeError(`probersCount must be within 0..${probersCountMax}`);
  }
  const candidates = members.filter((member) => member !== observerId && member !== suspectId);
  return sampleWithoutReplacement(candidates, options.probersCount, random);
}

/** Combines the direct re-probe and the probers' answers into one conclusion. */
export function concludeProbe(directAck: boolean, answers: readonly ProberAnswer[]): ProbeConclusion {
  if (directAck) return 'alive';
  if (answers.some((answer) => answer.outcome === 'ack')) return 'link-cut';
  if (answers.some((answer) => answer.outcome === 'nack')) return 'peer-down';
  return 'inconclusive';
}

/** Whether a conclusion means the observer should now report the peer as unreachable. */
export function meansUnreachable(conclusion: ProbeConclusion): boolean {
  return conclusion !== 'alive';
}
