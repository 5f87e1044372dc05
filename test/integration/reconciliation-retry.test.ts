/**
 * The reconciliation driver against real reference stores (agent/store/kv-store.ts)
 * through the agent's own data-plane executor: a replica that refuses for a moment
 * after a heal (as an old Redis primary does while Sentinel demotes it) is retried
 * after a backoff and the run completes; retried at once, the same replica used up
 * every attempt and the run escalated.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { NodeId } from '../../core/protocol';
import { lastWriterWins } from '../../core/reconcile/resolver';
import { executeDataPlaneCommand } from '../../agent/data-plane-executor';
import { KvStore, createStoreAdapter } from '../../agent/store/kv-store';
import { createLogger } from '../../server/logger';
import { type AgentRequester, ReconciliationDriver, reconcileRetryDelayMs } from '../../server/recovery/reconciliation-driver';

/** Three diverged replicas; `n1` answers `unavailable` until `busyForMs` have passed since the first request. */
function world(busyForMs: number) {
  const stores = new Map<NodeId, KvStore>(['n1', 'n2', 'n3'].map((nodeId) => [nodeId, new KvStore({ nodeId, nowMs: Date.now })]));
  stores.get('n1')!.put('minority-key', 'written on the cut-off side');
  stores.get('n2')!.put('majority-key', 'written on the majority');
  let firstAtMs: number | null = null;
  let refused = 0;
  const request: AgentRequester = async (_clusterId, nodeId, command) => {
    firstAtMs ??= Date.now();
    if (nodeId === 'n1' && Date.now() - firstAtMs < busyForMs) {
      refused += 1;
      return { ok: false, code: 'unavailable', message: 'redis is not connected' };
    }
    return executeDataPlaneCommand(createStoreAdapter(stores.get(nodeId)!), nodeId, command);
  };
  return { stores, request, refusals: () => refused };
}

const input = { clusterId: 'c1', partitionId: 'p1', runId: 'r1', nodeIds: ['n1', 'n2', 'n3'], majorityNodes: null, since: null, resolver: lastWriterWins, attemptsMax: 3 };

test('a replica busy for a moment after the heal is retried after a backoff, and the run completes', async () => {
  const { stores, request, refusals } = world(300);
  const driver = new ReconciliationDriver(request, createLogger('silent'), Date.now, (attempt) => 200 * 2 ** (attempt - 2));
  const run = await driver.drive(input);
  assert.equal(run.phase, 'completed', run.failure ?? '');
  assert.ok(refusals() > 0, 'n1 did refuse at first');
  for (const store of stores.values()) {
    assert.equal(store.get('minority-key')?.value, 'written on the cut-off side');
    assert.equal(store.get('majority-key')?.value, 'written on the majority');
  }
});

test('without a wait between attempts the same moment of refusal uses them all up', async () => {
  const { request } = world(300);
  const driver = new ReconciliationDriver(request, createLogger('silent'), Date.now, () => 0);
  const run = await driver.drive(input);
  assert.equal(run.phase, 'escalated');
  assert.match(run.failure ?? '', /after 3 attempts/);
});

test('the default backoff doubles from 1 s and stops at 10 s', () => {
  assert.deepEqual([2, 3, 4, 5, 6, 9].map(reconcileRetryDelayMs), [1000, 2000, 4000, 8000, 10_000, 10_000]);
});
