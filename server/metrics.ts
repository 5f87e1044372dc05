/**
 * Prometheus metrics at GET /metrics (prom-client, one registry per server so
 * several servers in one test process never share series). Live values (active
 * partitions, divergence, queue depths, connections, database) are read when
 * scraped; events (reports, refusals, partitions ended) are counted as they happen.
 * Per-agent series are capped so a flood of agent names cannot exhaust memory.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { PartitionSummary } from '../core/realtime-contract';
import type { RefusalReason } from './auth/agent-credentials';
import type { ClusterService } from './cluster-service';
import type { ReportOutcome } from './realtime/socket-server';

/** Most (cluster, agent) pairs with their own outbox series; later agents are not shown. */
export const metricsAgentSeriesMax = 2000;
/** Most partition ids remembered to count each opening and ending once. */
const partitionsRememberedMax = 10_000;

/** What the metrics read when scraped. */
export interface MetricsSources {
  service: () => ClusterService;
  /** Reports waiting in the write batch. */
  writeQueueDepth: () => number;
  agentsConnected: () => number;
  /** Known agents away past the reconnect grace (0 when not wired). */
  agentsMissing?: () => number;
  /** True when the database answers, false when not (bounded in time by the caller). */
  databaseUp: () => Promise<boolean>;
}

/** The server's metrics and the hooks that feed them. */
export interface ServerMetrics {
  registry: Registry;
  reportOutcome(outcome: ReportOutcome): void;
  refused(reason: RefusalReason): void;
  partitionChanged(partition: PartitionSummary): void;
  /** The exposition text and its content type. */
  render(): Promise<{ contentType: string; body: string }>;
}

const secondsBuckets = [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 3 * 3600, 12 * 3600];
const lagBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15, 60, 300, 1800];

