/**
 * The one typed contract for Socket.IO between the control server and dashboards
 * (default namespace) and between the server and agents (`/agents` namespace).
 * A dashboard gets a snapshot when it subscribes, then updates that each carry a
 * sequence number one higher than the last; a gap means "ask for a snapshot".
 */
import type { PartitionType, PartitionVerdict } from './classify-partition';
import type { IncidentEntry } from './lifecycle/incident';
import type { AgentCommand, AgentHello, AgentReportInput, DataPlaneStatus, FaultInjectionStatus, FaultRule, NodeId, Reply } from './protocol';
import type { Link } from './reachability';
import type { DataPlaneReply } from './reconcile/data-plane-commands';

/** One node as the dashboard sees it. */
export interface NodeView {
  id: NodeId;
  /** Heartbeat address "host:port", or null if the agent never said hello. */
  address: string | null;
  /** Whether the agent currently holds a Socket.IO connection to the server. */
  connected: boolean;
  /** Server time of the agent's latest report (ms since epoch), or null. */
  lastReportAtMs: number | null;
  /** True when the latest report is older than the staleness bound. */
  stale: boolean;
  /** Fault rules the server wants this agent to hold (what it sent last). */
  faults: FaultRule[];
  /** Where the agent says its faults act (kernel or transport), what it holds and until when, as of its latest report; absent or null when it never said. */
  faultInjection?: FaultInjectionStatus | null;
  /** The node's store (keys, writes accepted and refused, fence in force) as of its latest report, or null. */
  dataPlane: DataPlaneStatus | null;
}

/** A partition as listed to operators. */
export interface PartitionSummary {
  id: string;
  clusterId: string;
  type: PartitionType;
  /** Lifecycle state. */
  state: string;
  startedAtMs: number;
  endedAtMs: number | null;
  /** Components at the latest classification, largest first. */
  components: NodeId[][];
  /** Cut or one-way links at the latest classification. */
  cutLinks: Link[];
  nodeIds: NodeId[];
  outcome: string | null;
  divergenceMax: number;
  recoveryMs: number | null;
}

/** Everything a dashboard needs to draw one cluster. */
export interface ClusterSnapshot {
  clusterId: string;
  name: string;
  /** True for the demo cluster started by the server itself. */
  demo: boolean;
  /** Update sequence; increases by one with every change pushed for this cluster. */
  seq: number;
  /** Server time the snapshot was taken (ms since epoch). */
  atMs: number;
  /** A node whose latest report is older than this (ms) is stale (the server's FAULTLINE_STALE_AFTER_MS); optional for older servers. */
  staleAfterMs?: number;
  nodes: NodeView[];
  /** Links that are not fully up (down, one-way, unknown); every other pair is up. */
  links: Link[];
  /** The classifier's latest (raw, undebounced) verdict, with its evidence chain. */
  verdict: PartitionVerdict;
  /** The open partition, if any. */
  activePartition: PartitionSummary | null;
  /** Agents whose reports named peers that are not members of the cluster: evidence about those agents, not nodes. */
  unknownPeers: UnknownPeerEvidence[];
  /**
   * Heartbeat delay and loss per directed pair, as the receiving agent measured them
   * (clusters of at most `linkFiguresNodesMax` nodes; absent above, and from older servers).
   */
  linkFigures?: LinkFigureView[];
}

/** Largest cluster whose snapshot carries `linkFigures` (n² entries; the console's matrix shows at most 40 nodes). */
export const linkFiguresNodesMax = 64;

/** How `to` hears `from`'s heartbeats (see core/detectors/link-quality.ts). */
export interface LinkFigureView {
  /** The sender (the matrix row). */
  from: NodeId;
  /** The receiver that measured it (the matrix column). */
  to: NodeId;
  /** Median one-way delay (ms), or null when no heartbeat arrived lately. */
  delayMs: number | null;
  /** Share of heartbeats lost (0–1), or null before enough was watched. */
  lossRatio: number | null;
}

