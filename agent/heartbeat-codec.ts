/**
 * Signed cluster datagrams: heartbeats and the indirect-probe exchange (ping, ack,
 * ping request, probe answer). HMAC-SHA256 with the cluster key over the type tag
 * and the JSON body, so a corrupted, forged or foreign packet is recognised and
 * counted as evidence instead of being mistaken for a live peer.
 *
 * Wire format: 1 byte of packet type (see `packetTypes`), 32 bytes of HMAC over
 * (type byte + body), then the UTF-8 JSON body. Every membership body carries the
 * envelope `{ v, c, f, i, s, t }` (version, cluster, sender, incarnation, sequence,
 * send time); each type adds its own fields. Other subsystems sharing the socket
 * (replication) add their own tags to `packetTypes` and route on `packetTypeOf`.
 *
 * The zod schemas below define the body; every datagram is checked by `bodyOf`, a
 * hand-written test of the same rules (proven equal to the schemas by a property test),
 * because this runs for every datagram and zod's object walk cost the agent more than
 * the HMAC did. The signature is checked first: a body is parsed only once it verified,
 * or, when it did not, only to read the sender it claims.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { ClusterIdSchema, NodeIdSchema, isNodeId } from '../core/protocol';

/**
 * The first byte of every datagram on the cluster socket: what kind of packet follows.
 * Membership owns 0x01..0x0f; other subsystems take tags from 0x10 up.
 */
export const packetTypes = {
  /** Periodic liveness heartbeat. */
  heartbeat: 0x01,
  /** Probe ping: "answer me with an ack" (direct, or on behalf of another member). */
  ping: 0x02,
  /** Answer to a ping. */
  ack: 0x03,
  /** "Please ping this target for me and tell me what happened" (SWIM ping-req). */
  pingRequest: 0x04,
  /** A prober's answer to a ping request: it reached the target (ack) or not (nack). */
  probeAnswer: 0x05,
} as const;

/** Tag byte values owned by membership. */
const membershipTagMax = 0x0f;

const signatureBytes = 32;
const headerBytes = 1 + signatureBytes;

/** Most digits of a probe id; ids count up per agent incarnation. */
const probeIdSchema = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);

const envelope = {
  /** Format version. */
  v: z.literal(1),
  /** Cluster id. */
  c: ClusterIdSchema,
  /** Sender id. */
  f: NodeIdSchema,
  /** Sender incarnation. */
  i: z.number().int().nonnegative(),
  /** Sequence number within the incarnation (one counter for every datagram the sender signs). */
  s: z.number().int().nonnegative(),
  /** Sender's clock when sent (ms since epoch). */
  t: z.number().int().nonnegative(),
};

/** The zod definition of each membership body, by tag: the format's reference, which `bodyOf` must agree with. */
export const bodySchemas = {
  [packetTypes.heartbeat]: z.strictObject(envelope),
  /** `p` probe id, `r` the member the ping is relayed for (null: the sender's own probe). */
  [packetTypes.ping]: z.strictObject({ ...envelope, p: probeIdSchema, r: NodeIdSchema.nullable() }),
  [packetTypes.ack]: z.strictObject({ ...envelope, p: probeIdSchema, r: NodeIdSchema.nullable() }),
  /** `p` probe id, `g` the target to ping. */
  [packetTypes.pingRequest]: z.strictObject({ ...envelope, p: probeIdSchema, g: NodeIdSchema }),
  /** `g` the target, `o` whether the prober reached it. */
  [packetTypes.probeAnswer]: z.strictObject({ ...envelope, g: NodeIdSchema, o: z.enum(['ack', 'nack']) }),
} as const;

/** Who sent a datagram and where it sits in the sender's sequence. */
export interface Envelope {
  clusterId: string;
  from: string;
  incarnation: number;
  sequence: number;
  sentAtMs: number;
}

/** A decoded heartbeat (the envelope alone). */
export type Heartbeat = Envelope;

/** What a membership datagram says beyond its envelope. */
export type MembershipMessage =
  | { type: 'heartbeat' }
  | { type: 'ping'; probeId: number; relayFor: string | null }
  | { type: 'ack'; probeId: number; relayFor: string | null }
  | { type: 'ping-request'; probeId: number; target: string }
  | { type: 'probe-answer'; target: string; outcome: 'ack' | 'nack' };

/** Why a packet was rejected. */
export type DecodeFailure = 'malformed' | 'bad-signature';

/** A verified membership datagram. `digest` names these exact bytes (a prefix of the HMAC), to tell duplicates from contradictions. */
export interface DecodedPacket {
  envelope: Envelope;
  message: MembershipMessage;
  digest: string;
}

export type PacketDecodeResult = { ok: true; packet: DecodedPacket } | { ok: false; reason: DecodeFailure; claimedFrom?: string };

export type DecodeResult = { ok: true; heartbeat: Heartbeat } | { ok: false; reason: DecodeFailure; claimedFrom?: string };

const sign = (key: string, tag: number, body: Buffer) => createHmac('sha256', key).update(Buffer.of(tag)).update(body).digest();

/** The packet type tag of a datagram, or null when it is empty. */
export function packetTypeOf(packet: Uint8Array): number | null {
  return packet.length > 0 ? packet[0]! : null;
}

/** Whether a datagram's tag belongs to membership (heartbeats and probes), including unknown low tags, which membership rejects as malformed. */
export function isMembershipPacket(packet: Uint8Array): boolean {
  const tag = packetTypeOf(packet);
  return tag === null || tag <= membershipTagMax;
}

