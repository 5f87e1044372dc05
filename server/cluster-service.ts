/**
 * The control plane's central service: ingests agents' hellos and reports, keeps
 * each cluster's view, turns classifier verdicts into partitions (saved before
 * they are pushed), and pushes changes to dashboards.
 */
import type { AgentHello, AgentReport } from '../core/protocol';
import { parseAgentReport } from '../core/report-size';
import type { ClusterSnapshot, PartitionSummary } from '../core/realtime-contract';
import type { PrismaClient } from '../generated/prisma/client';
import { AppError } from './app-error';
import type { ClusterMembership } from './cluster-membership';
import { ClusterState, snapshotFingerprint } from './cluster-view';
import { PartitionRepository } from './db/partition-repository';
import { PartitionTracker, type PartitionTrackingOptions } from './partition-tracker';
import type { LifecycleRunner } from './recovery/orchestrator';
import type { Logger } from './logger';
import type { ReportWriter } from './report-writer';

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

export class ClusterService {
  private readonly clusters = new Map<string, ClusterState>();
  private readonly clusterLoads = new Map<string, Promise<ClusterState>>();
  private readonly fingerprints = new Map<string, string>();
  private readonly partitions: PartitionRepository;
  private readonly tracker: PartitionTracker;
  private timer: NodeJS.Timeout | null = null;
  private lifecycle: LifecycleRunner | null = null;
  /** Reports accepted since start. */
  acceptedCount = 0;
  /** Reports refused since start (invalid or unwritable). */
  refusedCount = 0;

  constructor(
    private readonly prisma: PrismaClient,
    private readonly writer: ReportWriter,
    private readonly broadcaster: Broadcaster,
    private readonly options: ClusterServiceOptions,
    private readonly logger: Logger,
    /** Who belongs to each cluster: only members become nodes. */
    private readonly membership: ClusterMembership,
  ) {
    this.partitions = new PartitionRepository(prisma);
    this.tracker = new PartitionTracker({
      partitions: this.partitions,
      lifecycle: () => this.lifecycle,
      options,
      startedAtMs: options.nowMs(),
      logger,
      partitionChanged: (summary) => this.partitionChanged(summary),
      evaluate: (cluster) => this.evaluate(cluster),
    });
  }

  /** Starts periodic re-evaluation. */
  start(): void {
    this.timer = setInterval(() => this.evaluateAll(), this.options.evaluateIntervalMs);
  }

  /** Stops re-evaluation and waits for partition writes in flight. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.tracker.settled();
  }

  /** Known clusters. */
  listClusters(): ClusterState[] {
    return [...this.clusters.values()];
  }

  /** Returns the cluster, or null. */
  findCluster(clusterId: string): ClusterState | null {
    return this.clusters.get(clusterId) ?? null;
  }

  /** Returns the cluster or throws `not_found`. */
  getClusterOrThrow(clusterId: string): ClusterState {
    const cluster = this.findCluster(clusterId);
    if (!cluster) throw new AppError('not_found', `no cluster named ${clusterId}`);
    return cluster;
  }

  /** Creates (or loads) a cluster, in the database and in memory. */
  async ensureCluster(clusterId: string, options: { name?: string; demo?: boolean } = {}): Promise<ClusterState> {
    const existing = this.clusters.get(clusterId);
    if (existing) return existing;
    // One load per cluster: hellos of a new cluster's agents arrive together, and
    // concurrent upserts of one row race on its primary key.
    let loading = this.clusterLoads.get(clusterId);
    if (!loading) {
      loading = this.loadCluster(clusterId, options).finally(() => this.clusterLoads.delete(clusterId));
      this.clusterLoads.set(clusterId, loading);
    }
    return loading;
  }

