/**
 * Signed heartbeats: HMAC-SHA256 with the cluster key over the JSON body, so a
 * corrupted, forged or foreign packet is recognised and counted as evidence
 * instead of being mistaken for a heartbeat.
 *
 * Wire format: 32 bytes of HMAC, then UTF-8 JSON `{ v, c, f, i, s, t }`.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { ClusterIdSchema, NodeIdSchema } from '../core/protocol';

const signatureBytes = 32;

const HeartbeatSchema = z.strictObject({
  /** Format version. */
  v: z.literal(1),
  /** Cluster id. */
  c: ClusterIdSchema,
  /** Sender id. */
  f: NodeIdSchema,
  /** Sender incarnation. */
  i: z.number().int().nonnegative(),
  /** Sequence number within the incarnation. */
  s: z.number().int().nonnegative(),
  /** Sender's clock when sent (ms since epoch). */
  t: z.number().int().nonnegative(),
});

/** A decoded heartbeat. */
export interface Heartbeat {
  clusterId: string;
  from: string;
  incarnation: number;
  sequence: number;
  sentAtMs: number;
}

/** Why a packet was rejected. */
export type DecodeFailure = 'malformed' | 'bad-signature';

export type DecodeResult = { ok: true; heartbeat: Heartbeat } | { ok: false; reason: DecodeFailure; claimedFrom?: string };

const sign = (key: string, body: Buffer) => createHmac('sha256', key).update(body).digest();

/** Encodes and signs a heartbeat. */
export function encodeHeartbeat(key: string, heartbeat: Heartbeat): Uint8Array {
  const body = Buffer.from(
    JSON.stringify({ v: 1, c: heartbeat.clusterId, f: heartbeat.from, i: heartbeat.incarnation, s: heartbeat.sequence, t: heartbeat.sentAtMs }),
  );
  return Buffer.concat([sign(key, body), body]);
}

/** Verifies and decodes a packet. Never throws. */
export function decodeHeartbeat(key: string, packet: Uint8Array): DecodeResult {
  if (packet.length <= signatureBytes) return { ok: false, reason: 'malformed' };
  const bytes = Buffer.from(packet.buffer, packet.byteOffset, packet.byteLength);
  const body = bytes.subarray(signatureBytes);
  let claimedFrom: string | undefined;
  let parsed: z.infer<typeof HeartbeatSchema> | null = null;
  try {
    const json: unknown = JSON.parse(body.toString('utf8'));
    const result = HeartbeatSchema.safeParse(json);
    if (result.success) parsed = result.data;
    else if (json && typeof json === 'object' && typeof (json as { f?: unknown }).f === 'string') claimedFrom = (json as { f: string }).f;
  } catch {
    parsed = null;
  }
  if (!timingSafeEqual(sign(key, body), bytes.subarray(0, signatureBytes))) {
    return { ok: false, reason: 'bad-signature', claimedFrom: parsed?.f ?? claimedFrom };
  }
  if (!parsed) return { ok: false, reason: 'malformed', claimedFrom };
  return { ok: true, heartbeat: { clusterId: parsed.c, from: parsed.f, incarnation: parsed.i, sequence: parsed.s, sentAtMs: parsed.t } };
}