/** Creates the registry and its metrics. */
export function createMetrics(sources: MetricsSources): ServerMetrics {
  const registry = new Registry();
  const registers = [registry];
  new Gauge({
    name: 'faultline_partitions_active',
    help: 'Open partitions per cluster (0 or 1).',
    labelNames: ['cluster'],
    registers,
    collect() {
      this.reset();
      for (const cluster of sources.service().listClusters()) this.set({ cluster: cluster.clusterId }, cluster.activePartition ? 1 : 0);
    },
  });
  new Gauge({
    name: 'faultline_partition_age_seconds',
    help: 'Age of the open partition per cluster, 0 when none.',
    labelNames: ['cluster'],
    registers,
    collect() {
      this.reset();
      const nowMs = Date.now();
      for (const cluster of sources.service().listClusters()) {
        const active = cluster.activePartition;
        this.set({ cluster: cluster.clusterId }, active ? Math.max(0, (nowMs - active.startedAtMs) / 1000) : 0);
      }
    },
  });
  new Gauge({
    name: 'faultline_divergence_ratio',
    help: 'Peak fraction of keys that differ between replicas in the open partition, 0 when none.',
    labelNames: ['cluster'],
    registers,
    collect() {
      this.reset();
      for (const cluster of sources.service().listClusters()) this.set({ cluster: cluster.clusterId }, cluster.activePartition?.divergenceMax ?? 0);
    },
  });
  new Gauge({
    name: 'faultline_nodes_stale',
    help: 'Nodes whose latest report is older than the staleness bound, per cluster.',
    labelNames: ['cluster'],
    registers,
    collect() {
      this.reset();
      for (const cluster of sources.service().listClusters()) this.set({ cluster: cluster.clusterId }, cluster.verdict?.staleNodes.length ?? 0);
    },
  });
  const opened = new Counter({ name: 'faultline_partitions_opened_total', help: 'Partitions opened, by cluster and type.', labelNames: ['cluster', 'type'], registers });
  const duration = new Histogram({ name: 'faultline_partition_duration_seconds', help: 'Duration of ended partitions.', labelNames: ['type'], buckets: secondsBuckets, registers });
  const recovery = new Histogram({ name: 'faultline_recovery_duration_seconds', help: 'Time from heal to reconciled, for recovered partitions.', buckets: secondsBuckets, registers });
  const reports = new Counter({ name: 'faultline_reports_total', help: 'Agent reports by outcome: stored, duplicate, or the refusal code.', labelNames: ['result'], registers });
  const lag = new Histogram({ name: 'faultline_report_ingest_lag_seconds', help: 'From the agent writing a report to its acknowledgement (includes time spent in the outbox).', buckets: lagBuckets, registers });
  const refusals = new Counter({ name: 'faultline_agent_refusals_total', help: 'Handshakes and reports refused by agent authentication, by reason.', labelNames: ['reason'], registers });
  const outboxDepth = new Gauge({ name: 'faultline_agent_outbox_depth', help: 'Reports waiting in each agent\'s outbox, as last reported.', labelNames: ['cluster', 'agent'], registers });
  const outboxDropped = new Gauge({ name: 'faultline_agent_outbox_dropped', help: 'Reports each agent\'s outbox dropped because it was full, as last reported.', labelNames: ['cluster', 'agent'], registers });
  new Counter({
    name: 'faultline_cluster_evaluations_total',
    help: 'Cluster evaluations (classification, partition tracking, snapshot push) since start.',
    registers,
    collect() {
      this.reset();
      this.inc(sources.service().evaluations.count);
    },
  });
  new Counter({
    name: 'faultline_cluster_evaluation_seconds_total',
    help: 'Wall-clock time spent in cluster evaluations since start; divided by the count, the cost of one.',
    registers,
    collect() {
      this.reset();
      this.inc(sources.service().evaluations.totalMs / 1000);
    },
  });
  new Gauge({ name: 'faultline_report_write_queue_depth', help: 'Reports waiting for their database batch.', registers, collect() { this.set(sources.writeQueueDepth()); } });
  new Gauge({ name: 'faultline_agents_connected', help: 'Agents holding a control connection.', registers, collect() { this.set(sources.agentsConnected()); } });
  new Gauge({ name: 'faultline_agents_missing', help: 'Known agents away longer than the reconnect grace.', registers, collect() { this.set(sources.agentsMissing?.() ?? 0); } });
  new Gauge({
    name: 'faultline_database_up',
    help: '1 when the database answered the scrape\'s probe, else 0.',
    registers,
    async collect() {
      this.set((await sources.databaseUp()) ? 1 : 0);
    },
  });

  const agentSeries = new Set<string>();
  const openedIds = new Set<string>();
  const endedIds = new Set<string>();
  const remember = (set: Set<string>, id: string) => {
    if (set.has(id)) return false;
    if (set.size >= partitionsRememberedMax) set.delete(set.values().next().value!);
    set.add(id);
    return true;
  };

  return {
    registry,
    reportOutcome(outcome) {
      reports.inc({ result: outcome.result });
      const report = outcome.report;
      if (!report) return;
      if (outcome.result === 'stored') lag.observe(Math.max(0, (outcome.repliedAtMs - report.sentAtMs) / 1000));
      if (report.outboxDepth === undefined && report.outboxDropped === undefined) return;
      const seriesKey = `${outcome.clusterId}/${outcome.agentId}`;
      if (!agentSeries.has(seriesKey) && agentSeries.size >= metricsAgentSeriesMax) return;
      agentSeries.add(seriesKey);
      const labels = { cluster: outcome.clusterId, agent: outcome.agentId };
      if (report.outboxDepth !== undefined) outboxDepth.set(labels, report.outboxDepth);
      if (report.outboxDropped !== undefined) outboxDropped.set(labels, report.outboxDropped);
    },
    refused(reason) {
      refusals.inc({ reason });
    },
    partitionChanged(partition) {
      if (remember(openedIds, partition.id)) opened.inc({ cluster: partition.clusterId, type: partition.type });
      if (partition.endedAtMs === null || !remember(endedIds, partition.id)) return;
      duration.observe({ type: partition.type }, Math.max(0, (partition.endedAtMs - partition.startedAtMs) / 1000));
      if (partition.recoveryMs !== null) recovery.observe(partition.recoveryMs / 1000);
    },
    async render() {
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
  };
}
