/**
 * Several server instances on one database, working as one control plane
 * (server/README.md, "Several instances"). The design keeps one source of truth:
 *
 * - every instance accepts agents' hellos and reports (authenticates, validates,
 *   stores them) and forwards each to the others through the Socket.IO adapter
 *   (`serverSideEmit`), so every instance folds every agent's facts into its view:
 *   a warm standby, never published by a follower;
 * - the leader (leadership.ts) alone classifies into partitions, runs lifecycles,
 *   recovery and alerts, and publishes snapshots and partition changes; every
 *   instance delivers them to its own dashboards and keeps the leader's latest
 *   snapshot, which a follower's subscribers and API readers get, so a dashboard on
 *   any instance sees exactly what the leader decided, with the leader's sequence;
 * - who holds which agent's connection is published by each instance every
 *   `holdingsEveryMs` (and at once on a change), so "connected" means connected
 *   anywhere; an instance silent for `holdingsExpireMs` holds nothing;
 * - fault rules set through any instance's API and operators' recovery decisions
 *   taken on any instance reach the others (the leader carries decisions out).
 *
 * Messages come from the other instances of this deployment, through its own
 * database or Redis; they are trusted like the database is.
 */
import type { Server } from 'socket.io';
import type { PartitionSummary, ClusterSnapshot } from '../core/realtime-contract';
import type { AgentHello, AgentReport, FaultRule } from '../core/protocol';
import { initialDebounceState } from '../core/partition-debounce';
import type { AlertsService } from './alerts-service';
import type { Broadcaster, ClusterService } from './cluster-service';
import type { ClusterState } from './cluster-view';
import type { PartitionStore } from './db/partition-repository';
import type { LeaderGate } from './leadership';
import type { Logger } from './logger';
import { seedDebounceFromActive } from './partition-tracker';
import type { FanoutKind } from './realtime/fanout';
import { type LifecycleRunner, factsOf } from './recovery/orchestrator';
import type { RecoveryEffect } from './recovery/recovery-service';
import { standingAlerts } from './recovery/standing-alerts';

/** How often each instance publishes the agents it holds (ms). */
export const holdingsEveryMs = 1000;
/** An instance not heard from for this long holds no agent any more (ms): its process died. */
export const holdingsExpireMs = 4000;

/** What a cluster service takes from the instance sync (cluster-service.ts). */
export interface ScaleOut {
  leading(): boolean;
  forwardReport(report: AgentReport, receivedAtMs: number): void;
  forwardHello(hello: AgentHello, receivedAtMs: number): void;
  /** The leader's latest snapshot of a cluster, or null. */
  mirrored(clusterId: string): ClusterSnapshot | null;
  /** Whether another live instance holds the agent's connection. */
  connectedElsewhere(clusterId: string, agentId: string): boolean;
}

/** Fault state of one node, as the fault controller keeps it. */
interface NodeFaults {
  id: string;
  faults: FaultRule[];
  controlPlaneCut: boolean;
}

/** The messages between instances (Socket.IO server-side events). */
interface FeedEvents {
  'feed:report': (report: AgentReport, receivedAtMs: number) => void;
  'feed:hello': (hello: AgentHello, receivedAtMs: number) => void;
  'feed:holdings': (instanceId: string, agentKeys: string[]) => void;
  'feed:faults': (clusterId: string, nodes: NodeFaults[]) => void;
  'feed:snapshot': (snapshot: ClusterSnapshot) => void;
  'feed:partition': (partition: PartitionSummary) => void;
  'feed:recovery': (effects: RecoveryEffect[]) => void;
}

type FeedServer = {
  serverSideEmit<E extends keyof FeedEvents>(event: E, ...args: Parameters<FeedEvents[E]>): boolean;
  on<E extends keyof FeedEvents>(event: E, listener: FeedEvents[E]): unknown;
};

const agentKey = (clusterId: string, agentId: string) => `${clusterId}/${agentId}`;
const splitKey = (key: string) => {
  const slash = key.indexOf('/');
  return { clusterId: key.slice(0, slash), agentId: key.slice(slash + 1) };
};

export interface InstanceSyncDeps {
  io: Server;
  fanout: FanoutKind;
  gate: LeaderGate;
  getService: () => ClusterService;
  partitions: PartitionStore;
  lifecycle: LifecycleRunner;
  /** Pushes to this instance's dashboards only. */
  local: Broadcaster;
  /** `cluster/agent` of the agents connected to this instance. */
  localAgents: () => string[];
  /** Another instance verified this report: its nonce is used here too (replay protection across instances). */
  rememberNonce: (report: AgentReport) => void;
  /** Alerts a new leader raises when the old one saved a step but died before raising them. */
  alerts: Pick<AlertsService, 'ensureRaised'>;
  /** The leader carries out recovery decisions taken on any instance. */
  handleRecovery: (effects: RecoveryEffect[]) => void;
  /** An agent said hello on another instance, or left the last instance that held it (agent presence, on the leader). */
  agentReady: (clusterId: string, agentId: string) => void;
  agentGone: (clusterId: string, agentId: string) => void;
  staleAfterMs: number;
  logger: Logger;
  nowMs: () => number;
}

