/**
 * The wire contract between agents, the control server and dashboards.
 * Every message that crosses a process boundary is described here once, as a zod
 * schema, and its TypeScript type is inferred from that schema, so the validator
 * and the type can never disagree.
 */
import { z } from 'zod';
import { NodeIdSchema } from './node-id';
import { safeText } from './safe-text';
import { DataPlaneCommandSchema, FenceCommandSchema } from './reconcile/data-plane-commands';

/** Maximum number of peers one report may describe; bounds payload size. */
export const reportPeersMax = 1024;
/** Maximum number of evidence items one report may carry. */
export const reportEvidenceMax = 256;
/** Maximum size of one report as JSON, in bytes of UTF-8 (`auth` included): the server refuses a larger one, the agent never writes one (see report-size.ts). */
export const reportBytesMax = 256 * 1024;

// Node ids live in their own module so that schemas included below can use them without an import cycle.
export { NodeIdSchema, type NodeId, isNodeId } from './node-id';

/** A cluster identity, same alphabet as node ids. */
export const ClusterIdSchema = NodeIdSchema;

/** Latest instant stored or queried (ms since epoch): the end of year 9999, past which Prisma refuses a date (a report's sentAtMs beyond it would fail its whole write batch). */
export const storableTimestampMsMax = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

const timestampMs = z.number().int().nonnegative().max(storableTimestampMsMax);

/** What one agent believes about one peer at the moment it writes a report. */
export const PeerObservationSchema = z.strictObject({
  /** The peer this observation is about. */
  peerId: NodeIdSchema,
  /** Whether the observer's detector currently considers the peer reachable. */
  reachable: z.boolean(),
  /** Wall-clock time (ms since epoch) of the last valid heartbeat heard from the peer, or null if never. */
  lastHeardAtMs: timestampMs.nullable(),
  /** Wall-clock time (ms) at which `reachable` last changed value (or the agent started). */
  sinceMs: timestampMs,
  /** Suspicion level from the detector: phi for phi-accrual, missed intervals for the fixed rule. */
  suspicion: z.number().nonnegative().max(1e6),
  /**
   * The observer's last indirect-probe conclusion about the peer (optional: fixed and phi
   * detectors do not probe): `link-cut` means others still reach it, `peer-down` that nobody
   * asked did, `inconclusive` that nobody answered (the observer may be the one cut off),
   * `alive` that the peer answered after all.
   */
  probe: z.enum(['alive', 'link-cut', 'peer-down', 'inconclusive']).optional(),
  /**
   * Measured extra one-way delay (ms) of the peer's datagrams above the fastest seen on
   * the link (so the clocks' offset cancels out), smoothed; absent when not measured.
   * Late is not lost: a slow link shows here, not as a partition.
   */
  delayMs: z.number().nonnegative().max(600_000).optional(),
  /**
   * Median transit time (ms) of the peer's recent heartbeats, arrival minus their send
   * time: includes any clock offset between the hosts; null when none arrived lately
   * (optional: older agents omit it). See core/detectors/link-quality.ts.
   */
  transitMs: z.number().nonnegative().max(3_600_000).nullable().optional(),
  /** Share (0–1) of the peer's heartbeats expected lately that did not arrive; null before enough was watched (optional). */
  lossRatio: z.number().min(0).max(1).nullable().optional(),
});
export type PeerObservation = z.infer<typeof PeerObservationSchema>;

/** What was wrong with the datagrams an evidence item counts. */
export const EvidenceKindSchema = z.enum(['bad-signature', 'malformed', 'replay', 'forged-sender', 'contradiction']);
export type EvidenceKind = z.infer<typeof EvidenceKindSchema>;

/**
 * The kinds only a holder of the cluster key can cause: two validly signed, different
 * datagrams under one (incarnation, sequence) of the node they name. Only these may
 * accuse that node. Every other kind proves nothing about the node a datagram names
 * (anyone can write a name next to a bad signature, and anyone on the path can replay
 * or re-send a captured datagram from another address): it says only that the network,
 * at the address it came from, carries traffic that fails integrity.
 */
export const accusingEvidenceKinds = ['contradiction'] as const satisfies readonly EvidenceKind[];
export type AccusingEvidenceKind = (typeof accusingEvidenceKinds)[number];
/** The kinds that accuse nobody: bad signatures, malformed packets, replays, datagrams re-sent from another peer's address. */
export type UntrustedEvidenceKind = Exclude<EvidenceKind, AccusingEvidenceKind>;

