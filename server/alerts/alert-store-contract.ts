/**
 * The contract every `AlertStore` keeps, as test cases a caller runs against one
 * implementation: the in-memory twin (server/alerts/memory-alert-store.test.ts)
 * and the Prisma one on real PostgreSQL (test/integration/store-contracts.test.ts).
 */
import assert from 'node:assert/strict';
import type { Incident } from '../../core/lifecycle/incident';
import type { AlertStore, NewAlert } from './alert-store';

const t0 = 1_700_000_000_000;

const incident = (overrides: Partial<Incident> = {}): Incident => ({
  status: 'firing', severity: 'warning', title: 'partition', firedAtMs: t0, acknowledgedAtMs: null, acknowledgedBy: null, note: null, resolvedAtMs: null, resolvedBy: null, entries: [], ...overrides,
});

/** Named cases; `fresh` gives an empty store whose cluster `c1` (and partitions `p1`, `p2` in it) exist. */
export function alertStoreContract(fresh: () => Promise<AlertStore>): [string, () => Promise<void>][] {
  const alert = (overrides: Partial<NewAlert> = {}): NewAlert => ({ clusterId: 'c1', partitionId: 'p1', rule: 'partition-detected', ...incident(), ...overrides });
  return [
    ['insert then find returns every field', async () => {
      const store = await fresh();
      const entries = [{ atMs: t0, rule: 'partition-detected', severity: 'warning' as const, title: 'partition', link: null }, { atMs: t0 + 1, rule: 'recovery-pending', severity: 'warning' as const, title: 'waits', link: '/recovery?run=r1' }];
      const saved = await store.insert(alert({ note: 'n', severity: 'critical', entries }));
      assert.deepEqual(await store.find(saved.id), saved);
      assert.deepEqual({ ...saved, id: '' }, { id: '', ...alert({ note: 'n', severity: 'critical', entries }) });
      assert.equal(await store.find('missing'), null);
    }],
    ['one alert per partition and rule', async () => {
      const store = await fresh();
      const saved = await store.insert(alert());
      assert.deepEqual(await store.findForPartition('p1', 'partition-detected'), saved);
      assert.equal(await store.findForPartition('p1', 'emergency-mode'), null);
      await assert.rejects(store.insert(alert()));
    }],
    ['update is compare-and-set on status and acknowledgement time', async () => {
      const store = await fresh();
      const saved = await store.insert(alert());
      const acknowledged = incident({ status: 'acknowledged', acknowledgedAtMs: t0 + 5, acknowledgedBy: 'alice', note: 'looking' });
      assert.equal(await store.update(saved.id, { status: ['acknowledged'] }, acknowledged), null);
      const updated = await store.update(saved.id, { status: ['firing'] }, acknowledged);
      assert.deepEqual(updated, { ...saved, ...acknowledged });
      assert.equal(await store.update(saved.id, { status: ['firing'] }, incident()), null, 'the second of two racing updates loses');
      assert.equal(await store.update(saved.id, { status: ['acknowledged'], acknowledgedAtMs: t0 + 6 }, incident()), null);
      assert.equal((await store.update(saved.id, { status: ['acknowledged'], acknowledgedAtMs: t0 + 5 }, incident()))?.status, 'firing');
    }],
    ['list filters, searches case-insensitively, pages backwards, newest first', async () => {
      const store = await fresh();
      const a = await store.insert(alert({ title: 'Disk Split', firedAtMs: t0 }));
      const b = await store.insert(alert({ rule: 'emergency-mode', firedAtMs: t0 + 10, status: 'resolved', resolvedAtMs: t0 + 11, resolvedBy: 'x' }));
      const c = await store.insert(alert({ partitionId: 'p2', firedAtMs: t0 + 20, note: 'SPLIT brain' }));
      const ids = (alerts: { id: string }[]) => alerts.map((row) => row.id);
      assert.deepEqual(ids(await store.list({ limit: 10 })), [c.id, b.id, a.id]);
      assert.deepEqual(ids(await store.list({ limit: 10, status: ['resolved'] })), [b.id]);
      assert.deepEqual(ids(await store.list({ limit: 10, partitionId: 'p1' })), [b.id, a.id]);
      assert.deepEqual(ids(await store.list({ limit: 10, search: 'split' })), [c.id, a.id]);
      assert.deepEqual(ids(await store.list({ limit: 10, search: 'EMERGENCY' })), [b.id]);
      assert.deepEqual(ids(await store.list({ limit: 10, beforeMs: t0 + 20 })), [b.id, a.id]);
      assert.deepEqual(ids(await store.list({ limit: 1 })), [c.id]);
      assert.deepEqual(ids(await store.list({ limit: 10, clusterId: 'other' })), []);
    }],
    ['open alerts: by partition, partition-less rule and prefix, stale acknowledgements', async () => {
      const store = await fresh();
      const open = await store.insert(alert());
      await store.insert(alert({ rule: 'r2', status: 'resolved', resolvedAtMs: t0, resolvedBy: 'x' }));
      const missing = await store.insert(alert({ partitionId: null, rule: 'agent-missing:n1' }));
      const stale = await store.insert(alert({ partitionId: null, rule: 'agent-missing:n2', status: 'acknowledged', acknowledgedAtMs: t0, acknowledgedBy: 'a' }));
      const ids = (alerts: { id: string }[]) => alerts.map((row) => row.id).sort();
      assert.deepEqual(ids(await store.listOpen({ partitionId: 'p1' })), [open.id]);
      assert.deepEqual(ids(await store.listOpen({ rulePrefix: 'agent-missing:', partitionless: true })), ids([missing, stale]));
      assert.deepEqual(ids(await store.listOpen({ clusterId: 'c1', rule: 'agent-missing:n1', partitionless: true })), [missing.id]);
      assert.deepEqual(ids(await store.listOpen({ acknowledgedBeforeMs: t0 + 1 })), [stale.id]);
      assert.deepEqual(ids(await store.listOpen({ acknowledgedBeforeMs: t0 })), []);
      assert.deepEqual(await store.findOpenForRule('c1', 'agent-missing:n1'), missing);
      assert.equal(await store.findOpenForRule('c1', 'partition-detected'), null, 'a partition alert is not a partition-less one');
    }],
    ['counts open alerts by status', async () => {
      const store = await fresh();
      await store.insert(alert());
      await store.insert(alert({ rule: 'b', status: 'acknowledged', acknowledgedAtMs: t0, acknowledgedBy: 'a' }));
      await store.insert(alert({ rule: 'c', status: 'resolved', resolvedAtMs: t0, resolvedBy: 'a' }));
      assert.deepEqual(await store.countOpen(), { firing: 1, acknowledged: 1 });
      assert.deepEqual(await store.countOpen('other'), { firing: 0, acknowledged: 0 });
    }],
  ];
}
