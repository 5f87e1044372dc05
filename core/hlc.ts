/**
 * Hybrid logical clocks (Kulkarni et al., 2014): timestamps that follow physical
 * time closely but never go backwards and always order a message after its cause.
 * Pure: the physical time is passed in by the caller, never read here.
 */
import type { NodeId } from './protocol';

/** Largest logical counter before the clock refuses to tick; bounds the encoding width. */
export const hlcLogicalMax = 0xffff_ffff;
/** Default largest distance a remote timestamp may sit ahead of our physical clock (ms). */
export const hlcDriftMaxMsDefault = 60_000;

/** One hybrid logical timestamp. Totally ordered by (wallMs, logical, nodeId). */
export interface Hlc {
  /** Largest physical time (ms since epoch) this clock has seen, locally or in a message. */
  wallMs: number;
  /** Counter that orders events sharing the same `wallMs`. */
  logical: number;
  /** Node that issued the timestamp; breaks ties so that no two nodes' stamps are equal. */
  nodeId: NodeId;
}

/** The result of merging a remote timestamp: the advanced clock, or why it was refused. */
export type HlcReceiveResult =
  | { ok: true; clock: Hlc }
  | { ok: false; reason: 'drift' | 'overflow'; message: string };

/** The zero timestamp of a node: earlier than anything it will ever issue. */
export function hlcZero(nodeId: NodeId): Hlc {
  return { wallMs: 0, logical: 0, nodeId };
}

/**
 * The earliest timestamp at physical time `wallMs`: orders before every stamp any
 * node issues at or after `wallMs` (its node id `-` is the smallest valid one), so
 * "changed since T" can be asked as "at or after hlcFloor(T)".
 */
export function hlcFloor(wallMs: number): Hlc {
  return { wallMs, logical: 0, nodeId: '-' };
}

/** Orders two timestamps: negative when `a` is earlier, positive when later, 0 when identical. */
export function compareHlc(a: Hlc, b: Hlc): number {
  if (a.wallMs !== b.wallMs) return a.wallMs - b.wallMs;
  if (a.logical !== b.logical) return a.logical - b.logical;
  if (a.nodeId === b.nodeId) return 0;
  return a.nodeId < b.nodeId ? -1 : 1;
}

/** The later of two timestamps. */
export function maxHlc(a: Hlc, b: Hlc): Hlc {
  return compareHlc(a, b) >= 0 ? a : b;
}

/** Advances the clock for a local event (a write or a send) at physical time `physicalMs`. */
export function hlcTick(clock: Hlc, physicalMs: number): Hlc {
  if (physicalMs > clock.wallMs) return { wallMs: physicalMs, logical: 0, nodeId: clock.nodeId };
  if (clock.logical >= hlcLogicalMax) throw new RangeError('hlc logical counter overflow');
  return { wallMs: clock.wallMs, logical: clock.logical + 1, nodeId: clock.nodeId };
}

/**
 * Advances the clock on receipt of `remote` so that the next local stamp orders after it.
 * A remote stamp more than `driftMaxMs` ahead of our physical clock is refused, so one
 * node with a wild clock cannot drag every other clock into the future.
 */
export function hlcReceive(
  clock: Hlc,
  remote: Hlc,
  physicalMs: number,
  driftMaxMs: number = hlcDriftMaxMsDefault,
): HlcReceiveResult {
  if (remote.wallMs - physicalMs > driftMaxMs) {
    return { ok: false, reason: 'drift', message: `remote clock ${remote.wallMs - physicalMs} ms ahead` };
  }
  const wallMs = Math.max(clock.wallMs, remote.wallMs, physicalMs);
  let logical = 0;
  if (wallMs === clock.wallMs && wallMs === remote.wallMs) logical = Math.max(clock.logical, remote.logical) + 1;
  else if (wallMs === clock.wallMs) logical = clock.logical + 1;
  else if (wallMs === remote.wallMs) logical = remote.logical + 1;
  if (logical > hlcLogicalMax) return { ok: false, reason: 'overflow', message: 'hlc logical counter overflow' };
  return { ok: true, clock: { wallMs, logical, nodeId: clock.nodeId } };
}

/**
 * Encodes a timestamp as a string whose lexicographic order equals `compareHlc`
 * order (fixed-width wall time and counter), for logs, wire and sorted indexes.
 */
export function encodeHlc(hlc: Hlc): string {
  return `${hlc.wallMs.toString().padStart(16, '0')}-${hlc.logical.toString(16).padStart(8, '0')}-${hlc.nodeId}`;
}

/** Parses `encodeHlc` output; returns null for anything malformed. */
export function decodeHlc(text: string): Hlc | null {
  const match = /^(\d{16})-([0-9a-f]{8})-([A-Za-z0-9._-]{1,64})$/.exec(text);
  if (!match) return null;
  const wallMs = Number(match[1]);
  const logical = parseInt(match[2] ?? '', 16);
  if (!Number.isSafeInteger(wallMs)) return null;
  return { wallMs, logical, nodeId: match[3] ?? '' };
}
