/**
 * The contract every `RecoveryStore` keeps, as named cases run against the
 * in-memory twin (server/recovery/memory-recovery-store.test.ts) and the Prisma
 * store on real PostgreSQL (test/integration/store-contracts.test.ts).
 */
import assert from 'node:assert/strict';
import type { NewRecoveryRun, RecoveryStore } from './recovery-store';

const t0 = 1_700_000_000_000;

/** `fresh` gives an empty store where partitions `p1` and `p2` of cluster `c1` exist, with sides [[a, b, c], [d, e]], majority 0. */
export function recoveryStoreContract(fresh: () => Promise<RecoveryStore>): [string, () => Promise<void>][] {
  const run = (overrides: Partial<NewRecoveryRun> = {}): NewRecoveryRun => ({
    partitionId: 'p1', strategy: 'manual', status: 'pending-approval', plan: { quorum: 3 }, phased: null, requestedBy: 'olga', createdAtMs: t0, startedAtMs: null, ...overrides,
  });
  return [
    ['insert then find gives the run with its cluster and no decision yet', async () => {
      const store = await fresh();
      const saved = await store.insert(run());
      assert.deepEqual(await store.find(saved.id), saved);
      assert.deepEqual({ ...saved, id: '' }, { id: '', clusterId: 'c1', decidedBy: null, decidedAtMs: null, reason: null, endedAtMs: null, ...run() });
      assert.equal(await store.find('00000000-0000-0000-0000-000000000000'), null);
    }],
    ['a phased run keeps its plan; other strategies have none', async () => {
      const store = await fresh();
      const phased = await store.insert(run({ strategy: 'phased', status: 'running', phased: { status: 'pending', groups: [['d']] }, startedAtMs: t0 }));
      assert.deepEqual([phased.phased, phased.startedAtMs], [{ status: 'pending', groups: [['d']] }, t0]);
      const manual = await store.insert(run({ partitionId: 'p2' }));
      assert.equal(manual.phased, null);
    }],
    ['transition applies only from the expected statuses', async () => {
      const store = await fresh();
      const saved = await store.insert(run());
      assert.equal(await store.transition(saved.id, ['approved'], { status: 'running' }), null);
      const approved = await store.transition(saved.id, ['pending-approval'], { status: 'approved', decidedBy: 'vera', decidedAtMs: t0 + 1, reason: 'ok' });
      assert.deepEqual(approved, { ...saved, status: 'approved', decidedBy: 'vera', decidedAtMs: t0 + 1, reason: 'ok' });
      assert.equal(await store.transition(saved.id, ['pending-approval'], { status: 'rejected' }), null, 'the second of two decisions loses');
      assert.equal((await store.transition(saved.id, ['approved'], { status: 'succeeded', endedAtMs: t0 + 2 }))?.endedAtMs, t0 + 2);
    }],
    ['findOpen and list filter by status, partition and cluster, newest first', async () => {
      const store = await fresh();
      const old = await store.insert(run({ status: 'aborted' }));
      const open = await store.insert(run({ createdAtMs: t0 + 10 }));
      const other = await store.insert(run({ partitionId: 'p2', status: 'approved', strategy: 'automatic', createdAtMs: t0 + 20 }));
      assert.equal((await store.findOpen('p1', ['pending-approval', 'approved']))?.id, open.id);
      assert.equal(await store.findOpen('p1', ['running']), null);
      const ids = (runs: { id: string }[]) => runs.map((row) => row.id);
      assert.deepEqual(ids(await store.list({ limit: 10 })), [other.id, open.id, old.id]);
      assert.deepEqual(ids(await store.list({ limit: 10, partitionId: 'p1' })), [open.id, old.id]);
      assert.deepEqual(ids(await store.list({ limit: 10, status: ['approved', 'aborted'] })), [other.id, old.id]);
      assert.deepEqual(ids(await store.list({ limit: 10, clusterId: 'c1' })), [other.id, open.id, old.id]);
      assert.deepEqual(ids(await store.list({ limit: 10, clusterId: 'elsewhere' })), []);
      assert.deepEqual(ids(await store.list({ limit: 1 })), [other.id]);
    }],
    ['partition sides for the dry run', async () => {
      const store = await fresh();
      assert.deepEqual(await store.partitionSides('p1'), { clusterId: 'c1', type: 'complete', sides: [['a', 'b', 'c'], ['d', 'e']], majorityIndex: 0, divergenceMax: 0, strategy: null });
      assert.equal(await store.partitionSides('nope'), null);
    }],
  ];
}
