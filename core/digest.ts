/**
 * Bucketed, Merkle-style digests of a key space. Every key falls into one of a fixed
 * number of buckets by a hash of the key; a bucket's hash is the XOR of its entries'
 * hashes (so one write updates it in O(1) and order never matters); the root hashes
 * the buckets. Two replicas agree when their roots agree; when they do not, the
 * differing buckets say where to look.
 *
 * Hashing is FNV-1a written here in TypeScript, two 32-bit lanes with different
 * bases and primes (64 bits in all), so the core needs no `node:crypto`. It is a
 * checksum against accidental difference, not a defence against an adversary.
 */
import type { Hlc } from './hlc';

/** Buckets used when the caller does not choose; 256 keeps a digest near 6 KB of JSON. */
export const digestBucketCountDefault = 256;
/** Largest bucket count accepted; bounds digest size on the wire. */
export const digestBucketCountMax = 65_536;

const laneAOffset = 0x811c9dc5;
const laneAPrime = 0x01000193;
const laneBOffset = 0x050c5d1f;
const laneBPrime = 0x5bd1e995;

/** One bucket of a digest. */
export interface DigestBucket {
  /** Number of keys (tombstones included) that fall in this bucket. */
  count: number;
  /** XOR of the 64-bit entry hashes in the bucket, as 16 hex digits. */
  hash: string;
}

/** A digest of one replica's key space at one instant. */
export interface Digest {
  /** Number of buckets; two digests are comparable only with the same count. */
  bucketCount: number;
  /** Number of keys (tombstones included) summarised. */
  keyCount: number;
  /** The buckets, indexed by `bucketOfKey`. */
  buckets: DigestBucket[];
  /** Hash over all bucket hashes and counts: equal roots mean (almost surely) equal data. */
  root: string;
}

/** FNV-1a over the UTF-16 code units of `text`, continuing from `hash` with `prime`. */
function fnvString(hash: number, prime: number, text: string): number {
  let h = hash;
  for (let index = 0; index < text.length; index++) {
    h ^= text.charCodeAt(index);
    h = Math.imul(h, prime);
  }
  return h >>> 0;
}

/** Feeds a non-negative integer (up to 2^53) into an FNV state, byte-free but order-sensitive. */
function fnvNumber(hash: number, prime: number, value: number): number {
  let h = hash ^ (value % 0x1_0000_0000);
  h = Math.imul(h, prime);
  h ^= Math.floor(value / 0x1_0000_0000);
  return Math.imul(h, prime) >>> 0;
}

/** A 32-bit FNV-1a hash of a string. */
export function hashString32(text: string): number {
  return fnvString(laneAOffset, laneAPrime, text);
}

/** The bucket a key belongs to. */
export function bucketOfKey(key: string, bucketCount: number): number {
  return hashString32(key) % bucketCount;
}

/** Hashes one entry (key, value or tombstone, version) in lane A or B. */
function entryLane(offset: number, prime: number, key: string, value: string | null, hlc: Hlc): number {
  let h = fnvString(offset, prime, key);
  h = fnvNumber(h, prime, value === null ? 0 : value.length + 1);
  if (value !== null) h = fnvString(h, prime, value);
  h = fnvNumber(h, prime, hlc.wallMs);
  h = fnvNumber(h, prime, hlc.logical);
  return fnvString(h, prime, hlc.nodeId);
}

function hex32(value: number): string {
  return (value >>> 0).toString(16).padStart(8, '0');
}

function assertBucketCount(bucketCount: number): void {
  if (!Number.isInteger(bucketCount) || bucketCount < 1 || bucketCount > digestBucketCountMax) {
    throw new RangeError(`bucketCount must be an integer in 1..${digestBucketCountMax}`);
  }
}

/**
 * Keeps a digest up to date as entries come and go: `add` a version when it is
 * stored, `remove` the version it replaced. O(1) per change, O(buckets) per snapshot.
 */
export class DigestAccumulator {
  /** Number of buckets this accumulator hashes into. */
  readonly bucketCount: number;
  private readonly laneA: Uint32Array;
  private readonly laneB: Uint32Array;
  private readonly counts: Uint32Array;
  private keyCount = 0;

  constructor(bucketCount: number = digestBucketCountDefault) {
    assertBucketCount(bucketCount);
    this.bucketCount = bucketCount;
    this.laneA = new Uint32Array(bucketCount);
    this.laneB = new Uint32Array(bucketCount);
    this.counts = new Uint32Array(bucketCount);
  }