/**
 * What one agent said about peers the cluster does not have (no credential, not
 * declared): a misconfigured peer list, or an agent inventing nodes. Such peers
 * never become nodes and never take part in a verdict.
 */
export interface UnknownPeerEvidence {
  /** The agent whose reports (or hello) named them. */
  observerId: string;
  /** The first distinct unknown names it used (at most `unknownPeerNamesMax`) that are still not members. */
  peerIds: string[];
  /** Mentions of unknown peers since the server started (one per observation). */
  count: number;
  /** When the first and the latest such mention arrived (server time, ms). */
  firstAtMs: number;
  lastAtMs: number;
}

/** An incident alert as operators see it. */
export interface AlertView {
  id: string;
  clusterId: string;
  partitionId: string | null;
  /** The rule that fired, for example `partition-duration` or `partition-detected`. */
  rule: string;
  /** info | warning | critical */
  severity: string;
  status: 'firing' | 'acknowledged' | 'resolved';
  title: string;
  firedAtMs: number;
  acknowledgedAtMs: number | null;
  acknowledgedBy: string | null;
  /** The note written when acknowledging. */
  note: string | null;
  resolvedAtMs: number | null;
  resolvedBy: string | null;
  /**
   * What happened under it, oldest first: a partition's incident carries its
   * threshold breaches, emergency and pending recovery as entries (one incident per
   * partition, `rule` = `partition`).
   */
  entries: IncidentEntry[];
}

/** Status of a recovery run. */
export type RecoveryStatus = 'pending-approval' | 'approved' | 'rejected' | 'running' | 'paused' | 'succeeded' | 'failed' | 'aborted';

/** A recovery run as operators see it. */
export interface RecoveryRunView {
  id: string;
  partitionId: string;
  clusterId: string | null;
  strategy: 'automatic' | 'manual' | 'phased';
  status: RecoveryStatus;
  /** The dry-run plan shown before approval (core/policy/dry-run `DryRun`), or `{}` when none was computed. */
  plan: unknown;
  /** Phased progress (core/policy/phased-plan `PhasedPlan`), or null for other strategies. */
  phased: unknown;
  requestedBy: string;
  decidedBy: string | null;
  decidedAtMs: number | null;
  /** The reason given when approving, rejecting, pausing or aborting. */
  reason: string | null;
  createdAtMs: number;
  startedAtMs: number | null;
  endedAtMs: number | null;
}

/** Events the server pushes to dashboards. */
export interface ServerToClientEvents {
  /** A new full state of a subscribed cluster (its seq follows the previous one). */
  'cluster:update': (snapshot: ClusterSnapshot) => void;
  /** A partition was opened, changed or closed (already saved in the database). */
  'partition:changed': (partition: PartitionSummary) => void;
  /** An alert fired, was acknowledged or resolved (already saved). */
  'alert:changed': (alert: AlertView) => void;
  /** A recovery run was requested, decided or progressed (already saved). */
  'recovery:changed': (run: RecoveryRunView) => void;
}

/** Commands dashboards send to the server. */
export interface ClientToServerEvents {
  /** Joins the cluster's room and replies with its snapshot. */
  'cluster:subscribe': (clusterId: string, reply: (result: Reply<ClusterSnapshot>) => void) => void;
}

/** Events the server sends to agents. */
export interface ServerToAgentEvents {
  /** A command for the agent; data-plane commands that return something (changes, applied, digest) reply with it, others with null. */
  command: (command: AgentCommand, reply: (result: Reply<DataPlaneReply | null>) => void) => void;
}

/** Events agents send to the server. */
export interface AgentToServerEvents {
  hello: (hello: AgentHello, reply: (result: Reply<{ serverTimeMs: number }>) => void) => void;
  report: (report: AgentReportInput, reply: (result: Reply<{ sequence: number; duplicate: boolean }>) => void) => void;
}

/** Socket.IO room of one cluster's dashboards. */
export const clusterRoom = (clusterId: string) => `cluster:${clusterId}`;

/** Socket.IO namespace agents connect to. */
export const agentNamespace = '/agents';