/** Whether evidence of `kind` may accuse the node it names. The server decides this from the kind alone, whatever an agent claims. */
export const isAccusingEvidenceKind = (kind: EvidenceKind): kind is AccusingEvidenceKind =>
  (accusingEvidenceKinds as readonly EvidenceKind[]).includes(kind);

/** Where untrusted datagrams came from: "host:port" as the receiving socket saw it, or `*` for sources past the agent's bound, summed. */
export const EvidenceSourceSchema = z
  .string()
  .min(1)
  .max(300)
  .regex(/^(\*|[A-Za-z0-9._:%[\]-]+)$/, '"host:port" or *');

/**
 * Bad datagrams an agent received since its previous report, per kind and origin.
 * A `contradiction` names the node that signed two different datagrams under one
 * number. The other kinds are counted against where the datagrams came from
 * (`source`, and `linkPeerId` when that address is a configured peer's): a link or
 * an address with failing integrity, never the node they name.
 */
export const EvidenceSchema = z
  .strictObject({
    /**
     * For a `contradiction`, the node accused. For the other kinds, the node the
     * datagrams claimed to come from, shown to operators and never accused (older
     * agents put the address's owner or the claimed sender here; it is read the same way).
     */
    peerId: NodeIdSchema.optional(),
    /** The kind of misbehaviour. */
    kind: EvidenceKindSchema,
    /** Where the datagrams came from (optional: older agents and contradictions may omit it). */
    source: EvidenceSourceSchema.optional(),
    /** The configured peer whose endpoint `source` is: the datagrams arrived on the link from that peer to the observer. */
    linkPeerId: NodeIdSchema.optional(),
    /** How many such packets were seen since the previous report. */
    count: z.number().int().positive().max(1e9),
    /** Time of the latest such packet (ms since epoch). */
    lastAtMs: timestampMs,
  })
  .refine((item) => !isAccusingEvidenceKind(item.kind) || item.peerId !== undefined, {
    message: 'a contradiction names the node that signed both datagrams',
    path: ['peerId'],
  });
export type Evidence = z.infer<typeof EvidenceSchema>;

/** Longest accepted distance between a report's signing time and the server's clock (ms). */
export const reportSignatureWindowMs = 60_000;

/**
 * Authentication of one transmission of a report: HMAC-SHA256, keyed from the
 * agent's own credential, over `signedAtMs`, `nonce` and the canonical JSON of the
 * report without `auth`. Signed at each send (not when the report was written), so
 * a backlog replayed after an outage is fresh, while a captured message replayed
 * by someone else repeats its nonce or falls outside the window.
 */
export const ReportAuthSchema = z.strictObject({
  /** Agent's clock, corrected by the server time it learnt at hello, when this copy was signed (ms). */
  signedAtMs: timestampMs,
  /** Random value unique to this transmission (16 bytes, base64url). */
  nonce: z.string().regex(/^[A-Za-z0-9_-]{22}$/, '22 base64url characters'),
  /** HMAC-SHA256 as 64 lowercase hex digits. */
  signature: z.string().regex(/^[0-9a-f]{64}$/, '64 lowercase hex digits'),
});
export type ReportAuth = z.infer<typeof ReportAuthSchema>;

/** Largest cumulative counter a report carries; past it a counter stays at the cap. */
export const reportCounterMax = Number.MAX_SAFE_INTEGER;

/** The state of an agent's data plane (the reference store, or an adapter) when it wrote a report. */
export const DataPlaneStatusSchema = z.strictObject({
  /** Keys held, tombstones included. */
  keyCount: z.number().int().nonnegative().max(reportCounterMax),
  /** Client writes accepted since the agent started (cumulative). */
  writesAccepted: z.number().int().nonnegative().max(reportCounterMax),
  /** Client writes refused since the agent started, fences included (cumulative). */
  writesRefused: z.number().int().nonnegative().max(reportCounterMax),
  /** The fence in force, or null; with several, the strictest (read-only over critical-only). */
  fence: z.strictObject({ partitionId: FenceCommandSchema.shape.partitionId, mode: FenceCommandSchema.shape.mode }).nullable(),
  /** Root of the store's bucketed digest (core/digest.ts): equal roots mean equal data. */
  digestRoot: z.string().regex(/^[0-9a-f]{16}$/, '16 lowercase hex digits'),
  /** The real store behind the data plane, when there is one: its kind, role, endpoint (no credentials), replication lag and last error. */
  store: z.strictObject({
    kind: z.enum(['reference', 'redis', 'postgres']),
    role: z.enum(['primary', 'replica', 'unknown']),
    endpoint: safeText().max(200),
    lagBytes: z.number().int().nonnegative().max(reportCounterMax).nullable(),
    error: safeText().max(300).nullable(),
  }).optional(),
});
export type DataPlaneStatus = z.infer<typeof DataPlaneStatusSchema>;

