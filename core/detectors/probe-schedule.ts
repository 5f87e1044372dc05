/**
 * Which peers an agent sends heartbeats to in one interval. Small clusters heartbeat
 * every peer every interval. Once that would exceed a bound, SWIM's round-robin applies:
 * walk a random permutation of the peers, a bounded number per interval, so that every
 * peer is visited once per round and the cost per agent stays constant instead of
 * growing with the cluster (N² messages overall). Unlike SWIM, the permutation is kept
 * from round to round and reshuffled only when membership changes: every peer is then
 * heard at a steady rhythm of one visit per round, which is what an adaptive (phi)
 * detector needs to learn; SWIM reshuffles because it has no such detector.
 *
 * Stateful by value: `nextProbeTargets` returns the new state.
 */
import type { NodeId } from '../protocol';
import { type RandomSource, shuffled } from './random-source';

/** Settings of the schedule. */
export interface ProbeScheduleOptions {
  /** Most peers sent a heartbeat per interval; at or above the peer count, every peer is sent one. */
  peersPerIntervalMax: number;
}

/** Where the round-robin walk stands. */
export interface ProbeScheduleState {
  /** The current round's permutation of peers. */
  order: readonly NodeId[];
  /** Index in `order` of the next peer to visit. */
  cursor: number;
  /**
   * The peer list `order` was last checked against: when the next call passes this same
   * (readonly) array, membership is known unchanged and need not be rebuilt, which in a
   * large cluster is most of the cost of a call. Absent until a round starts.
   */
  members?: readonly NodeId[];
}

/** A schedule that has not started a round yet. */
export function initialProbeSchedule(): ProbeScheduleState {
  return { order: [], cursor: 0 };
}

/** Membership when the peer list is known unchanged: everyone in `order` is present. */
const everyPeerPresent = { has: (_peer: NodeId) => true };

/**
 * Returns this interval's targets and the next state. Peers that left are skipped; peers
 * that joined enter at the next round, which reshuffles. The walk is bounded by `peers.length` steps.
 * Callers pass the same `peers` array while membership is unchanged and a new one when it
 * changes (never the same array mutated), which lets a call skip rebuilding membership.
 */
export function nextProbeTargets(
  state: ProbeScheduleState,
  peers: readonly NodeId[],
  options: ProbeScheduleOptions,
  random: RandomSource,
): { state: ProbeScheduleState; targets: NodeId[] } {
  if (options.peersPerIntervalMax < 1) throw new RangeError('peersPerIntervalMax must be at least 1');
  if (peers.length <= options.peersPerIntervalMax) return { state, targets: [...peers] };
  // Same array as last time: `order` is a permutation of exactly these peers, so every one is present.
  const unchanged = state.members === peers;
  const present: { has(peer: NodeId): boolean } = unchanged ? everyPeerPresent : new Set(peers);
  const targets: NodeId[] = [];
  let { order, cursor } = state;
  for (let steps = 0; steps < 2 * peers.length && targets.length < options.peersPerIntervalMax; steps += 1) {
    if (cursor >= order.length) {
      const sameMembers = unchanged || (order.length === peers.length && order.every((peer) => present.has(peer)));
      if (!sameMembers) order = shuffled(peers, random);
      cursor = 0;
      // A reshuffle must not hand out a peer twice in the same interval.
      if (targets.length > 0 && !sameMembers) order = [...order.filter((peer) => !targets.includes(peer)), ...targets];
    }
    const peer = order[cursor]!;
    cursor += 1;
    if (present.has(peer) && !targets.includes(peer)) targets.push(peer);
  }
  const sameOrder = order.length === peers.length && (unchanged || order.every((peer) => present.has(peer)));
  return { state: sameOrder ? { order, cursor, members: peers } : { order, cursor }, targets };
}
