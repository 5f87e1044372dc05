/**
 * Watches a cluster for one experiment: every `sampleMs` it takes the server's
 * snapshot (the recorded open partition, the live classification, each node's
 * data plane), keeps it for the validators, stores a chart sample, links every
 * partition the server records to the run and writes the partition's opening
 * and closing to the run's timeline.
 */
import type { ClusterSample, ClientOperation } from '../../core/experiments/observation';
import type { ExperimentSampleView } from '../../core/experiments/experiment-views';
import type { ClusterSnapshot } from '../../core/realtime-contract';
import type { Logger } from '../logger';
import type { ExperimentStore } from './experiment-store';

/** Most samples one run keeps in memory (one hour at one a second). */
export const observerSamplesMax = 3_600;

/** A snapshot as the validators read it. */
export function sampleOf(snapshot: ClusterSnapshot): ClusterSample {
  const partition = snapshot.activePartition;
  return {
    atMs: snapshot.atMs,
    nodes: snapshot.nodes.map((node) => ({
      id: node.id,
      connected: node.connected,
      writesAccepted: node.dataPlane?.writesAccepted ?? null,
      writesRefused: node.dataPlane?.writesRefused ?? null,
      fence: node.dataPlane?.fence?.mode ?? null,
      digestRoot: node.dataPlane?.digestRoot ?? null,
    })),
    partition: partition
      ? { id: partition.id, type: partition.type, components: partition.components, startedAtMs: partition.startedAtMs, state: partition.state, divergenceMax: partition.divergenceMax }
      : null,
    verdict: {
      type: snapshot.verdict.type,
      components: snapshot.verdict.components,
      majorityIndex: snapshot.verdict.majorityIndex,
      bridgeNodes: snapshot.verdict.bridgeNodes,
      oneWayLinks: snapshot.verdict.oneWayLinks,
      isolatedNodes: snapshot.verdict.isolatedNodes,
    },
  };
}

export class ExperimentObserver {
  readonly samples: ClusterSample[] = [];
  readonly partitionIds = new Set<string>();
  private timer: NodeJS.Timeout | null = null;
  private openPartition: string | null = null;
  private clientSeen = 0;

  constructor(
    private readonly options: {
      runId: string;
      startedAtMs: number;
      sampleMs: number;
      snapshot: () => ClusterSnapshot;
      client: () => readonly ClientOperation[];
      store: ExperimentStore;
      logger: Logger;
    },
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.sample(), this.options.sampleMs);
    this.timer.unref?.();
    void this.sample();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** The latest sample, or null before the first. */
  latest(): ClusterSample | null {
    return this.samples.at(-1) ?? null;
  }

  /** Takes one sample now (also called at the end, so the last state is seen). */
  async sample(): Promise<ClusterSample | null> {
    let sample: ClusterSample;
    try {
      sample = sampleOf(this.options.snapshot());
    } catch (error) {
      this.options.logger.warn({ err: error, runId: this.options.runId }, 'experiment sample failed');
      return null;
    }
    if (this.samples.length < observerSamplesMax) this.samples.push(sample);
    const operations = this.options.client();
    const fresh = operations.slice(this.clientSeen);
    this.clientSeen = operations.length;
    const view: ExperimentSampleView = {
      atMs: sample.atMs - this.options.startedAtMs,
      availability: fresh.length === 0 ? null : fresh.filter((op) => op.ok).length / fresh.length,
      divergence: sample.partition?.divergenceMax ?? 0,
      partitionType: sample.partition?.type ?? null,
    };
    try {
      await this.options.store.addSamples(this.options.runId, [view]);
      await this.partitionChanged(sample);
    } catch (error) {
      this.options.logger.warn({ err: error, runId: this.options.runId }, 'experiment sample not stored');
    }
    return sample;
  }

  private async partitionChanged(sample: ClusterSample): Promise<void> {
    const id = sample.partition?.id ?? null;
    if (id === this.openPartition) return;
    const { store, runId } = this.options;
    if (this.openPartition) await store.addEvent(runId, { atMs: sample.atMs, kind: 'partition-closed', message: `partition ${this.openPartition} closed: back to Normal` });
    if (sample.partition) {
      this.partitionIds.add(sample.partition.id);
      await store.linkPartition(runId, sample.partition.id);
      const sides = sample.partition.components.map((side) => `[${side.join(', ')}]`).join(' | ');
      await store.addEvent(runId, { atMs: sample.atMs, kind: 'partition-recorded', message: `partition ${sample.partition.id} recorded: ${sample.partition.type}, sides ${sides}` });
    }
    this.openPartition = id;
  }
}