export class InstanceSync implements ScaleOut {
  private readonly feed: FeedServer;
  private readonly mirrors = new Map<string, ClusterSnapshot>();
  private readonly holdings = new Map<string, { agents: Set<string>; heardAtMs: number }>();
  private timer: NodeJS.Timeout | null = null;
  /** True once this instance, leading, restored the open partitions: before that it decides nothing. */
  private tookOver = false;

  constructor(private readonly deps: InstanceSyncDeps) {
    this.feed = deps.io as unknown as FeedServer;
    if (deps.fanout === 'none') return;
    const service = () => deps.getService();
    const failed = (what: string) => (error: unknown) => deps.logger.warn({ err: error }, `forwarded ${what} not folded`);
    this.feed.on('feed:report', (report, receivedAtMs) => {
      deps.rememberNonce(report);
      service().ensureCluster(report.clusterId).then((cluster) => service().foldReport(cluster, report, receivedAtMs), failed('report'));
    });
    this.feed.on('feed:hello', (hello, receivedAtMs) => {
      service().foldHello(hello, receivedAtMs).then(() => deps.agentReady(hello.clusterId, hello.agentId), failed('hello'));
    });
    this.feed.on('feed:holdings', (instanceId, agentKeys) => this.heldBy(instanceId, new Set(agentKeys)));
    this.feed.on('feed:faults', (clusterId, nodes) => this.applyFaults(clusterId, nodes));
    this.feed.on('feed:snapshot', (snapshot) => this.mirror(snapshot));
    this.feed.on('feed:partition', (partition) => {
      const cluster = service().findCluster(partition.clusterId);
      if (cluster && partition.endedAtMs === null) cluster.activePartition = partition;
      else if (cluster?.activePartition?.id === partition.id) cluster.activePartition = null;
      deps.local.partitionChanged(partition);
    });
    this.feed.on('feed:recovery', (effects) => {
      if (deps.gate.isLeader) deps.handleRecovery(effects);
    });
  }

