/**
 * The control plane's central service: ingests agents' hellos and reports, keeps
 * each cluster's view, turns classifier verdicts into partitions (saved before
 * they are pushed), and pushes changes to dashboards.
 */
import type { AgentHello, AgentReport } from '../core/protocol';
import { parseAgentReport } from '../core/report-size';
import type { ClusterSnapshot, PartitionSummary } from '../core/realtime-contract';
import { AppError } from './app-error';
import { EvaluationScheduler } from './evaluation-scheduler';
import { ClusterState, snapshotFingerprint } from './cluster-view';
import type { PartitionPage } from './db/partition-repository';
import { PartitionTracker } from './partition-tracker';
import type { Logger } from './logger';
import { type ClusterServiceDeps, type ClusterServiceOptions, clustersLoadMax, snapshotRefreshMs } from './cluster-service-deps';

export { type Broadcaster, type ClusterServiceDeps, type ClusterServiceOptions, clustersLoadMax, snapshotRefreshMs } from './cluster-service-deps';

export class ClusterService {
  private readonly clusterLoads = new Map<string, Promise<ClusterState>>();
  private readonly fingerprints = new Map<string, string>();
  /** When each cluster's snapshot was last pushed (ms), for the refresh of report ages. */
  private readonly pushedAtMs = new Map<string, number>();
  /** Spaces evaluations by their cost (see evaluation-scheduler.ts); its counts serve the scale benchmark. */
  readonly evaluations = new EvaluationScheduler((clusterId) => {
    const cluster = this.deps.registry.find(clusterId);
    if (cluster) this.evaluate(cluster);
  });
  private readonly tracker: PartitionTracker;
  private readonly options: ClusterServiceOptions;
  private readonly logger: Logger;
  private timer: NodeJS.Timeout | null = null;
  /** Reports accepted since start. */
  acceptedCount = 0;
  /** Reports refused since start (invalid or unwritable). */
  refusedCount = 0;

