/**
 * Replication of entries too large for one datagram: the entry is encoded as one blob
 * and cut into fragments, each its own signed datagram with its own sequence number,
 * so every fragment passes the same signature, sender and replay checks as a whole
 * datagram. The receiver reassembles them (`replication-reassembly.ts`, bounded in
 * memory and time); a lost fragment loses the entry, which, like any lost datagram,
 * reconciliation repairs.
 *
 * Fragment datagram: 1 byte tag `replicationFragmentPacketType`, 32 bytes of HMAC over
 * (tag + rest), a 2-byte big-endian header length, the header as UTF-8 JSON
 * `{ v, c, f, i, s, t, g, n, of, b }` (the membership envelope, then the group, which is
 * the sequence of fragment 0, the fragment's index, the fragment count and the blob's
 * total bytes; `s = g + n`), then the fragment's bytes.
 *
 * Blob: a 2-byte big-endian length, JSON `[key, wallMs, logical, hasValue]`, then the
 * value's raw UTF-8 bytes, so a value's size on the wire is its UTF-8 size (JSON
 * escaping could multiply it by six).
 */
import { timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { hlcLogicalMax } from '../core/hlc';
import { keyLengthMax, valueBytesMax } from '../core/reconcile/data-plane-commands';
import type { VersionedEntry } from '../core/reconcile/resolver';
import { type ReplicationDecodeFailure, type ReplicationEnvelope, envelopeWireFields, parseClaimingSender, signPacket, signatureBytes } from './replication-codec';
import { datagramBytesMax } from './transport/udp-transport';

/** First byte of a fragment datagram (whole-entry datagrams are 0x10). */
export const replicationFragmentPacketType = 0x11;
/**
 * Most fragments one entry may take. Equal to the replay window (64), so all fragments
 * of an entry are admitted in any arrival order, and to the datagrams one flush sends
 * to a peer, so a maximal entry always fits one flush.
 */
export const fragmentsPerEntryMax = 64;
/** Largest blob (bytes): a maximal key JSON-escaped at worst (6 bytes per character), the HLC, and a maximal value. */
export const fragmentedEntryBytesMax = 2 + keyLengthMax * 6 + 64 + valueBytesMax;

const prefixBytes = 1 + signatureBytes + 2;

const HeaderSchema = z
  .strictObject({
    ...envelopeWireFields,
    g: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
    n: z.number().int().nonnegative().max(fragmentsPerEntryMax - 1),
    of: z.number().int().min(2).max(fragmentsPerEntryMax),
    b: z.number().int().min(1).max(fragmentedEntryBytesMax),
  })
  .refine((header) => header.n < header.of && header.s === header.g + header.n, 'index within count, sequence = group + index');

const BlobHeadSchema = z.tuple([
  z.string().min(1).max(keyLengthMax),
  z.number().int().nonnegative().max(8.64e15),
  z.number().int().nonnegative().max(hlcLogicalMax),
  z.union([z.literal(0), z.literal(1)]),
]);

/** One verified fragment. `digest` names these exact bytes, for the replay window. */
export interface DecodedFragment {
  envelope: ReplicationEnvelope;
  /** Sequence of the entry's first fragment: with sender and incarnation, names the entry. */
  group: number;
  index: number;
  count: number;
  /** Size of the whole blob (bytes). */
  totalBytes: number;
  chunk: Uint8Array;
  digest: string;
}

export type FragmentDecodeResult = { ok: true; fragment: DecodedFragment } | { ok: false; reason: ReplicationDecodeFailure; claimedFrom?: string };

/** The blob of one entry (see the module comment). */
export function encodeEntryBlob(entry: VersionedEntry): Buffer {
  const head = Buffer.from(JSON.stringify([entry.key, entry.hlc.wallMs, entry.hlc.logical, entry.value === null ? 0 : 1]));
  const length = Buffer.alloc(2);
  length.writeUInt16BE(head.length);
  return Buffer.concat([length, head, Buffer.from(entry.value ?? '', 'utf8')]);
}

/** Decodes a reassembled blob; the HLC's node is the sender, as in whole datagrams. Null when malformed. */
export function decodeEntryBlob(blob: Uint8Array, from: string): VersionedEntry | null {
  const bytes = Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength);
  if (bytes.length < 2) return null;
  const headLength = bytes.readUInt16BE(0);
  if (2 + headLength > bytes.length) return null;
  let head: z.infer<typeof BlobHeadSchema>;
  try {
    const parsed = BlobHeadSchema.safeParse(JSON.parse(bytes.subarray(2, 2 + headLength).toString('utf8')));
    if (!parsed.success) return null;
    head = parsed.data;
  } catch {
    return null;
  }
  const [key, wallMs, logical, hasValue] = head;
  const valueBytes = bytes.subarray(2 + headLength);
  if (valueBytes.length > valueBytesMax || (hasValue === 0 && valueBytes.length > 0)) return null;
  return { key, value: hasValue === 1 ? valueBytes.toString('utf8') : null, hlc: { wallMs, logical, nodeId: from } };
}