  /** Starts publishing this instance's holdings. */
  start(): void {
    if (this.deps.fanout === 'none') return;
    this.timer = setInterval(() => this.tick(), holdingsEveryMs);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  leading(): boolean {
    return this.deps.gate.isLeader && this.tookOver;
  }

  /**
   * True when other instances are listed (the election's instance list, refreshed
   * every 2 s): publishing to nobody would cost a NOTIFY (and, past 8000 bytes, an
   * attachment row) per report and per snapshot for nothing, so a lone instance does not.
   */
  private get shared(): boolean {
    return this.deps.fanout !== 'none' && this.deps.gate.status().instances.length > 1;
  }

  forwardReport(report: AgentReport, receivedAtMs: number): void {
    if (this.shared) this.feed.serverSideEmit('feed:report', report, receivedAtMs);
  }

  forwardHello(hello: AgentHello, receivedAtMs: number): void {
    if (this.shared) this.feed.serverSideEmit('feed:hello', hello, receivedAtMs);
  }

  mirrored(clusterId: string): ClusterSnapshot | null {
    return this.mirrors.get(clusterId) ?? null;
  }

  connectedElsewhere(clusterId: string, agentId: string): boolean {
    const key = agentKey(clusterId, agentId);
    const nowMs = this.deps.nowMs();
    for (const held of this.holdings.values()) if (nowMs - held.heardAtMs < holdingsExpireMs && held.agents.has(key)) return true;
    return false;
  }

  /** The leader's push of a snapshot: to this instance's dashboards and, through the fan-out, to every other's. */
  publishSnapshot(snapshot: ClusterSnapshot): void {
    this.mirror(snapshot);
    if (this.shared) this.feed.serverSideEmit('feed:snapshot', snapshot);
  }

  /** The leader's push of a partition change, likewise. */
  publishPartition(partition: PartitionSummary): void {
    this.deps.local.partitionChanged(partition);
    if (this.shared) this.feed.serverSideEmit('feed:partition', partition);
  }

  /** Fault rules changed on this instance (API, scenario): the others' views (the leader's above all) get them too. */
  publishFaults(cluster: ClusterState): void {
    if (!this.shared) return;
    const nodes = [...cluster.nodes.entries()].map(([id, node]) => ({ id, faults: node.faults, controlPlaneCut: node.controlPlaneCut ?? false }));
    this.feed.serverSideEmit('feed:faults', cluster.clusterId, nodes);
  }

  /** An operator's recovery decision on this instance: carried out here when leading, by the leader otherwise. */
  publishRecovery(effects: RecoveryEffect[]): void {
    if (this.deps.gate.isLeader) this.deps.handleRecovery(effects);
    else if (this.shared) this.feed.serverSideEmit('feed:recovery', effects);
    else this.deps.logger.warn({ effects: effects.length }, 'recovery decision taken on a follower that sees no leader; not carried out');
  }

  /** An agent connected to or left this instance: tell the others now rather than at the next tick. */
  holdingsChanged(): void {
    if (this.deps.fanout !== 'none') this.feed.serverSideEmit('feed:holdings', this.deps.gate.instanceId, this.deps.localAgents());
  }

  /**
   * Leader service: restores every open partition's lifecycle from the database
   * (with its debouncer, see `seedDebounceFromActive`) and continues the
   * snapshots' sequence past the last one the old leader published, then decides.
   */
  async takeOver(): Promise<void> {
    const service = this.deps.getService();
    const nowMs = this.deps.nowMs();
    for (const cluster of service.listClusters()) {
      cluster.seq = Math.max(cluster.seq, this.mirrors.get(cluster.clusterId)?.seq ?? 0) + 1;
      cluster.activePartition = await this.deps.partitions.findActive(cluster.clusterId);
      cluster.debounce = initialDebounceState();
      if (!cluster.activePartition) continue;
      const { id } = cluster.activePartition;
      const saved = await this.deps.partitions.findLifecycle(id);
      this.deps.lifecycle.restore(id, cluster.clusterId, saved);
      const seed = seedDebounceFromActive(cluster, nowMs, this.deps.staleAfterMs);
      // The old leader died between opening the partition and its lifecycle's first step: take that step now.
      if (seed && (saved === null || saved.detectedAtMs === null)) void this.deps.lifecycle.feed(id, cluster.clusterId, { type: 'partition-observed', facts: factsOf(seed, null) });
      // Or between saving a step and raising its alerts: raise those never raised.
      if (saved) for (const alert of standingAlerts(saved)) await this.deps.alerts.ensureRaised({ clusterId: cluster.clusterId, partitionId: id, ...alert });
    }
    this.tookOver = true;
    this.deps.logger.info({ clusters: service.listClusters().length, open: service.listClusters().filter((cluster) => cluster.activePartition).length }, 'took over: open partitions restored');
    service.evaluateAll();
  }

  /** Leader service stop: decides nothing more until the next takeover. */
  stepDown(): void {
    this.tookOver = false;
  }

  private mirror(snapshot: ClusterSnapshot): void {
    const previous = this.mirrors.get(snapshot.clusterId);
    if (previous && previous.seq >= snapshot.seq) return;
    this.mirrors.set(snapshot.clusterId, snapshot);
    this.deps.local.clusterUpdated(snapshot);
  }

  private applyFaults(clusterId: string, nodes: NodeFaults[]): void {
    const cluster = this.deps.getService().findCluster(clusterId);
    if (!cluster) return;
    for (const node of nodes) {
      const state = cluster.node(node.id);
      state.faults = node.faults;
      state.controlPlaneCut = node.controlPlaneCut;
    }
    this.deps.getService().evaluate(cluster);
  }

  /** Records what `instanceId` holds; every agent that changed hands is looked at again. */
  private heldBy(instanceId: string, agents: Set<string> | null): void {
    if (instanceId === this.deps.gate.instanceId) return;
    const before = this.holdings.get(instanceId)?.agents ?? new Set<string>();
    if (agents) this.holdings.set(instanceId, { agents, heardAtMs: this.deps.nowMs() });
    else this.holdings.delete(instanceId);
    const after = agents ?? new Set<string>();
    const changed = [...before].filter((key) => !after.has(key)).concat([...after].filter((key) => !before.has(key)));
    if (changed.length === 0) return;
    const local = new Set(this.deps.localAgents());
    for (const key of changed) {
      const { clusterId, agentId } = splitKey(key);
      this.deps.getService().setConnected(clusterId, agentId, local.has(key));
      if (!local.has(key) && !this.connectedElsewhere(clusterId, agentId)) this.deps.agentGone(clusterId, agentId);
    }
  }

  private tick(): void {
    if (this.shared) this.holdingsChanged();
    const nowMs = this.deps.nowMs();
    for (const [instanceId, held] of this.holdings) if (nowMs - held.heardAtMs >= holdingsExpireMs) this.heldBy(instanceId, null);
  }
}
