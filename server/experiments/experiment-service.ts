/**
 * What the API asks of experiments beyond the runner: stored reports and their
 * exports (JSON, JUnit XML), coverage of the partition shapes, and the scenario
 * file that reproduces a recorded partition.
 */
import type { CoverageView, ExperimentReport, ExperimentRunView } from '../../core/experiments/experiment-views';
import { experimentJunitXml } from '../../core/experiments/report-export';
import { reproducePartition } from '../../core/experiments/reproduce-partition';
import { coverageOf } from '../../core/experiments/scenario-shapes';
import type { PartitionWithTimeline } from '../../core/http-views';
import type { NodeId } from '../../core/protocol';
import { AppError } from '../app-error';
import { type ExperimentStore, experimentListMax } from './experiment-store';

/** An export, ready to send. */
export interface ExperimentExport {
  contentType: string;
  filename: string;
  body: string;
}

export class ExperimentService {
  constructor(
    private readonly store: ExperimentStore,
    private readonly partitions: { get(id: string): Promise<PartitionWithTimeline>; clusterNodes(clusterId: string): NodeId[] },
    private readonly nowMs: () => number = Date.now,
  ) {}

  list(query: { clusterId?: string; limit: number }): Promise<ExperimentRunView[]> {
    return this.store.list(query);
  }

  async report(id: string): Promise<ExperimentReport> {
    const report = await this.store.find(id);
    if (!report) throw new AppError('not_found', `no experiment ${id}`);
    return report;
  }

  async export(id: string, format: 'json' | 'junit'): Promise<ExperimentExport> {
    const report = await this.report(id);
    const base = `experiment-${report.scenario}-${report.id.slice(0, 8)}`;
    if (format === 'junit') return { contentType: 'application/xml; charset=utf-8', filename: `${base}.junit.xml`, body: experimentJunitXml(report) };
    return { contentType: 'application/json; charset=utf-8', filename: `${base}.json`, body: `${JSON.stringify(report, null, 2)}\n` };
  }

  async coverage(clusterId: string): Promise<CoverageView> {
    return { clusterId, shapes: coverageOf(await this.store.list({ clusterId, limit: experimentListMax })) };
  }

  /** The scenario file reproducing a recorded partition's shape and timing on its cluster's nodes. */
  async reproduce(partitionId: string): Promise<Record<string, unknown>> {
    const { partition } = await this.partitions.get(partitionId);
    return reproducePartition(
      { id: partition.id, type: partition.type, components: partition.components, cutLinks: partition.cutLinks, nodeIds: partition.nodeIds, startedAtMs: partition.startedAtMs, endedAtMs: partition.endedAtMs },
      this.partitions.clusterNodes(partition.clusterId),
      this.nowMs(),
    );
  }
}