  constructor(private readonly deps: ClusterServiceDeps) {
    this.options = deps.options;
    this.logger = deps.logger;
    this.tracker = new PartitionTracker({
      partitions: deps.partitions,
      lifecycle: deps.lifecycle,
      options: deps.options,
      startedAtMs: deps.options.nowMs(),
      logger: deps.logger,
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
    this.evaluations.cancelAll();
    await this.tracker.settled();
  }

  /** Known clusters. */
  listClusters(): ClusterState[] {
    return this.deps.registry.list();
  }

  /** Returns the cluster, or null. */
  findCluster(clusterId: string): ClusterState | null {
    return this.deps.registry.find(clusterId);
  }

  /** Returns the cluster or throws `not_found`. */
  getClusterOrThrow(clusterId: string): ClusterState {
    const cluster = this.findCluster(clusterId);
    if (!cluster) throw new AppError('not_found', `no cluster named ${clusterId}`);
    return cluster;
  }

  /** Creates (or loads) a cluster, in the database and in memory. */
  async ensureCluster(clusterId: string, options: { name?: string; demo?: boolean } = {}): Promise<ClusterState> {
    const existing = this.deps.registry.find(clusterId);
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
    const { clusters, membership, partitions, lifecycle, registry } = this.deps;
    const row = await clusters.upsertCluster(clusterId, options);
    await membership.load(clusterId);
    const cluster = new ClusterState(clusterId, row.name, row.demo, (nodeId) => membership.isMember(clusterId, nodeId));
    for (const node of await clusters.nodes(clusterId)) cluster.node(node.id).address = node.address;
    cluster.activePartition = await partitions.findActive(clusterId);
    // A follower's lifecycle runs nothing: the leader restores every open partition when it takes over.
    if (cluster.activePartition && lifecycle && this.leading()) {
      lifecycle.restore(cluster.activePartition.id, clusterId, await partitions.findLifecycle(cluster.activePartition.id));
    }
    registry.add(cluster);
    return cluster;
  }

  /** Loads the clusters the database knows, with their nodes, so that after a restart they are listed (missing nodes visible) before their agents return. Returns how many. */
  async loadClusters(): Promise<number> {
    const ids = await this.deps.clusters.clusterIds(clustersLoadMax);
    for (const id of ids) await this.ensureCluster(id);
    return ids.length;
  }

  /** Whether this instance leads (always, when it is alone). */
  leading(): boolean {
    return this.deps.scaleOut?.leading() ?? true;
  }

  /** Records an agent's hello and persists the node. */
  async hello(hello: AgentHello): Promise<void> {
    const nowMs = this.options.nowMs();
    await this.foldHello(hello, nowMs);
    await this.deps.clusters.upsertNode({ clusterId: hello.clusterId, id: hello.agentId, address: hello.address, incarnation: hello.incarnation, seenAtMs: nowMs });
    this.deps.scaleOut?.forwardHello(hello, nowMs);
  }

  /** Folds a hello into the view (this instance's, or one another instance received). */
  async foldHello(hello: AgentHello, receivedAtMs: number): Promise<void> {
    const cluster = await this.ensureCluster(hello.clusterId);
    this.deps.membership.admit(hello.clusterId, hello.agentId);
    cluster.applyHello(hello, receivedAtMs);
    this.reportUnknownPeers(cluster);
    cluster.node(hello.agentId).connected = true;
    this.evaluateSoon(cluster);
  }

  /** Marks an agent's control connection to this instance up or down; it stays up while another instance holds it. */
  setConnected(clusterId: string, agentId: string, connected: boolean): void {
    const cluster = this.deps.registry.find(clusterId);
    if (!cluster) return;
    cluster.node(agentId).connected = connected || (this.deps.scaleOut?.connectedElsewhere(clusterId, agentId) ?? false);
    this.evaluateSoon(cluster);
  }

  /**
   * Evaluates now when the cluster's evaluations are cheap, else schedules one (shared
   * with the reports of the turn): 1,000 agents connecting or going at once evaluated
   * the 1,000-node cluster once each, O(N³) for the storm.
   */
  private evaluateSoon(cluster: ClusterState): void {
    if (this.evaluations.cheap(cluster.clusterId)) this.evaluate(cluster);
    else this.evaluations.schedule(cluster.clusterId);
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
    if (this.deps.writer.full) {
      // Shed before parsing and verifying: when reports arrive faster than they are stored,
      // that work is what the event loop cannot afford, and the agent keeps the report and
      // sends it again. Checked again at the write, since the queue may fill meanwhile.
      this.refusedCount += 1;
      throw new AppError('unavailable', 'report not stored: the write queue is full, retry later');
    }
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
    this.foldReport(cluster, report, receivedAtMs);
    this.deps.scaleOut?.forwardReport(report, receivedAtMs);
    let duplicate: boolean;
    try {
      ({ duplicate } = await this.deps.writer.write(report, receivedAtMs));
    } catch {
      this.refusedCount += 1;
      throw new AppError('unavailable', 'report not stored: database unavailable, retry later');
    }
    this.acceptedCount += 1;
    return { report, duplicate };
  }

  /** Folds a verified report into the view (this instance's, or one another instance stored). */
  foldReport(cluster: ClusterState, report: AgentReport, receivedAtMs: number): void {
    this.deps.membership.admit(report.clusterId, report.agentId);
    cluster.applyReport(report, receivedAtMs, this.options.staleAfterMs);
    this.reportUnknownPeers(cluster);
    this.evaluations.schedule(cluster.clusterId);
  }

  /** Logs each (agent, unknown peer) pair once (bounded per agent by the view) and asks for the members again: the peer may hold a credential issued since. */
  private reportUnknownPeers(cluster: ClusterState): void {
    const fresh = cluster.takeNewUnknownPeers();
    if (fresh.length === 0) return;
    this.logger.warn(
      { cluster: cluster.clusterId, observers: [...new Set(fresh.map((pair) => pair.observerId))], peers: fresh.map((pair) => pair.peerId) },
      'agent named peers that are not members of its cluster; kept as evidence about the agent, not as nodes',
    );
    this.deps.membership.noteUnknown(cluster.clusterId);
  }

  /** Current snapshot of a cluster: on a follower, the leader's latest (one source of truth) once one arrived. */
  snapshot(clusterId: string): ClusterSnapshot {
    const cluster = this.getClusterOrThrow(clusterId);
    const mirrored = this.leading() ? null : this.deps.scaleOut?.mirrored(clusterId);
    return mirrored ?? cluster.snapshot(this.options.nowMs(), this.options.staleAfterMs);
  }

  /** Re-evaluates every cluster (timer tick: staleness moves with time alone), within each one's evaluation budget. */
  evaluateAll(): void {
    for (const cluster of this.deps.registry.list()) this.evaluations.schedule(cluster.clusterId);
  }

  /** Re-classifies one cluster, drives its partition and pushes what changed; the leader's work alone. */
  evaluate(cluster: ClusterState): void {
    if (!this.leading()) return;
    this.evaluations.measure(cluster.clusterId, () => {
      const nowMs = this.options.nowMs();
      const verdict = cluster.classify(nowMs, this.options.staleAfterMs);
      this.tracker.drive(cluster, verdict, nowMs);
      this.pushIfChanged(cluster, nowMs);
    });
  }

  private pushIfChanged(cluster: ClusterState, nowMs: number): void {
    const snapshot = cluster.snapshot(nowMs, this.options.staleAfterMs);
    const fingerprint = snapshotFingerprint(snapshot);
    // Unchanged but for its clocks: pushed again after `snapshotRefreshMs`, so the report
    // ages a dashboard shows stay true (without it they grew until something else changed).
    const unchanged = this.fingerprints.get(cluster.clusterId) === fingerprint;
    if (unchanged && nowMs - (this.pushedAtMs.get(cluster.clusterId) ?? 0) < snapshotRefreshMs) return;
    this.fingerprints.set(cluster.clusterId, fingerprint);
    this.pushedAtMs.set(cluster.clusterId, nowMs);
    cluster.seq += 1;
    this.deps.broadcaster.clusterUpdated({ ...snapshot, seq: cluster.seq });
  }

  /** Records a saved partition change in the view and pushes it. */
  partitionChanged(summary: PartitionSummary): void {
    const cluster = this.deps.registry.find(summary.clusterId);
    if (cluster) {
      if (summary.endedAtMs === null) cluster.activePartition = summary;
      else if (cluster.activePartition?.id === summary.id) cluster.activePartition = null;
    }
    this.deps.broadcaster.partitionChanged(summary);
    this.logger.info({ partition: summary.id, type: summary.type, state: summary.state, ended: summary.endedAtMs !== null }, 'partition changed');
    if (cluster) this.pushIfChanged(cluster, this.options.nowMs());
  }

  /** Nodes of a cluster whose agents are connected now. */
  connectedNodes(clusterId: string): string[] { return this.deps.registry.connectedNodes(clusterId); }

  /** Partitions from the database, newest first. */
  listPartitions(options: PartitionPage) {
    return this.deps.partitions.list(options);
  }

  /** One partition with its timeline, or throws `not_found`. */
  async getPartitionOrThrow(id: string) {
    const found = await this.deps.partitions.findWithEvents(id);
    if (!found) throw new AppError('not_found', `no partition with id ${id}`);
    return found;
  }
}
