/**
 * The contract every `ExperimentStore` keeps, as cases run against the in-memory
 * twin (memory-experiment-store.test.ts) and the Prisma store on real PostgreSQL
 * (test/integration/store-contracts.test.ts).
 */
import assert from 'node:assert/strict';
import type { ExperimentVerdict } from '../../core/experiments/observation';
import type { ExperimentStore, NewExperimentRun } from './experiment-store';

const t0 = 1_700_000_000_000;

const newRun = (id: string, overrides: Partial<NewExperimentRun> = {}): NewExperimentRun => ({
  id,
  clusterId: 'c1',
  scenario: 'split-halves',
  startedBy: 'alice',
  startedAtMs: t0,
  file: { name: 'split-halves', nodes: 2 },
  mapping: { n1: 'a', n2: 'b' },
  notes: ['a note'],
  shapes: ['halves'],
  affectedNodes: ['a'],
  steps: [{ index: 0, atMs: 0, description: 'whole' }, { index: 1, atMs: 5000, description: 'split' }],
  ...overrides,
});

const verdicts: ExperimentVerdict[] = [
  { validator: 'detection', outcome: 'pass', summary: 'detected', evidence: { detectedAfterMs: 1200 } },
  { validator: 'consistency', outcome: 'fail', summary: 'lost 1', evidence: { lostWriteCount: 1 } },
  { validator: 'recovery', outcome: 'skipped', summary: 'nothing', evidence: {} },
];

/** Named cases; `fresh` gives an empty store whose cluster `c1` (with partitions `p1`, `p2`) exists. */
export function experimentStoreContract(fresh: () => Promise<ExperimentStore>): [string, () => Promise<void>][] {
  return [
    ['a run is stored whole and found again', async () => {
      const store = await fresh();
      await store.create(newRun('00000000-0000-4000-8000-000000000001'));
      await store.stepApplied('00000000-0000-4000-8000-000000000001', 1, t0 + 5010);
      await store.addEvent('00000000-0000-4000-8000-000000000001', { atMs: t0 + 5010, kind: 'step', message: 'split' });
      await store.addSamples('00000000-0000-4000-8000-000000000001', [{ atMs: 1000, availability: 1, divergence: 0, partitionType: null }, { atMs: 6000, availability: 0.5, divergence: 0.2, partitionType: 'complete' }]);
      await store.linkPartition('00000000-0000-4000-8000-000000000001', 'p1');
      await store.linkPartition('00000000-0000-4000-8000-000000000001', 'p1');
      const running = await store.find('00000000-0000-4000-8000-000000000001');
      assert.equal(running?.status, 'running');
      assert.deepEqual((await store.listRunning()).map((run) => run.id), ['00000000-0000-4000-8000-000000000001']);
      await store.finish('00000000-0000-4000-8000-000000000001', { status: 'failed', endedAtMs: t0 + 30_000, verdicts });
      const report = await store.find('00000000-0000-4000-8000-000000000001');
      assert.deepEqual(report, {
        id: '00000000-0000-4000-8000-000000000001', clusterId: 'c1', scenario: 'split-halves', status: 'failed', startedBy: 'alice', startedAtMs: t0, endedAtMs: t0 + 30_000,
        shapes: ['halves'], affectedNodes: ['a'], verdicts: verdicts.map((verdict) => ({ validator: verdict.validator, outcome: verdict.outcome })),
        file: { name: 'split-halves', nodes: 2 }, mapping: { n1: 'a', n2: 'b' }, notes: ['a note'],
        steps: [{ index: 0, atMs: 0, appliedAtMs: null, description: 'whole' }, { index: 1, atMs: 5000, appliedAtMs: t0 + 5010, description: 'split' }],
        verdictDetails: verdicts,
        samples: [{ atMs: 1000, availability: 1, divergence: 0, partitionType: null }, { atMs: 6000, availability: 0.5, divergence: 0.2, partitionType: 'complete' }],
        events: [{ atMs: t0 + 5010, kind: 'step', message: 'split' }],
        partitionIds: ['p1'],
      });
      assert.deepEqual(await store.listRunning(), []);
      assert.equal(await store.find('00000000-0000-4000-8000-00000000dead'), null);
    }],
    ['runs are listed newest first, by cluster, within the limit', async () => {
      const store = await fresh();
      await store.create(newRun('00000000-0000-4000-8000-000000000001', { startedAtMs: t0 }));
      await store.create(newRun('00000000-0000-4000-8000-000000000002', { startedAtMs: t0 + 1000, clusterId: 'c1' }));
      await store.create(newRun('00000000-0000-4000-8000-000000000003', { startedAtMs: t0 + 2000, scenario: 'bridge' }));
      assert.deepEqual((await store.list({ limit: 10 })).map((run) => run.id.slice(-1)), ['3', '2', '1']);
      assert.deepEqual((await store.list({ limit: 2, clusterId: 'c1' })).map((run) => run.id.slice(-1)), ['3', '2']);
      assert.deepEqual(await store.list({ limit: 10, clusterId: 'nope' }), []);
    }],
    ['finishing again replaces the verdicts', async () => {
      const store = await fresh();
      await store.create(newRun('00000000-0000-4000-8000-000000000001'));
      await store.finish('00000000-0000-4000-8000-000000000001', { status: 'failed', endedAtMs: t0 + 1, verdicts });
      await store.finish('00000000-0000-4000-8000-000000000001', { status: 'error', endedAtMs: t0 + 2, verdicts: [verdicts[0]!] });
      const report = await store.find('00000000-0000-4000-8000-000000000001');
      assert.equal(report?.status, 'error');
      assert.deepEqual(report?.verdictDetails, [verdicts[0]]);
    }],
  ];
}