  private async loadCluster(clusterId: string, options: { name?: string; demo?: boolean }): Promise<ClusterState> {
    const row = await this.prisma.cluster.upsert({
      where: { id: clusterId },
      create: { id: clusterId, name: options.name ?? clusterId, demo: options.demo ?? false },
      update: options.demo !== undefined ? { demo: options.demo } : {},
    });
    await this.membership.load(clusterId);
    const cluster = new ClusterState(clusterId, row.name, row.demo, (nodeId) => this.membership.isMember(clusterId, nodeId));
    const nodes = await this.prisma.node.findMany({ where: { clusterId } });
    for (const node of nodes) cluster.node(node.id).address = node.address;
    cluster.activePartition = await this.partitions.findActive(clusterId);
    if (cluster.activePartition && this.lifecycle) {
      this.lifecycle.restore(cluster.activePartition.id, clusterId, await this.partitions.findLifecycle(cluster.activePartition.id));
    }
    this.clusters.set(clusterId, cluster);
    return cluster;
  }

  /**
   * Loads the clusters the database knows, with their nodes, so that after a
   * restart they are listed (and their missing nodes visible) before, or without,
   * their agents coming back. Returns how many.
   */
  async loadClusters(): Promise<number> {
    const rows = await this.prisma.cluster.findMany({ select: { id: true }, orderBy: { createdAt: 'asc' }, take: clustersLoadMax });
    for (const row of rows) await this.ensureCluster(row.id);
    return rows.length;
  }

  /** Records an agent's hello and persists the node. */
  async hello(hello: AgentHello): Promise<void> {
    const cluster = await this.ensureCluster(hello.clusterId);
    this.membership.admit(hello.clusterId, hello.agentId);
    cluster.applyHello(hello, this.options.nowMs());
    this.reportUnknownPeers(cluster);
    cluster.node(hello.agentId).connected = true;
    await this.prisma.node.upsert({
      where: { clusterId_id: { clusterId: hello.clusterId, id: hello.agentId } },
      create: { clusterId: hello.clusterId, id: hello.agentId, address: hello.address, incarnation: BigInt(hello.incarnation) },
      update: { address: hello.address, incarnation: BigInt(hello.incarnation), lastSeenAt: new Date() },
    });
    this.evaluate(cluster);
  }

  /** Marks an agent's control connection up or down. */
  setConnected(clusterId: string, agentId: string, connected: boolean): void {
    const cluster = this.clusters.get(clusterId);
    if (!cluster) return;
    cluster.node(agentId).connected = connected;
    this.evaluate(cluster);
  }

  /**
   * Validates and ingests one report. Resolves once the report is durable, saying
   * whether an earlier copy was already stored; throws `payload_too_large` past
   * `reportBytesMax` or `invalid_input` naming the bad fields (nothing stored
   * either way), what `expected.verify` throws (authentication), or
   * `unavailable`.
   */
  async ingest(
    input: unknown,
    expected: { agentId: string; clusterId: string; verify?: (report: AgentReport) => void },
  ): Promise<{ report: AgentReport; duplicate: boolean }> {
    const parsed = parseAgentReport(input);
    if (!parsed.ok) {
      this.refusedCount += 1;
      throw new AppError(parsed.code, parsed.message);
    }
    const report = parsed.report;
    if (report.agentId !== expected.agentId || report.clusterId !== expected.clusterId) {
      this.refusedCount += 1;
      throw new AppError('forbidden', `this connection speaks for ${expected.clusterId}/${expected.agentId} only`);
    }
    try {
      expected.verify?.(report);
    } catch (error) {
      this.refusedCount += 1;
      throw error;
    }
    const cluster = await this.ensureCluster(report.clusterId);
    if (cluster.nodes.get(report.agentId)?.controlPlaneCut) {
      // A chaos scenario's control-plane cut: the report does not arrive; the agent keeps it and sends it again.
      this.refusedCount += 1;
      throw new AppError('unavailable', 'control-plane link cut by a chaos scenario; retry later');
    }
    const receivedAtMs = this.options.nowMs();
    this.membership.admit(report.clusterId, report.agentId);
    cluster.applyReport(report, receivedAtMs, this.options.staleAfterMs);
    this.reportUnknownPeers(cluster);
    this.evaluate(cluster);
    let duplicate: boolean;
    try {
      ({ duplicate } = await this.writer.write(report, receivedAtMs));
    } catch {
      this.refusedCount += 1;
      throw new AppError('unavailable', 'report not stored: database unavailable, retry later');
    }
    this.acceptedCount += 1;
    return { report, duplicate };
  }

