/**
 * Conversions between the in-memory shapes of reconciliation (Hlc objects, Digest)
 * and their wire form in data-plane commands and replies (encoded HLC strings), so
 * that agent and server convert the same way. Pure.
 */
import type { Digest } from '../digest';
import { type Hlc, decodeHlc, encodeHlc } from '../hlc';
import type { ResolvedEntry } from './plan-reconciliation';
import type { VersionedEntry } from './resolver';

/** One versioned entry on the wire (see `WireEntrySchema`). */
export interface WireEntry {
  key: string;
  value: string | null;
  /** `encodeHlc` form. */
  hlc: string;
}

/** One resolved entry on the wire (see `WireResolvedEntrySchema`). */
export interface WireResolvedEntry extends WireEntry {
  /** `encodeHlc` form. */
  supersedes: string;
}

/** Decodes an HLC that a zod schema already checked; throws RangeError if it was not. */
export function decodeHlcOrThrow(text: string): Hlc {
  const hlc = decodeHlc(text);
  if (hlc === null) throw new RangeError(`"${text}" is not an encoded HLC`);
  return hlc;
}

/** A versioned entry in wire form. */
export function toWireEntry(entry: VersionedEntry): WireEntry {
  return { key: entry.key, value: entry.value, hlc: encodeHlc(entry.hlc) };
}

/** A wire entry (already validated) as a versioned entry. */
export function fromWireEntry(entry: WireEntry): VersionedEntry {
  return { key: entry.key, value: entry.value, hlc: decodeHlcOrThrow(entry.hlc) };
}

/** A resolved entry in wire form. */
export function toWireResolvedEntry(entry: ResolvedEntry): WireResolvedEntry {
  return { ...toWireEntry(entry), supersedes: encodeHlc(entry.supersedes) };
}

/** A wire resolved entry (already validated) as a resolved entry. */
export function fromWireResolvedEntry(entry: WireResolvedEntry): ResolvedEntry {
  return { ...fromWireEntry(entry), supersedes: decodeHlcOrThrow(entry.supersedes) };
}

/** A digest in wire form: the same fields, copied so the wire value shares nothing with the store. */
export function toWireDigest(digest: Digest): Digest {
  return { bucketCount: digest.bucketCount, keyCount: digest.keyCount, buckets: digest.buckets.map((bucket) => ({ ...bucket })), root: digest.root };
}
