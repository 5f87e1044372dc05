/**
 * What the cluster service is built on and tuned by (cluster-service.ts): kept apart
 * so the service itself stays one page.
 */
import type { ClusterSnapshot, PartitionSummary } from '../core/realtime-contract';
import type { ClusterMembership } from './cluster-membership';
import type { ClusterRegistry } from './cluster-registry';
import type { ClusterStore } from './cluster-store';
import type { PartitionStore } from './db/partition-repository';
import type { ScaleOut } from './instance-sync';
import type { Logger } from './logger';
import type { PartitionTrackingOptions } from './partition-tracker';
import type { LifecycleRunner } from './recovery/orchestrator';
import type { ReportWriter } from './report-writer';

/** Longest a dashboard waits for a snapshot while only report times changed (ms): the ages it shows are at most this much behind. */
export const snapshotRefreshMs = 1000;

/** Where pushes to dashboards go; the Socket.IO adapter implements it, tests may record. */
export interface Broadcaster {
  clusterUpdated(snapshot: ClusterSnapshot): void;
  partitionChanged(partition: PartitionSummary): void;
}

/** Tunables of the service. */
export interface ClusterServiceOptions extends PartitionTrackingOptions {
  /** How often verdicts are re-evaluated, so staleness is noticed without new reports (ms). */
  evaluateIntervalMs: number;
  /** Source of time (ms since epoch). */
  nowMs: () => number;
}

/** Most clusters loaded from the database at start; more are loaded when their agents say hello. */
export const clustersLoadMax = 1000;

/** What the service is built on; the composition root builds each before it. */
export interface ClusterServiceDeps {
  /** The clusters held in memory (shared with the lifecycle orchestrator). */
  registry: ClusterRegistry;
  clusters: ClusterStore;
  partitions: PartitionStore;
  writer: Pick<ReportWriter, 'write' | 'full'>;
  broadcaster: Broadcaster;
  options: ClusterServiceOptions;
  logger: Logger;
  /** Who belongs to each cluster: only members become nodes. */
  membership: Pick<ClusterMembership, 'load' | 'isMember' | 'admit' | 'noteUnknown'>;
  /** Runs each open partition's lifecycle; without one, a heal closes the partition. */
  lifecycle: LifecycleRunner | null;
  /** Several instances on one database (instance-sync.ts); absent: this instance is alone and leads. */
  scaleOut?: ScaleOut;
}