  /**
   * Logs each (agent, unknown peer) pair once (bounded per agent by the view) and
   * asks for the members again: the peer may hold a credential issued since.
   */
  private reportUnknownPeers(cluster: ClusterState): void {
    const fresh = cluster.takeNewUnknownPeers();
    if (fresh.length === 0) return;
    this.logger.warn(
      { cluster: cluster.clusterId, observers: [...new Set(fresh.map((pair) => pair.observerId))], peers: fresh.map((pair) => pair.peerId) },
      'agent named peers that are not members of its cluster; kept as evidence about the agent, not as nodes',
    );
    this.membership.noteUnknown(cluster.clusterId);
  }

  /** Current snapshot of a cluster. */
  snapshot(clusterId: string): ClusterSnapshot {
    const cluster = this.getClusterOrThrow(clusterId);
    return cluster.snapshot(this.options.nowMs(), this.options.staleAfterMs);
  }

  /** Re-evaluates every cluster (timer tick). */
  evaluateAll(): void {
    for (const cluster of this.clusters.values()) this.evaluate(cluster);
  }

  /** Re-classifies one cluster, drives its partition and pushes what changed. */
  evaluate(cluster: ClusterState): void {
    const nowMs = this.options.nowMs();
    const verdict = cluster.classify(nowMs, this.options.staleAfterMs);
    this.tracker.drive(cluster, verdict, nowMs);
    this.pushIfChanged(cluster, nowMs);
  }

  private pushIfChanged(cluster: ClusterState, nowMs: number): void {
    const snapshot = cluster.snapshot(nowMs, this.options.staleAfterMs);
    const fingerprint = snapshotFingerprint(snapshot);
    if (this.fingerprints.get(cluster.clusterId) === fingerprint) return;
    this.fingerprints.set(cluster.clusterId, fingerprint);
    cluster.seq += 1;
    this.broadcaster.clusterUpdated({ ...snapshot, seq: cluster.seq });
  }

  /** Records a saved partition change in the view and pushes it. */
  partitionChanged(summary: PartitionSummary): void {
    const cluster = this.clusters.get(summary.clusterId);
    if (cluster) {
      if (summary.endedAtMs === null) cluster.activePartition = summary;
      else if (cluster.activePartition?.id === summary.id) cluster.activePartition = null;
    }
    this.broadcaster.partitionChanged(summary);
    this.logger.info({ partition: summary.id, type: summary.type, state: summary.state, ended: summary.endedAtMs !== null }, 'partition changed');
    if (cluster) this.pushIfChanged(cluster, this.options.nowMs());
  }

  /** Attaches the lifecycle runner (composition root). */
  attachLifecycle(runner: LifecycleRunner): void {
    this.lifecycle = runner;
  }

  /** Writes each node's store accepted (cumulative, from the latest reports). */
  writesAccepted(clusterId: string): Map<string, number> {
    const cluster = this.clusters.get(clusterId);
    const counts = new Map<string, number>();
    for (const [id, node] of cluster?.nodes ?? []) if (node.dataPlane) counts.set(id, node.dataPlane.writesAccepted);
    return counts;
  }

  /** Nodes of a cluster whose agents are connected now. */
  connectedNodes(clusterId: string): string[] {
    const cluster = this.clusters.get(clusterId);
    return cluster ? [...cluster.nodes.entries()].filter(([, node]) => node.connected).map(([id]) => id) : [];
  }

  /** Partitions from the database, newest first. */
  listPartitions(options: { clusterId?: string; limit: number; beforeMs?: number }) {
    return this.partitions.list(options);
  }

  /** One partition with its timeline, or throws `not_found`. */
  async getPartitionOrThrow(id: string) {
    const found = await this.partitions.findWithEvents(id);
    if (!found) throw new AppError('not_found', `no partition with id ${id}`);
    return found;
  }
}
