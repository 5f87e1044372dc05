/**
 * A sliding anti-replay window over one sender's sequence numbers (the scheme of
 * IPsec, RFC 4303 §3.4.3, with a digest per slot). Datagrams may arrive out of order
 * or twice, so "not above the highest seen" would lose data; instead a number is
 * admitted once, an exact duplicate (same digest: networks duplicate datagrams) is
 * dropped without blame, a different packet under a number already seen is a
 * contradiction, and a number too far behind to tell is a replay. A newer sender
 * incarnation starts afresh; an older one is a replay. No I/O; the window is mutated
 * in place because a receiver checks every datagram against it.
 */

/** How far behind the highest admitted sequence a late datagram may still be admitted. */
export const replayWindowSize = 64;

/** What a receiver remembers about one sender. */
export interface ReplayWindow {
  /** Sender incarnation the window belongs to; -1 before the first datagram. */
  incarnation: number;
  /** Highest sequence admitted in this incarnation, or -1. */
  highest: number;
  /**
   * Digest of the datagram admitted under each sequence, at `sequence % replayWindowSize`;
   * a slot never filled is absent (the array grows as sequences come: a receiver holds a
   * window per peer, a million of them in a 1,000-node simulation, most nearly empty).
   */
  slots: ({ sequence: number; digest: string } | null | undefined)[];
}

/** What became of one datagram. */
export type Admission = 'new' | 'duplicate' | 'replay' | 'contradiction';

/** A window that has admitted nothing. */
export function createReplayWindow(): ReplayWindow {
  return { incarnation: -1, highest: -1, slots: [] };
}

/** Checks (incarnation, sequence, digest) against `window`, recording it when new. */
export function admitSequence(window: ReplayWindow, incarnation: number, sequence: number, digest: string): Admission {
  if (incarnation < window.incarnation) return 'replay';
  if (incarnation > window.incarnation) {
    window.incarnation = incarnation;
    window.highest = -1;
    window.slots.fill(null);
  }
  if (window.highest - sequence >= replayWindowSize) return 'replay';
  const index = sequence % replayWindowSize;
  const slot = window.slots[index];
  if (slot && slot.sequence === sequence) return slot.digest === digest ? 'duplicate' : 'contradiction';
  // The slot's object is the window's own (nothing else holds it), so it is reused.
  if (slot) {
    slot.sequence = sequence;
    slot.digest = digest;
  } else window.slots[index] = { sequence, digest };
  window.highest = Math.max(window.highest, sequence);
  return 'new';
}