/**
 * An observer's judgement of its own health (Lifeguard): while `discounted`, its
 * "unreachable" claims are probably its own fault (it stalled, or lost most peers at once).
 */
export const ObserverHealthSchema = z.strictObject({
  /** Local health score, 0 (healthy) up to the profile's maximum (8 by default). */
  score: z.number().int().nonnegative().max(64),
  /** Whether the observer's verdicts should be discounted now (score above zero). */
  discounted: z.boolean(),
  /** Why the score last rose, or null when it never did. */
  lastReason: z.enum(['missed-deadline', 'mass-loss', 'probe-unanswered']).nullable(),
  /** Own deadlines (periodic checks) missed since the agent started. */
  missedDeadlines: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
});
export type ObserverHealth = z.infer<typeof ObserverHealthSchema>;

/** Longest delay (and jitter) one rule may add to a link (ms). */
export const faultDelayMsMax = 60_000;

/**
 * A fault the server asks an agent to inject on its links to one peer: in its own
 * transport, or, when the agent is allowed and able to (`--network-faults kernel`),
 * in the node's real traffic to and from the peer (nftables, tc netem).
 */
export const FaultRuleSchema = z.strictObject({
  /** Peer the rule applies to. */
  peerId: NodeIdSchema,
  /** Drop datagrams this agent sends to the peer. */
  dropOutbound: z.boolean(),
  /** Drop datagrams this agent receives from the peer. */
  dropInbound: z.boolean(),
  /** Fraction (0..1) of the datagrams this agent sends to the peer that are lost at random: a flaky link. */
  lossRatio: z.number().min(0).max(1).optional(),
  /** Fraction (0..1) of the datagrams this agent sends to the peer that get a flipped byte: a corrupting link. */
  corruptRatio: z.number().min(0).max(1).optional(),
  /** Added delay (ms) on what this agent sends to the peer: a slow link (netem `delay`, or the transport). */
  delayMs: z.number().int().min(0).max(faultDelayMsMax).optional(),
  /** Random variation (ms, ±) around `delayMs` (netem jitter); ignored without a delay. */
  jitterMs: z.number().int().min(0).max(faultDelayMsMax).optional(),
});
export type FaultRule = z.infer<typeof FaultRuleSchema>;

/** Whether a rule still does anything (rules that do nothing are removed). */
export const faultRuleActive = (rule: FaultRule): boolean =>
  rule.dropInbound || rule.dropOutbound || (rule.lossRatio ?? 0) > 0 || (rule.corruptRatio ?? 0) > 0 || (rule.delayMs ?? 0) > 0;

/** Shortest and longest deadline a `set-faults` command may give its rules (ms). */
export const faultTtlMsMin = 1000;
export const faultTtlMsMax = 24 * 3_600_000;

/** A label the server puts on the rules of one experiment (or console action), shown in the agent's status and written into its kernel rules. */
export const FaultTagSchema = z.string().regex(/^[A-Za-z0-9._-]{1,48}$/, '1 to 48 of A-Z a-z 0-9 . _ -');

/**
 * `set-faults`: the agent's whole desired rule set (it replaces the previous one).
 * `ttlMs` is a lease: the agent removes every rule by itself once `ttlMs` has passed
 * since it received the command, unless a newer command came first (the server
 * renews leases while a fault should hold). Without it the agent applies its own
 * default (`--fault-ttl-ms`).
 */
export const SetFaultsCommandSchema = z.strictObject({
  type: z.literal('set-faults'),
  rules: z.array(FaultRuleSchema).max(reportPeersMax),
  ttlMs: z.number().int().min(faultTtlMsMin).max(faultTtlMsMax).optional(),
  tag: FaultTagSchema.optional(),
});
export type SetFaultsCommand = z.infer<typeof SetFaultsCommandSchema>;

/**
 * Where an agent's faults act, as it reports them: `kernel` (nftables in the node's
 * network namespace, and tc netem where the kernel has it) or `transport` (its own
 * UDP transport only). Delay goes through netem or, without it, through the transport.
 */
