/**
 * What the JSON API answers, as the server builds it and the console reads it:
 * one definition of each row and page, shared through `http-contract.ts` (the
 * realtime views the API also serves, such as `PartitionSummary` and `AlertView`,
 * live in `realtime-contract.ts`).
 */
import type { Role } from './permissions';
import type { FaultRule, NodeId } from './protocol';
import type { PlanChanges } from './reconcile/plan-reconciliation';
import type { AlertView, PartitionSummary } from './realtime-contract';

/** The answer of GET /api/health. */
export interface HealthReport {
  status: 'ok' | 'degraded';
  database: { ok: boolean; embedded: boolean; latencyMs: number | null; error?: string };
  agentsConnected: number;
  clusters: number;
  uptimeS: number;
  reports: { accepted: number; refused: number; queued: number };
}

/** The answer of GET /api/ready. */
export interface Readiness {
  ready: boolean;
  /** Why not, one entry per failed check. */
  reasons: string[];
  database: { ok: boolean; latencyMs: number | null };
  /**
   * Agents the server expects (seen within the known window, before or since the
   * start), connected, missing (away past the reconnect grace), of those missing
   * since the start (the ones that make it unready), and connected but stale.
   */
  agents: { known: number; connected: number; missing: number; missingSinceStart: number; stale: number };
  /**
   * Several instances on one database: this instance, whether it leads, the
   * leader's id and lease epoch (grows by one at every takeover), and the
   * instances heard from recently (server/leadership.ts).
   */
  leadership?: {
    instanceId: string;
    leader: boolean;
    leaderId: string | null;
    epoch: number | null;
    leaderSinceMs: number | null;
    instances: { id: string; url: string; lastSeenAtMs: number }[];
  };
}

/** One cluster as listed by the API. */
export interface ClusterListItem {
  id: string;
  name: string;
  /** True for the demo cluster started by the server itself. */
  demo: boolean;
  /** Members of the cluster. */
  nodes: number;
}

/** The fault rules injected in one cluster, per node; nodes without rules are left out. */
export interface FaultsView {
  clusterId: string;
  faults: { node: NodeId; rules: FaultRule[] }[];
}

/** A scenario catalog entry as the console lists it. */
export interface ScenarioView {
  name: string;
  description: string;
  /** Nodes the scenario was written for. */
  nodes: number;
  durationMs: number;
  /** Kinds of its faults, in file order, each once. */
  faultKinds: string[];
}

/** A scenario run as the API answers it. */
export interface ScenarioRunView {
  clusterId: string;
  scenario: string;
  startedAtMs: number;
  endsAtMs: number;
  /** Scenario node name → cluster node id. */
  mapping: Record<string, string>;
  /** Times (ms after the start) at which the network changes; the last heals. */
  stepsAtMs: number[];
  notes: string[];
}

/** The signed-in principal as the console knows it (GET /api/auth/session). */
export interface SessionView {
  user: { name: string; role: Role; kind: 'session' | 'token' };
  /** Echoed in `x-csrf-token` on state-changing requests; null for bearer tokens. */
  csrfToken: string | null;
  /** When the session ends (ms since epoch), or null for a token that does not expire. */
  expiresAtMs: number | null;
}

/** The answer of a successful sign-in (the session id travels in its cookie only). */
export interface SignedIn {
  user: { name: string; role: Role };
  csrfToken: string;
  expiresAtMs: number;
}

/** A user as shown to admins. */
export interface UserView {
  id: string;
  name: string;
  role: Role;
  createdAtMs: number;
  disabledAtMs: number | null;
}

/** An API token as shown to admins (never its secret). */
export interface ApiTokenView {
  id: string;
  name: string;
  role: Role;
  createdBy: string;
  createdAtMs: number;
  lastUsedAtMs: number | null;
  revokedAtMs: number | null;
}

/** A token just created: `token` is shown this once and never stored. */
export interface CreatedApiToken {
  id: string;
  token: string;
}

/** One audit log entry as admins read it. */
export interface AuditView {
  /** The entry's id (a bigint, as decimal text): the `before` cursor of the next page. */
  id: string;
  atMs: number;
  actor: string;
  action: string;
  target: string | null;
  origin: string | null;
  data: unknown;
}

/** Alerts still open, by status. */
export interface AlertCounts {
  firing: number;
  acknowledged: number;
}

/** One row of the partition history: the summary and how long it lasted (so far). */
export type HistoryRow = PartitionSummary & { durationMs: number };

/** One page of the partition history and the total matching the filters. */
export interface HistoryPage {
  items: HistoryRow[];
  total: number;
  page: number;
  pageSize: number;
}

/** One entry of a partition's timeline. */
export interface TimelineEvent {
  /** The entry's id (a bigint, as decimal text). */
  id: string;
  atMs: number;
  kind: string;
  /** The lifecycle state entered, when the entry is a transition. */
  state: string | null;
  cause: string;
  actor: string;
  data: unknown;
}

/** One partition with its timeline (GET /api/partitions/:id). */
export interface PartitionWithTimeline {
  partition: PartitionSummary;
  /** Writes per side, conflicting keys and reconciliation progress (null before the first sample). */
  ledger: unknown;
  events: TimelineEvent[];
}

/** A reconciliation report as listed with its partition. */
export interface ReconciliationReportView {
  id: string;
  /** succeeded | failed | escalated */
  status: string;
  keysCompared: number;
  conflicts: number;
  bytesMoved: number;
  durationMs: number;
  attempts: number;
  createdAtMs: number;
  /** Resolved values and overwritten writes (bounded sample). */
  detail: unknown;
  /** What this run recovered: the real keys (rows) changed, per table and per node; null for reports older than this field. */
  recovered: PlanChanges | null;
}

/** A recovery run as listed with its partition. */
export interface PartitionRecoveryEntry {
  id: string;
  strategy: string;
  status: string;
  createdAtMs: number;
  startedAtMs: number | null;
  endedAtMs: number | null;
  decidedBy: string | null;
  reason: string | null;
}

/** One partition's full record (GET /api/history/:id): timeline, charts, reports, runs and alerts. */
export interface PartitionRecord {
  partition: PartitionSummary;
  durationMs: number;
  events: TimelineEvent[];
  /** Lifecycle states the partition went through, from `Normal`, without repeats. */
  path: string[];
  /** Divergence and other samples over time. */
  samples: { name: string; atMs: number; value: number }[];
  /** Mean fraction of peers each agent heard, per time bucket. */
  reachability: { atMs: number; reachableRatio: number; agents: number }[];
  reports: ReconciliationReportView[];
  recoveries: PartitionRecoveryEntry[];
  alerts: AlertView[];
}

/** An agent credential as listed to admins (never the token or its hash). */
export interface CredentialView {
  id: string;
  clusterId: string;
  agentId: string;
  createdBy: string;
  createdAtMs: number;
  revokedAtMs: number | null;
}

/** A credential just issued: `token` is shown this once and never stored. */
export type IssuedCredential = CredentialView & { token: string };
