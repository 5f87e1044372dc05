/**
 * Benchmark: reconciliation time and throughput for 1k, 10k and 100k divergent keys
 * across 5 nodes. Each run splits the cluster 3 | 2, writes the divergent keys (a
 * third on both sides, so they conflict), replicates within each side, then times a
 * full in-process reconciliation (collect → resolve → sync → verify digests). Prints
 * a table and, last, one JSON line with the medians. Target: 100k in under 10 s.
 */
import { performance } from 'node:perf_hooks';
import { hlcFloor } from '../core/hlc';
import { lastWriterWins } from '../core/reconcile/resolver';
import type { VersionedEntry } from '../core/reconcile/resolver';
import type { KvStore } from '../agent/store/kv-store';
import { reconcileInProcess } from '../agent/store/reconcile-in-process';
import { createSimulatedCluster } from '../agent/store/simulated-cluster';

/** Divergent key counts measured. */
const sizes = [1_000, 10_000, 100_000];
/** Runs per size; the median is reported. */
const runsPerSize = 5;
const nodes = ['a', 'b', 'c', 'd', 'e'];
const sides = [['a', 'b', 'c'], ['d', 'e']];

function replicateWithin(stores: KvStore[], writer: KvStore, entries: VersionedEntry[]): void {
  for (const store of stores) if (store !== writer) store.receive(entries);
}

/** Builds a diverged cluster; returns the stores and the partition start. */
function divergedCluster(divergentKeys: number) {
  const cluster = createSimulatedCluster(nodes, { skewMs: [0, 3, -2, 5, -4] });
  cluster.network.partition(sides);
  const base = cluster.storeOf('a');
  for (let index = 0; index < divergentKeys; index++) base.put(`base-${index}`, 'unchanged');
  for (const store of cluster.stores) if (store !== base) store.receive(base.changedSince(null));
  cluster.clock.advance(10_000);
  const startMs = cluster.clock.nowMs();
  for (const [sideIndex, side] of sides.entries()) {
    const writer = cluster.storeOf(side[0] as string);
    const written: VersionedEntry[] = [];
    for (let index = 0; index < divergentKeys; index++) {
      const onBoth = index % 3 === 0;
      const mine = onBoth || index % 3 === sideIndex + 1;
      if (!mine) continue;
      const result = writer.put(`key-${index}`, `value-${index}-side-${sideIndex}`);
      if (result.ok) written.push({ key: `key-${index}`, value: `value-${index}-side-${sideIndex}`, hlc: result.hlc });
      if (index % 100 === 0) cluster.clock.advance(1);
    }
    replicateWithin(side.map((nodeId) => cluster.storeOf(nodeId)), writer, written);
  }
  cluster.network.heal();
  return { cluster, startMs };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

interface SizeResult {
  divergentKeys: number;
  runs: number;
  medianMs: number;
  minMs: number;
  maxMs: number;
  keysPerSecond: number;
  conflicts: number;
  bytesMoved: number;
  verified: boolean;
}

function measure(divergentKeys: number): SizeResult {
  const times: number[] = [];
  let last: ReturnType<typeof reconcileInProcess> | null = null;
  for (let run = 0; run < runsPerSize; run++) {
    const { cluster, startMs } = divergedCluster(divergentKeys);
    const startedAt = performance.now();
    last = reconcileInProcess(cluster.stores, {
      partitionId: `bench-${divergentKeys}-${run}`,
      since: hlcFloor(startMs),
      resolver: lastWriterWins,
      majorityNodes: sides[0] ?? null,
      nowMs: () => performance.now(),
    });
    times.push(performance.now() - startedAt);
  }
  const medianMs = median(times);
  const report = last?.run.report;
  return {
    divergentKeys,
    runs: runsPerSize,
    medianMs: Math.round(medianMs),
    minMs: Math.round(Math.min(...times)),
    maxMs: Math.round(Math.max(...times)),
    keysPerSecond: Math.round(divergentKeys / (medianMs / 1000)),
    conflicts: report?.conflictCount ?? 0,
    bytesMoved: report?.bytesMoved ?? 0,
    verified: last?.run.phase === 'completed',
  };
}

const results = sizes.map(measure);
console.table(results);
const target = results.find((result) => result.divergentKeys === 100_000);
console.log(JSON.stringify({ bench: 'reconcile', nodes: nodes.length, results, target100kUnder10s: target !== undefined && target.medianMs < 10_000 && target.verified }));
