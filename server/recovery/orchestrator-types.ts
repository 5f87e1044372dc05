/** What the pieces of the recovery orchestrator share: their dependencies and one partition's running entry. */
import type { LifecycleEffect, LifecycleEvent, PartitionLifecycleState } from '../../core/lifecycle/partition-lifecycle';
import type { ClusterPolicy } from '../../core/policy/cluster-policy';
import type { DivergenceLedger } from '../../core/reconcile/divergence';
import type { PartitionSummary } from '../../core/realtime-contract';
import type { AlertsService } from '../alerts-service';
import type { Logger } from '../logger';
import type { ReconciliationDriver } from './reconciliation-driver';
import type { LifecycleStore } from './lifecycle-store';
import type { RecoveryEffect, RecoveryService } from './recovery-service';

/** A data-plane command a lifecycle sends (fence, unfence). */
export type LifecycleCommand = Extract<LifecycleEffect, { kind: 'send-command' }>['command'];

/** What the orchestrator needs from the rest of the server. */
export interface OrchestratorDeps {
  store: LifecycleStore;
  alerts: Pick<AlertsService, 'raise' | 'raiseForPartition' | 'resolveForPartition' | 'reescalateStale'>;
  recovery: Pick<RecoveryService, 'list' | 'requestRun' | 'abortRun' | 'markRunning' | 'finish' | 'recordStageRun'>;
  driver: Pick<ReconciliationDriver, 'collectAll' | 'digests' | 'quiescedDigests' | 'drive'>;
  /** Nodes of a cluster whose agents are connected now. */
  connectedNodes: (clusterId: string) => string[];
  /** Every known cluster (for per-cluster samples). */
  clusterIds: () => string[];
  /** Writes each node's store accepted so far (cumulative counters from reports). */
  writesAccepted: (clusterId: string) => Map<string, number>;
  /** Sends a fence/unfence to agents; failures are logged, the next step re-sends. */
  sendDataPlane: (clusterId: string, nodeIds: string[], command: LifecycleCommand) => Promise<void>;
  /** An acknowledged alert still open this long after its acknowledgement fires again (ms). */
  acknowledgementTimeoutMs: number;
  /** The policy of a cluster. */
  policyFor: (clusterId: string) => ClusterPolicy;
  /** Called after the partition row changed (saved), to push it and update the cluster view. */
  partitionChanged: (summary: PartitionSummary) => void;
  logger: Logger;
  nowMs: () => number;
}

/** One running lifecycle and its serialisation chain. */
export interface Entry {
  state: PartitionLifecycleState;
  clusterId: string;
  chain: Promise<void>;
  /** Set while a reconciliation runs, to cancel it. */
  cancelled: boolean;
  /** The divergence ledger, from the first observation on. */
  ledger: DivergenceLedger | null;
  /** Each node's write counter when the partition was detected. */
  writesAtStart: Map<string, number>;
  /** The latest ledger save, so saves happen in order. */
  ledgerSaved: Promise<void>;
}

/** The orchestrator's per-partition lanes, as its pieces use them. */
export interface Lanes {
  entry(partitionId: string): Entry | undefined;
  entries(): Iterable<[string, Entry]>;
  /** Runs `work` after everything queued for the partition. */
  enqueue(partitionId: string, work: () => Promise<void>): Promise<void>;
  /** Feeds an event from outside the partition's lane (queued behind its work). */
  feed(partitionId: string, clusterId: string, event: LifecycleEvent): Promise<void>;
  /** Steps the lifecycle now (from inside the partition's lane). */
  step(partitionId: string, event: LifecycleEvent): Promise<void>;
  /** Carries out what a recovery decision asks for (each in its partition's lane). */
  handle(effects: RecoveryEffect[]): void;
}
