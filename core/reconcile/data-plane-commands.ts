/**
 * Commands the control server sends to an agent's data plane, and the agent's replies:
 * fencing while split, and the three steps of reconciliation (collect changes, apply
 * resolved values, report a digest). Described once as zod schemas; the protocol
 * module's `AgentCommandSchema` includes `DataPlaneCommandSchema`'s members.
 */
import { z } from 'zod';
import { NodeIdSchema } from '../node-id';

/** Most entries one apply command or one collect reply may carry; the sender splits larger sets. */
export const syncBatchEntriesMax = 10_000;
/** Largest value accepted on the wire (bytes of UTF-16 code units, checked as string length). */
export const valueLengthMax = 64 * 1024;
/** Largest key accepted on the wire (characters). */
export const keyLengthMax = 512;
/**
 * Largest value a store accepts from a client, in UTF-8 bytes. Every value up to it is
 * replicated (in fragments when it does not fit one datagram); a write past it is
 * refused with a reason, never accepted and left unreplicated. At most `valueLengthMax`
 * UTF-16 units, since a string's UTF-8 size is never below its length.
 */
export const valueBytesMax = 64 * 1024;

/** An HLC on the wire, in `encodeHlc` form (sortable text). */
export const EncodedHlcSchema = z.string().regex(/^\d{16}-[0-9a-f]{8}-[A-Za-z0-9._-]{1,64}$/, 'an encoded HLC');

/** One versioned entry on the wire. */
export const WireEntrySchema = z.strictObject({
  key: z.string().min(1).max(keyLengthMax),
  /** The value, or null for a tombstone. */
  value: z.string().max(valueLengthMax).nullable(),
  hlc: EncodedHlcSchema,
});

/** One resolved entry on the wire: applied only if the replica's version is not newer than `supersedes`. */
export const WireResolvedEntrySchema = WireEntrySchema.extend({ supersedes: EncodedHlcSchema });

/** Fence the store: `read-only` (minority side, consistency first) or `critical-only` (emergency). */
export const FenceCommandSchema = z.strictObject({
  type: z.literal('fence'),
  partitionId: z.string().min(1).max(100),
  mode: z.enum(['read-only', 'critical-only']),
});

/** Lift the fence this partition put up. */
export const UnfenceCommandSchema = z.strictObject({ type: z.literal('unfence'), partitionId: z.string().min(1).max(100) });

/** Send back every version written after `since` (null: everything), in pages of at most `syncBatchEntriesMax`. */
export const CollectChangesCommandSchema = z.strictObject({
  type: z.literal('collect-changes'),
  runId: z.string().min(1).max(100),
  since: EncodedHlcSchema.nullable(),
});

/** Apply resolved values (one batch). */
export const ApplyResolvedCommandSchema = z.strictObject({
  type: z.literal('apply-resolved'),
  runId: z.string().min(1).max(100),
  entries: z.array(WireResolvedEntrySchema).max(syncBatchEntriesMax),
  /** True on the last batch of this replica's sync set. */
  last: z.boolean(),
});

/** Send back a bucketed digest of the whole key space. */
export const ReportDigestCommandSchema = z.strictObject({
  type: z.literal('report-digest'),
  runId: z.string().min(1).max(100),
  bucketCount: z.number().int().min(1).max(65_536),
});

/** Every data-plane command. */
export const DataPlaneCommandSchema = z.discriminatedUnion('type', [
  FenceCommandSchema,
  UnfenceCommandSchema,
  CollectChangesCommandSchema,
  ApplyResolvedCommandSchema,
  ReportDigestCommandSchema,
]);
export type DataPlaneCommand = z.infer<typeof DataPlaneCommandSchema>;

/** A bucketed digest on the wire (see core/digest.ts). */
export const WireDigestSchema = z.strictObject({
  bucketCount: z.number().int().min(1).max(65_536),
  keyCount: z.number().int().nonnegative(),
  buckets: z.array(z.strictObject({ count: z.number().int().nonnegative(), hash: z.string().regex(/^[0-9a-f]{16}$/) })).max(65_536),
  root: z.string().regex(/^[0-9a-f]{16}$/),
});

/** An agent's reply to a data-plane command. */
export const DataPlaneReplySchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('changes'),
    runId: z.string(),
    nodeId: NodeIdSchema,
    entries: z.array(WireEntrySchema).max(syncBatchEntriesMax),
    /** True on the last page. */
    last: z.boolean(),
  }),
  z.strictObject({ type: z.literal('applied'), runId: z.string(), nodeId: NodeIdSchema, applied: z.number().int().nonnegative(), skipped: z.number().int().nonnegative() }),
  z.strictObject({ type: z.literal('digest'), runId: z.string(), nodeId: NodeIdSchema, digest: WireDigestSchema }),
]);
export type DataPlaneReply = z.infer<typeof DataPlaneReplySchema>;