function headerText(head: ReplicationEnvelope, group: number, index: number, count: number, totalBytes: number): string {
  return JSON.stringify({ v: 1, c: head.clusterId, f: head.from, i: head.incarnation, s: group + index, t: head.sentAtMs, g: group, n: index, of: count, b: totalBytes });
}

/**
 * Cuts `entry` into signed fragment datagrams of at most `bytesMax` bytes, numbered
 * from `head.sequence` (fragment i takes sequence `head.sequence + i`). Null when the
 * entry would need more than `fragmentsPerEntryMax` fragments.
 */
export function packFragments(key: string, head: ReplicationEnvelope, entry: VersionedEntry, bytesMax: number = datagramBytesMax): Uint8Array[] | null {
  const blob = encodeEntryBlob(entry);
  if (blob.length > fragmentedEntryBytesMax) return null;
  // The largest header this entry can have: every number at its widest.
  const chunkBytes = bytesMax - prefixBytes - Buffer.byteLength(headerText(head, head.sequence, fragmentsPerEntryMax - 1, fragmentsPerEntryMax, blob.length));
  const count = Math.max(2, Math.ceil(blob.length / chunkBytes));
  if (count > fragmentsPerEntryMax) return null;
  const size = Math.ceil(blob.length / count);
  const packets: Uint8Array[] = [];
  for (let index = 0; index < count; index++) {
    const header = Buffer.from(headerText(head, head.sequence, index, count, blob.length));
    const length = Buffer.alloc(2);
    length.writeUInt16BE(header.length);
    const rest = Buffer.concat([length, header, blob.subarray(index * size, (index + 1) * size)]);
    packets.push(Buffer.concat([Buffer.of(replicationFragmentPacketType), signPacket(key, replicationFragmentPacketType, rest), rest]));
  }
  return packets;
}

/** Verifies and decodes one fragment datagram. Never throws. */
export function decodeReplicationFragment(key: string, packet: Uint8Array): FragmentDecodeResult {
  if (packet.length <= prefixBytes || packet[0] !== replicationFragmentPacketType) return { ok: false, reason: 'malformed' };
  const bytes = Buffer.from(packet.buffer, packet.byteOffset, packet.byteLength);
  const signature = bytes.subarray(1, 1 + signatureBytes);
  const rest = bytes.subarray(1 + signatureBytes);
  const headerLength = rest.readUInt16BE(0);
  const { parsed: header, claimedFrom } = 2 + headerLength <= rest.length ? parseClaimingSender(HeaderSchema, rest.subarray(2, 2 + headerLength).toString('utf8')) : { parsed: null };
  if (!timingSafeEqual(signPacket(key, replicationFragmentPacketType, rest), signature)) return { ok: false, reason: 'bad-signature', claimedFrom: header?.f ?? claimedFrom };
  if (!header) return { ok: false, reason: 'malformed', claimedFrom };
  const chunk = rest.subarray(2 + headerLength);
  if (chunk.length === 0 || chunk.length > header.b) return { ok: false, reason: 'malformed', claimedFrom: header.f };
  return {
    ok: true,
    fragment: {
      envelope: { clusterId: header.c, from: header.f, incarnation: header.i, sequence: header.s, sentAtMs: header.t },
      group: header.g,
      index: header.n,
      count: header.of,
      totalBytes: header.b,
      chunk,
      digest: signature.subarray(0, 12).toString('base64'),
    },
  };
}