  /** Records that `key` now holds this version. */
  add(key: string, value: string | null, hlc: Hlc): void {
    this.toggle(key, value, hlc, 1);
  }

  /** Records that `key` no longer holds this version (it was replaced). */
  remove(key: string, value: string | null, hlc: Hlc): void {
    this.toggle(key, value, hlc, -1);
  }

  private toggle(key: string, value: string | null, hlc: Hlc, delta: 1 | -1): void {
    const bucket = bucketOfKey(key, this.bucketCount);
    this.laneA[bucket] = ((this.laneA[bucket] ?? 0) ^ entryLane(laneAOffset, laneAPrime, key, value, hlc)) >>> 0;
    this.laneB[bucket] = ((this.laneB[bucket] ?? 0) ^ entryLane(laneBOffset, laneBPrime, key, value, hlc)) >>> 0;
    this.counts[bucket] = (this.counts[bucket] ?? 0) + delta;
    this.keyCount += delta;
  }

  /** The digest as it stands now. */
  snapshot(): Digest {
    const buckets: DigestBucket[] = [];
    let rootA = laneAOffset;
    let rootB = laneBOffset;
    for (let index = 0; index < this.bucketCount; index++) {
      const a = this.laneA[index] ?? 0;
      const b = this.laneB[index] ?? 0;
      const count = this.counts[index] ?? 0;
      buckets.push({ count, hash: hex32(a) + hex32(b) });
      rootA = fnvNumber(fnvNumber(rootA, laneAPrime, a), laneAPrime, count);
      rootB = fnvNumber(fnvNumber(rootB, laneBPrime, b), laneBPrime, count);
    }
    return { bucketCount: this.bucketCount, keyCount: this.keyCount, buckets, root: hex32(rootA) + hex32(rootB) };
  }
}

/** One versioned entry as the digest sees it. */
export interface DigestEntry {
  /** The key. */
  key: string;
  /** The value, or null for a tombstone (a delete still counts as a version). */
  value: string | null;
  /** The version's timestamp. */
  hlc: Hlc;
}

/** Digests a whole key space at once. */
export function digestOf(entries: Iterable<DigestEntry>, bucketCount: number = digestBucketCountDefault): Digest {
  const accumulator = new DigestAccumulator(bucketCount);
  for (const entry of entries) accumulator.add(entry.key, entry.value, entry.hlc);
  return accumulator.snapshot();
}

/** Indexes of the buckets in which two digests differ. Throws if their bucket counts differ. */
export function diffDigests(a: Digest, b: Digest): number[] {
  if (a.bucketCount !== b.bucketCount) throw new RangeError('digests with different bucket counts');
  if (a.root === b.root) return [];
  const differing: number[] = [];
  for (let index = 0; index < a.bucketCount; index++) {
    const left = a.buckets[index];
    const right = b.buckets[index];
    if (left?.hash !== right?.hash || left?.count !== right?.count) differing.push(index);
  }
  return differing;
}

/** True when every digest has the same root (and there is at least one). */
export function digestsAgree(digests: readonly Digest[]): boolean {
  const first = digests[0];
  return first !== undefined && digests.every((digest) => digest.root === first.root);
}

/**
 * An upper bound on the fraction of keys that differ between replicas, from digests
 * alone: every key in a bucket that differs anywhere is counted as possibly different.
 * Use it where only digests travel (agent reports); compute the exact ratio from key
 * sets (`divergenceRatio` in core/reconcile) when the entries are at hand.
 */
export function estimateDivergenceRatio(digests: readonly Digest[]): number {
  const first = digests[0];
  if (first === undefined || digestsAgree(digests)) return 0;
  const suspectBuckets = new Set<number>();
  for (const digest of digests.slice(1)) for (const index of diffDigests(first, digest)) suspectBuckets.add(index);
  let suspectKeys = 0;
  let totalKeys = 0;
  for (let index = 0; index < first.bucketCount; index++) {
    const largest = Math.max(...digests.map((digest) => digest.buckets[index]?.count ?? 0));
    totalKeys += largest;
    if (suspectBuckets.has(index)) suspectKeys += largest;
  }
  return totalKeys === 0 ? 0 : Math.min(1, suspectKeys / totalKeys);
}
