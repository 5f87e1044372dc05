/** The in-memory `ExperimentStore` (unit tests): reports in a map, kept like the tables keep them. */
import type { ExperimentReport, ExperimentRunView } from '../../core/experiments/experiment-views';
import { type ExperimentStore, type FinishedExperiment, type NewExperimentRun, experimentEventsMax, experimentListMax, experimentSamplesMax, runViewOf } from './experiment-store';

export class MemoryExperimentStore implements ExperimentStore {
  private readonly reports = new Map<string, ExperimentReport>();

  private get(runId: string): ExperimentReport {
    const report = this.reports.get(runId);
    if (!report) throw new Error(`no experiment ${runId}`);
    return report;
  }

  async create(run: NewExperimentRun): Promise<void> {
    if (this.reports.has(run.id)) throw new Error(`experiment ${run.id} exists`);
    const { steps, mapping, notes, file, ...rest } = run;
    this.reports.set(run.id, {
      ...structuredClone(rest),
      status: 'running',
      endedAtMs: null,
      verdicts: [],
      file: structuredClone(file),
      mapping: { ...mapping },
      notes: [...notes],
      steps: steps.map((step) => ({ ...step, appliedAtMs: null })),
      verdictDetails: [],
      samples: [],
      events: [],
      partitionIds: [],
    });
  }

  async stepApplied(runId: string, index: number, atMs: number): Promise<void> {
    const step = this.get(runId).steps.find((entry) => entry.index === index);
    if (step) step.appliedAtMs = atMs;
  }

  async addEvent(runId: string, event: ExperimentReport['events'][number]): Promise<void> {
    const report = this.get(runId);
    if (report.events.length < experimentEventsMax) report.events.push({ ...event });
  }

  async addSamples(runId: string, samples: readonly ExperimentReport['samples'][number][]): Promise<void> {
    const report = this.get(runId);
    report.samples.push(...samples.slice(0, Math.max(0, experimentSamplesMax - report.samples.length)).map((sample) => ({ ...sample })));
  }

  async linkPartition(runId: string, partitionId: string): Promise<void> {
    const report = this.get(runId);
    if (!report.partitionIds.includes(partitionId)) report.partitionIds.push(partitionId);
    report.partitionIds.sort();
  }

  async finish(runId: string, finished: FinishedExperiment): Promise<void> {
    const report = this.get(runId);
    report.status = finished.status;
    report.endedAtMs = finished.endedAtMs;
    report.verdictDetails = structuredClone(finished.verdicts);
    report.verdicts = finished.verdicts.map((verdict) => ({ validator: verdict.validator, outcome: verdict.outcome }));
  }

  async listRunning(): Promise<ExperimentRunView[]> {
    return (await this.list({ limit: experimentListMax })).filter((run) => run.status === 'running');
  }

  async find(runId: string): Promise<ExperimentReport | null> {
    const report = this.reports.get(runId);
    return report ? structuredClone(report) : null;
  }

  async list(query: { clusterId?: string; limit: number }): Promise<ExperimentRunView[]> {
    return [...this.reports.values()]
      .filter((report) => query.clusterId === undefined || report.clusterId === query.clusterId)
      .sort((a, b) => b.startedAtMs - a.startedAtMs || b.id.localeCompare(a.id))
      .slice(0, Math.min(query.limit, experimentListMax))
      .map((report) => structuredClone(runViewOf(report)));
  }
}