function tagOf(message: MembershipMessage): number {
  switch (message.type) {
    case 'heartbeat':
      return packetTypes.heartbeat;
    case 'ping':
      return packetTypes.ping;
    case 'ack':
      return packetTypes.ack;
    case 'ping-request':
      return packetTypes.pingRequest;
    case 'probe-answer':
      return packetTypes.probeAnswer;
  }
}

function bodyFields(message: MembershipMessage): Record<string, unknown> {
  switch (message.type) {
    case 'heartbeat':
      return {};
    case 'ping':
    case 'ack':
      return { p: message.probeId, r: message.relayFor };
    case 'ping-request':
      return { p: message.probeId, g: message.target };
    case 'probe-answer':
      return { g: message.target, o: message.outcome };
  }
}

/** Encodes and signs one membership datagram. */
export function encodePacket(key: string, head: Envelope, message: MembershipMessage): Uint8Array {
  const tag = tagOf(message);
  const body = Buffer.from(
    JSON.stringify({ v: 1, c: head.clusterId, f: head.from, i: head.incarnation, s: head.sequence, t: head.sentAtMs, ...bodyFields(message) }),
  );
  return Buffer.concat([Buffer.of(tag), sign(key, tag, body), body]);
}

type AnyBody = z.infer<(typeof bodySchemas)[keyof typeof bodySchemas]>;

function messageOf(tag: number, body: AnyBody): MembershipMessage {
  const fields = body as Record<string, unknown>;
  if (tag === packetTypes.ping) return { type: 'ping', probeId: fields.p as number, relayFor: fields.r as string | null };
  if (tag === packetTypes.ack) return { type: 'ack', probeId: fields.p as number, relayFor: fields.r as string | null };
  if (tag === packetTypes.pingRequest) return { type: 'ping-request', probeId: fields.p as number, target: fields.g as string };
  if (tag === packetTypes.probeAnswer) return { type: 'probe-answer', target: fields.g as string, outcome: fields.o as 'ack' | 'nack' };
  return { type: 'heartbeat' };
}

const isCount = (value: unknown): value is number => typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;

/** Fields each tag's body has beyond the envelope, each with its test; a body with any other field is malformed (strict). */
const bodyFieldTests: Record<number, Record<string, (value: unknown) => boolean>> = {
  [packetTypes.heartbeat]: {},
  [packetTypes.ping]: { p: isCount, r: (value) => value === null || isNodeId(value) },
  [packetTypes.ack]: { p: isCount, r: (value) => value === null || isNodeId(value) },
  [packetTypes.pingRequest]: { p: isCount, g: isNodeId },
  [packetTypes.probeAnswer]: { g: isNodeId, o: (value) => value === 'ack' || value === 'nack' },
};
const envelopeFieldCount = Object.keys(envelope).length;

/** The body of a membership datagram of type `tag` if it is one (the same rules as `bodySchemas`), else null. */
export function bodyOf(tag: number, json: unknown): AnyBody | null {
  const extra = bodyFieldTests[tag];
  if (!extra || typeof json !== 'object' || json === null || Array.isArray(json)) return null;
  const body = json as Record<string, unknown>;
  if (body.v !== 1 || !isNodeId(body.c) || !isNodeId(body.f) || !isCount(body.i) || !isCount(body.s) || !isCount(body.t)) return null;
  let fields = envelopeFieldCount;
  for (const name in extra) {
    if (!Object.hasOwn(body, name) || !extra[name]!(body[name])) return null;
    fields += 1;
  }
  return Object.keys(body).length === fields ? (body as AnyBody) : null;
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}

/** The sender a body names, if it names one (shown to operators as the node it named; never blamed). */
function claimedSender(json: unknown): string | undefined {
  const claimed = json && typeof json === 'object' ? (json as { f?: unknown }).f : undefined;
  return typeof claimed === 'string' ? claimed : undefined;
}

/** Verifies and decodes a membership datagram. Never throws. */
export function decodePacket(key: string, packet: Uint8Array): PacketDecodeResult {
  if (packet.length <= headerBytes) return { ok: false, reason: 'malformed' };
  const bytes = Buffer.from(packet.buffer, packet.byteOffset, packet.byteLength);
  const tag = bytes[0]!;
  const signature = bytes.subarray(1, headerBytes);
  const body = bytes.subarray(headerBytes);
  if (!timingSafeEqual(sign(key, tag, body), signature)) return { ok: false, reason: 'bad-signature', claimedFrom: claimedSender(parseJson(body)) };
  const json = parseJson(body);
  const parsed = bodyOf(tag, json);
  if (!parsed) return { ok: false, reason: 'malformed', claimedFrom: claimedSender(json) };
  return {
    ok: true,
    packet: {
      envelope: { clusterId: parsed.c, from: parsed.f, incarnation: parsed.i, sequence: parsed.s, sentAtMs: parsed.t },
      message: messageOf(tag, parsed),
      digest: signature.subarray(0, 12).toString('base64'),
    },
  };
}

/** Encodes and signs a heartbeat. */
export function encodeHeartbeat(key: string, heartbeat: Heartbeat): Uint8Array {
  return encodePacket(key, heartbeat, { type: 'heartbeat' });
}

/** Verifies and decodes a heartbeat; any other packet type is malformed here. Never throws. */
export function decodeHeartbeat(key: string, packet: Uint8Array): DecodeResult {
  const decoded = decodePacket(key, packet);
  if (!decoded.ok) return decoded;
  if (decoded.packet.message.type !== 'heartbeat') return { ok: false, reason: 'malformed', claimedFrom: decoded.packet.envelope.from };
  return { ok: true, heartbeat: decoded.packet.envelope };
}