export const FaultInjectionStatusSchema = z.strictObject({
  /** Where drops, loss and corruption act. */
  layer: z.enum(['kernel', 'transport']),
  /** Where delay and jitter act. */
  delayLayer: z.enum(['kernel', 'transport']),
  /** Why this layer (what was asked for, what the probe found). */
  reason: safeText().max(300),
  /** Rules held now. */
  rules: z.number().int().nonnegative().max(reportPeersMax),
  /** When the rules held now expire (agent clock, ms since epoch), or null when none are held. */
  expiresAtMs: timestampMs.nullable(),
  /** The tag of the command that set them, or null. */
  tag: FaultTagSchema.nullable(),
  /** The last time the agent healed by itself, and why, or null. */
  lastSelfHeal: z.strictObject({ atMs: timestampMs, reason: z.enum(['deadline', 'server-lost', 'startup-cleanup']) }).nullable(),
});
export type FaultInjectionStatus = z.infer<typeof FaultInjectionStatusSchema>;

/** One report from an agent to the control server. */
export const AgentReportSchema = z.strictObject({
  /** The cluster the agent belongs to. */
  clusterId: ClusterIdSchema,
  /** The reporting agent. */
  agentId: NodeIdSchema,
  /** Increases every time the agent process restarts; orders reports across restarts. */
  incarnation: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  /** Increases by one per report within an incarnation; the server dedups on (agent, incarnation, sequence). */
  sequence: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  /** Agent's wall-clock time when the report was written (ms since epoch). */
  sentAtMs: timestampMs,
  /** Heartbeat interval the agent runs with, so the server can judge staleness. */
  heartbeatIntervalMs: z.number().int().min(10).max(600_000),
  /** The agent's view of each of its peers. */
  observations: z.array(PeerObservationSchema).max(reportPeersMax),
  /** Bad datagrams received since the previous report (see EvidenceSchema: only contradictions accuse a node). */
  evidence: z.array(EvidenceSchema).max(reportEvidenceMax).default([]),
  /** The observer's own health when it wrote the report (optional: older agents omit it). */
  health: ObserverHealthSchema.optional(),
  /** Reports already waiting in the agent's outbox when this one was written (optional: older agents omit it). */
  outboxDepth: z.number().int().nonnegative().max(1e9).optional(),
  /** Reports the agent's outbox has dropped because it was full, since it was created (optional). */
  outboxDropped: z.number().int().nonnegative().max(2_147_483_647).optional(),
  /** Proof of origin and freshness, added at each transmission (see ReportAuthSchema); not part of what is signed. */
  auth: ReportAuthSchema.optional(),
  /** The agent's data plane at report time (optional: agents without a store omit it). */
  dataPlane: DataPlaneStatusSchema.optional(),
  /** Where the agent's injected faults act and what it holds now (optional: older agents omit it). */
  faultInjection: FaultInjectionStatusSchema.optional(),
});
export type AgentReport = z.infer<typeof AgentReportSchema>;
export type AgentReportInput = z.input<typeof AgentReportSchema>;

/** The hello an agent sends once connected, describing itself. */
export const AgentHelloSchema = z.strictObject({
  clusterId: ClusterIdSchema,
  agentId: NodeIdSchema,
  /** Heartbeat address as "host:port", shown to operators. */
  address: safeText().min(3).max(300),
  incarnation: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  /** Peer ids the agent was configured with. */
  peers: z.array(NodeIdSchema).max(reportPeersMax),
});
export type AgentHello = z.infer<typeof AgentHelloSchema>;

/** Commands the server sends to agents. */
export const AgentCommandSchema = z.discriminatedUnion('type', [
  SetFaultsCommandSchema,
  // The abort: every rule removed at once, from the transport and the kernel.
  z.strictObject({ type: z.literal('heal-all') }),
  // Fencing and reconciliation steps, carried out by the agent's data-plane adapter.
  ...DataPlaneCommandSchema.options,
]);
export type AgentCommand = z.infer<typeof AgentCommandSchema>;

/** Error codes shared by HTTP, Socket.IO replies and logs. */
export type ErrorCode =
  | 'invalid_input'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'payload_too_large'
  | 'rate_limited'
  | 'unavailable'
  | 'internal';

/** The reply shape of every command over Socket.IO. */
export type Reply<T> = { ok: true; data: T } | { ok: false; code: ErrorCode; message: string };

/** Formats a zod error so that it names each offending field. */
export function describeZodError(error: z.ZodError): string {
  return error.issues
    .slice(0, 10)
    .map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(root)'}: ${issue.message}`)
    .join('; ');
}
