/**
 * The contract every `PartitionStore` keeps, as named cases run against the
 * in-memory twin (server/db/memory-partition-store.test.ts) and the Prisma
 * store on real PostgreSQL (test/integration/store-contracts.test.ts).
 */
import assert from 'node:assert/strict';
import type { PartitionVerdict } from '../../core/classify-partition';
import { type PartitionStore, partitionPageMax } from './partition-repository';

const t0 = 1_700_000_000_000;

const partial = {
  partitioned: true,
  type: 'partial',
  components: [['a', 'b', 'c'], ['d', 'e']],
  majorityIndex: 0,
  cutLinks: [{ a: 'c', b: 'd', state: 'down' }],
} as unknown as PartitionVerdict;
const complete = { ...partial, type: 'complete', cutLinks: [] } as unknown as PartitionVerdict;

/** `fresh` gives a store where cluster `c1` (and `c2`) exist without partitions. */
export function partitionStoreContract(fresh: () => Promise<PartitionStore>): [string, () => Promise<void>][] {
  return [
    ['an opened partition is the cluster’s active one, with the nodes its verdict implicates and a detected event', async () => {
      const store = await fresh();
      const opened = await store.open('c1', partial, t0, 'Normal');
      assert.deepEqual(
        [opened.clusterId, opened.type, opened.state, opened.startedAtMs, opened.endedAtMs, opened.components, opened.cutLinks, opened.nodeIds, opened.outcome, opened.recoveryMs],
        ['c1', 'partial', 'Normal', t0, null, partial.components, partial.cutLinks, ['c', 'd', 'e'], null, null],
      );
      assert.deepEqual(await store.findActive('c1'), opened);
      assert.equal(await store.findActive('c2'), null);
      assert.equal(await store.findLifecycle(opened.id), null);
      const found = await store.findWithEvents(opened.id);
      assert.deepEqual(found?.partition, opened);
      assert.equal(found?.ledger, null);
      assert.deepEqual(found?.events.map((event) => [event.kind, event.state, event.cause, event.atMs]), [['detected', 'Normal', 'classified partial', t0]]);
      assert.equal(await store.findWithEvents('gone'), null);
    }],
    ['reclassifying keeps the most severe type and records the new shape', async () => {
      const store = await fresh();
      const opened = await store.open('c1', complete, t0, 'Normal');
      const changed = await store.reclassify(opened, partial, t0 + 1000);
      assert.deepEqual([changed.id, changed.type, changed.cutLinks, changed.nodeIds], [opened.id, 'complete', partial.cutLinks, ['c', 'd', 'e']]);
      const found = await store.findWithEvents(opened.id);
      assert.deepEqual(found?.events.map((event) => event.kind), ['detected', 'reclassified']);
    }],
    ['closing ends the partition with its outcome; timeline events come oldest first', async () => {
      const store = await fresh();
      const opened = await store.open('c1', partial, t0, 'Normal');
      await store.recordEvent(opened.id, t0 + 2000, 'healed', 'every link up again');
      const closed = await store.close(opened.id, t0 + 3000, 'recovered', 'verified', 1234.4);
      assert.deepEqual([closed.endedAtMs, closed.state, closed.outcome, closed.recoveryMs], [t0 + 3000, 'Normal', 'recovered', 1234]);
      assert.equal(await store.findActive('c1'), null);
      const found = await store.findWithEvents(opened.id);
      assert.deepEqual(found?.events.map((event) => [event.kind, event.cause]), [['detected', 'classified partial'], ['healed', 'every link up again'], ['ended', 'verified']]);
      await assert.rejects(store.recordEvent('gone', t0, 'healed', 'x'));
    }],
    ['a page is newest first, filtered by cluster and start, and bounded', async () => {
      const store = await fresh();
      const first = await store.open('c1', partial, t0, 'Normal');
      await store.close(first.id, t0 + 500, 'healed', 'up');
      const second = await store.open('c1', partial, t0 + 1000, 'Normal');
      const other = await store.open('c2', partial, t0 + 2000, 'Normal');
      assert.deepEqual((await store.list({ limit: 10 })).map((p) => p.id), [other.id, second.id, first.id]);
      assert.deepEqual((await store.list({ clusterId: 'c1', limit: 10 })).map((p) => p.id), [second.id, first.id]);
      assert.deepEqual((await store.list({ limit: 10, beforeMs: t0 + 1000 })).map((p) => p.id), [first.id]);
      assert.deepEqual((await store.list({ limit: 1 })).map((p) => p.id), [other.id]);
      assert.ok(partitionPageMax >= 3);
      assert.deepEqual(await store.findActive('c1'), second);
    }],
  ];
}
