/**
 * The contract every `LifecycleStore` keeps, as named cases run against the
 * in-memory twin (server/recovery/memory-lifecycle-store.test.ts) and the Prisma
 * store on real PostgreSQL (test/integration/store-contracts.test.ts).
 */
import assert from 'node:assert/strict';
import { createPartitionLifecycle } from '../../core/lifecycle/partition-lifecycle';
import { defaultClusterPolicy } from '../../core/policy/cluster-policy';
import { createDivergenceLedger } from '../../core/reconcile/divergence';
import type { LifecycleStore } from './lifecycle-store';

const t0 = 1_700_000_000_000;

/** `fresh` gives a store where open partition `p1` of cluster `c1` exists (state Normal, divergence max 0, started at t0) and `gone` does not. */
export function lifecycleStoreContract(fresh: () => Promise<LifecycleStore>): [string, () => Promise<void>][] {
  return [
    ['the saved state is the summary’s state', async () => {
      const store = await fresh();
      const lifecycle = { ...createPartitionLifecycle('p1', 'c1', defaultClusterPolicy), state: 'DegradedOperation' as const };
      await store.saveState('p1', lifecycle);
      assert.equal((await store.findSummary('p1'))?.state, 'DegradedOperation');
      assert.equal(await store.findSummary('gone'), null);
    }],
    ['divergence max only rises', async () => {
      const store = await fresh();
      await store.raiseDivergenceMax('p1', 0.4);
      await store.raiseDivergenceMax('p1', 0.2);
      assert.equal((await store.findSummary('p1'))?.divergenceMax, 0.4);
    }],
    ['closing as recovered ends the partition with its recovery time', async () => {
      const store = await fresh();
      const closed = await store.closeRecovered('p1', t0 + 5000, 1234.4);
      assert.deepEqual([closed.endedAtMs, closed.state, closed.outcome, closed.recoveryMs], [t0 + 5000, 'Normal', 'recovered', 1234]);
      assert.deepEqual(await store.findSummary('p1'), closed);
    }],
    ['timeline entries belong to a partition that exists; ledgers, samples and reports are kept', async () => {
      const store = await fresh();
      await store.appendTransition({ partitionId: 'p1', from: 'Normal', to: 'PartitionDetected', name: 'partition-detected', cause: 'split', actor: { kind: 'system' }, atMs: t0 });
      await store.appendDecision({ partitionId: 'p1', decision: 'recovery-approved', actor: 'olga', reason: 'ok', atMs: t0 });
      await store.saveLedger('p1', createDivergenceLedger('p1', [['a'], ['b']]));
      await store.recordSamples([{ clusterId: 'c1', partitionId: 'p1', name: 'divergence_ratio', value: 0.1, atMs: t0 }, { clusterId: 'c1', name: 'active_partitions', value: 1, atMs: t0 }]);
      const report = { partitionId: 'p1', recoveryRunId: null, status: 'succeeded' as const, keysCompared: 3, conflicts: 0, bytesMoved: 10, durationMs: 5, attempts: 1, detail: {} };
      await store.recordReconciliation(report);
      await assert.rejects(store.appendTransition({ partitionId: 'gone', from: 'Normal', to: 'PartitionDetected', name: 'partition-detected', cause: 'x', actor: { kind: 'system' }, atMs: t0 }));
    }],
  ];
}
