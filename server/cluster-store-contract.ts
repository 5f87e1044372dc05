/**
 * The contract every `ClusterStore` keeps, as named cases run against the
 * in-memory twin (server/memory-cluster-store.test.ts) and the Prisma store on
 * real PostgreSQL (test/integration/store-contracts.test.ts).
 */
import assert from 'node:assert/strict';
import type { ClusterStore } from './cluster-store';

const t0 = 1_700_000_000_000;

/** `fresh` gives a store where clusters `k1`, `k2` and `k3` do not exist. */
export function clusterStoreContract(fresh: () => Promise<ClusterStore>): [string, () => Promise<void>][] {
  return [
    ['a cluster is created once; later upserts keep its name and change only the demo flag', async () => {
      const store = await fresh();
      assert.deepEqual(await store.upsertCluster('k1', {}), { id: 'k1', name: 'k1', demo: false });
      assert.deepEqual(await store.upsertCluster('k1', { name: 'other' }), { id: 'k1', name: 'k1', demo: false });
      assert.deepEqual(await store.upsertCluster('k1', { demo: true }), { id: 'k1', name: 'k1', demo: true });
      assert.deepEqual(await store.upsertCluster('k2', { name: 'Second', demo: true }), { id: 'k2', name: 'Second', demo: true });
    }],
    ['saved clusters are listed oldest first, bounded', async () => {
      const store = await fresh();
      for (const id of ['k2', 'k1', 'k3']) await store.upsertCluster(id, {});
      const ids = (await store.clusterIds(1000)).filter((id) => id.startsWith('k'));
      assert.deepEqual(ids, ['k2', 'k1', 'k3']);
      assert.equal((await store.clusterIds(1)).length, 1);
    }],
    ['a node hello creates or updates the node of its cluster only', async () => {
      const store = await fresh();
      await store.upsertCluster('k1', {});
      await store.upsertCluster('k2', {});
      await store.upsertNode({ clusterId: 'k1', id: 'b', address: '10.0.0.2:7000', incarnation: 1, seenAtMs: t0 });
      await store.upsertNode({ clusterId: 'k1', id: 'a', address: '10.0.0.1:7000', incarnation: 1, seenAtMs: t0 });
      await store.upsertNode({ clusterId: 'k1', id: 'b', address: '10.0.0.9:7000', incarnation: 2, seenAtMs: t0 + 1000 });
      assert.deepEqual(await store.nodes('k1'), [{ id: 'a', address: '10.0.0.1:7000' }, { id: 'b', address: '10.0.0.9:7000' }]);
      assert.deepEqual(await store.nodes('k2'), []);
      await assert.rejects(store.upsertNode({ clusterId: 'k3', id: 'a', address: '10.0.0.1:7000', incarnation: 1, seenAtMs: t0 }));
    }],
  ];
}
