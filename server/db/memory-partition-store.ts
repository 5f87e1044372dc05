/** The in-memory `PartitionStore` (unit tests): partitions and their timelines in maps, kept like the table keeps them. */
import type { PartitionVerdict } from '../../core/classify-partition';
import type { PartitionLifecycleState } from '../../core/lifecycle/partition-lifecycle';
import type { PartitionSummary } from '../../core/realtime-contract';
import type { PartitionWithTimeline, TimelineEvent } from '../../core/http-views';
import {
  type PartitionPage,
  type PartitionStore,
  involvedNodes,
  mostSevere,
  partitionPageMax,
  verdictDetail,
} from './partition-repository';

interface Entry {
  summary: PartitionSummary;
  lifecycle: PartitionLifecycleState | null;
  events: TimelineEvent[];
}

export class MemoryPartitionStore implements PartitionStore {
  private readonly entries = new Map<string, Entry>();
  private nextId = 1;
  private nextEventId = 1;

  /** Saves a partition's lifecycle (what the lifecycle store does in the server), so a restart can restore it. */
  saveLifecycle(id: string, lifecycle: PartitionLifecycleState): void {
    this.get(id).lifecycle = structuredClone(lifecycle);
  }

  private get(id: string): Entry {
    const entry = this.entries.get(id);
    if (!entry) throw new Error(`no partition with id ${id}`);
    return entry;
  }

  private event(atMs: number, kind: string, cause: string, state: string | null = null, data: unknown = null): TimelineEvent {
    return { id: String(this.nextEventId++), atMs, kind, state, cause, actor: 'system', data };
  }

  async open(clusterId: string, verdict: PartitionVerdict, atMs: number, state: string): Promise<PartitionSummary> {
    const detail = verdictDetail(verdict);
    const summary: PartitionSummary = {
      id: `memory-partition-${this.nextId++}`,
      clusterId,
      type: verdict.type ?? 'partial',
      state,
      startedAtMs: atMs,
      endedAtMs: null,
      components: detail.components,
      cutLinks: detail.cutLinks,
      nodeIds: involvedNodes(verdict),
      outcome: null,
      divergenceMax: 0,
      recoveryMs: null,
    };
    const data = structuredClone(detail);
    this.entries.set(summary.id, { summary, lifecycle: null, events: [this.event(atMs, 'detected', `classified ${verdict.type}`, state, data)] });
    return structuredClone(summary);
  }

  async reclassify(active: PartitionSummary, verdict: PartitionVerdict, atMs: number): Promise<PartitionSummary> {
    const entry = this.get(active.id);
    const detail = verdictDetail(verdict);
    entry.summary = {
      ...entry.summary,
      type: mostSevere(active.type, verdict.type ?? 'partial'),
      components: detail.components,
      cutLinks: detail.cutLinks,
      nodeIds: involvedNodes(verdict),
    };
    entry.events.push(this.event(atMs, 'reclassified', `classified ${verdict.type}`, null, structuredClone(detail)));
    return structuredClone(entry.summary);
  }

  async close(id: string, atMs: number, outcome: string, cause: string, recoveryMs: number | null = null): Promise<PartitionSummary> {
    const entry = this.get(id);
    entry.summary = { ...entry.summary, endedAtMs: atMs, state: 'Normal', outcome, recoveryMs: recoveryMs === null ? entry.summary.recoveryMs : Math.round(recoveryMs) };
    entry.events.push(this.event(atMs, 'ended', cause, 'Normal'));
    return structuredClone(entry.summary);
  }

  async recordEvent(id: string, atMs: number, kind: string, cause: string): Promise<void> {
    this.get(id).events.push(this.event(atMs, kind, cause));
  }

  async findLifecycle(id: string): Promise<PartitionLifecycleState | null> {
    const lifecycle = this.entries.get(id)?.lifecycle;
    return lifecycle ? structuredClone(lifecycle) : null;
  }

  async findActive(clusterId: string): Promise<PartitionSummary | null> {
    const open = [...this.entries.values()].map((entry) => entry.summary).filter((summary) => summary.clusterId === clusterId && summary.endedAtMs === null);
    const latest = open.sort((a, b) => b.startedAtMs - a.startedAtMs)[0];
    return latest ? structuredClone(latest) : null;
  }

  async list(options: PartitionPage): Promise<PartitionSummary[]> {
    return [...this.entries.values()]
      .map((entry) => entry.summary)
      .filter((summary) => (options.clusterId === undefined || summary.clusterId === options.clusterId) && (options.beforeMs === undefined || summary.startedAtMs < options.beforeMs))
      .sort((a, b) => b.startedAtMs - a.startedAtMs)
      .slice(0, Math.min(options.limit, partitionPageMax))
      .map((summary) => structuredClone(summary));
  }

  async findWithEvents(id: string): Promise<PartitionWithTimeline | null> {
    const entry = this.entries.get(id);
    if (!entry) return null;
    const events = [...entry.events].sort((a, b) => a.atMs - b.atMs).slice(0, 1000);
    return { partition: structuredClone(entry.summary), ledger: null, events: structuredClone(events) };
  }
}
