/**
 * Signed replication datagrams: the writes one agent accepted, sent to a peer over the
 * same cluster socket (and so the same fault injection) as membership traffic. Signed
 * like membership packets, HMAC-SHA256 with the cluster key over the type tag and the
 * body, so a corrupted or forged datagram is refused and counted instead of applied.
 *
 * Wire format: 1 byte tag `replicationPacketType`, 32 bytes of HMAC over (tag + body),
 * then UTF-8 JSON `{ v, c, f, i, s, t, e }`: the membership envelope (version, cluster,
 * sender, incarnation, sequence, send time) and `e`, entries as
 * `[key, value | null, wallMs, logical]`. An entry's HLC node is the sender: an agent
 * replicates only its own writes, so no datagram can speak for a third node.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { hlcLogicalMax } from '../core/hlc';
import { ClusterIdSchema, NodeIdSchema } from '../core/protocol';
import { keyLengthMax, valueLengthMax } from '../core/reconcile/data-plane-commands';
import type { VersionedEntry } from '../core/reconcile/resolver';
import { datagramBytesMax } from './transport/udp-transport';

/** First byte of a replication datagram. Membership owns tags 0x01..0x0f; other subsystems start at 0x10. */
export const replicationPacketType = 0x10;
/** Most entries one datagram carries; bounds decoding work per packet. */
export const replicationEntriesPerDatagramMax = 128;

/** Bytes of the HMAC-SHA256 signature after the type tag. */
export const signatureBytes = 32;
const headerBytes = 1 + signatureBytes;

const EntryTupleSchema = z.tuple([
  z.string().min(1).max(keyLengthMax),
  z.string().max(valueLengthMax).nullable(),
  z.number().int().nonnegative().max(8.64e15),
  z.number().int().nonnegative().max(hlcLogicalMax),
]);

/** The envelope's fields on the wire (version, cluster, sender, incarnation, sequence, send time), shared by whole and fragment datagrams. */
export const envelopeWireFields = {
  v: z.literal(1),
  c: ClusterIdSchema,
  f: NodeIdSchema,
  i: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  s: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  t: z.number().int().nonnegative().max(8.64e15),
};

const BodySchema = z.strictObject({
  ...envelopeWireFields,
  e: z.array(EntryTupleSchema).min(1).max(replicationEntriesPerDatagramMax),
});

/** Who sent a replication datagram and where it sits in the sender's sequence. */
export interface ReplicationEnvelope {
  clusterId: string;
  from: string;
  incarnation: number;
  sequence: number;
  sentAtMs: number;
}

/** A verified replication datagram. `digest` names these exact bytes, to tell duplicates from contradictions. */
export interface DecodedReplication {
  envelope: ReplicationEnvelope;
  entries: VersionedEntry[];
  digest: string;
}

/** Why a datagram was refused: the evidence kinds membership uses for the same failures. */
export type ReplicationDecodeFailure = 'malformed' | 'bad-signature';

export type ReplicationDecodeResult = { ok: true; packet: DecodedReplication } | { ok: false; reason: ReplicationDecodeFailure; claimedFrom?: string };

/** One packed datagram and how many queued entries it took. */
export interface PackedDatagram {
  /** The signed datagram, or null when the first entry alone is too large for one datagram (it goes in fragments). */
  packet: Uint8Array | null;
  /** Entries consumed from the front of the queue (1 for an oversized entry, which the caller fragments). */
  taken: number;
}

/** HMAC-SHA256 with the cluster key over the type tag and the body: what every replication datagram carries after its tag. */
export const signPacket = (key: string, tag: number, body: Uint8Array): Buffer => createHmac('sha256', key).update(Buffer.of(tag)).update(body).digest();

const sign = (key: string, body: Buffer) => signPacket(key, replicationPacketType, body);

const entryText = (entry: VersionedEntry) => JSON.stringify([entry.key, entry.value, entry.hlc.wallMs, entry.hlc.logical]);

/**
 * Packs as many entries from the front of `entries` as fit in one datagram of at most
 * `bytesMax` bytes (and `replicationEntriesPerDatagramMax` entries), and signs it.
 */
export function packReplication(key: string, head: ReplicationEnvelope, entries: readonly VersionedEntry[], bytesMax: number = datagramBytesMax): PackedDatagram {
  const prefix = `{"v":1,"c":${JSON.stringify(head.clusterId)},"f":${JSON.stringify(head.from)},"i":${head.incarnation},"s":${head.sequence},"t":${head.sentAtMs},"e":[`;
  const suffix = ']}';
  let budget = bytesMax - headerBytes - Buffer.byteLength(prefix) - Buffer.byteLength(suffix);
  const texts: string[] = [];
  for (const entry of entries.slice(0, replicationEntriesPerDatagramMax)) {
    const text = entryText(entry);
    const cost = Buffer.byteLength(text) + (texts.length > 0 ? 1 : 0);
    if (cost > budget) break;
    budget -= cost;
    texts.push(text);
  }
  if (texts.length === 0) return { packet: null, taken: entries.length > 0 ? 1 : 0 };
  const body = Buffer.from(`${prefix}${texts.join(',')}${suffix}`);
  return { packet: Buffer.concat([Buffer.of(replicationPacketType), sign(key, body), body]), taken: texts.length };
}

/**
 * Parses a datagram's JSON body with `schema`; when it does not fit, still reads the
 * sender it claims (`f`), so that the failure can be counted against that name.
 */
export function parseClaimingSender<T>(schema: z.ZodType<T>, text: string): { parsed: T | null; claimedFrom?: string } {
  try {
    const json: unknown = JSON.parse(text);
    const result = schema.safeParse(json);
    if (result.success) return { parsed: result.data };
    const claimed = json && typeof json === 'object' ? (json as { f?: unknown }).f : undefined;
    return { parsed: null, claimedFrom: typeof claimed === 'string' ? claimed : undefined };
  } catch {
    return { parsed: null };
  }
}

/** Verifies and decodes a replication datagram. Never throws. */
export function decodeReplication(key: string, packet: Uint8Array): ReplicationDecodeResult {
  if (packet.length <= headerBytes || packet[0] !== replicationPacketType) return { ok: false, reason: 'malformed' };
  const bytes = Buffer.from(packet.buffer, packet.byteOffset, packet.byteLength);
  const signature = bytes.subarray(1, headerBytes);
  const body = bytes.subarray(headerBytes);
  const { parsed, claimedFrom } = parseClaimingSender(BodySchema, body.toString('utf8'));
  if (!timingSafeEqual(sign(key, body), signature)) return { ok: false, reason: 'bad-signature', claimedFrom: parsed?.f ?? claimedFrom };
  if (!parsed) return { ok: false, reason: 'malformed', claimedFrom };
  const from = parsed.f;
  return {
    ok: true,
    packet: {
      envelope: { clusterId: parsed.c, from, incarnation: parsed.i, sequence: parsed.s, sentAtMs: parsed.t },
      entries: parsed.e.map(([entryKey, value, wallMs, logical]) => ({ key: entryKey, value, hlc: { wallMs, logical, nodeId: from } })),
      digest: signature.subarray(0, 12).toString('base64'),
    },
  };
}
