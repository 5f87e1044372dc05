/**
 * The life of a partition through every real part: five agent processes with the
 * reference replicated store under a steady write load, real UDP, the server on
 * the real PostgreSQL. For each recovery strategy (partial → automatic; a split
 * with a majority → phased; a split with no majority → emergency, manual approval)
 * it checks that data really diverges while split, that healing leads through
 * ReconciliationMode to a verified reconciliation, that every replica's digest
 * agrees afterwards, and that the partition closes as recovered with its recovery
 * time, report, alerts and timeline stored. Prints the measured figures.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { estimateDivergenceRatio } from '../../core/digest';
import { type TestServer, bearerHeaders, callApi, startTestServer, waitFor } from '../helpers/server-harness';

describe('partition lifecycle with real agents and real data', () => {
  let test: TestServer;
  let headers: Record<string, string>;

  before(async () => {
    test = await startTestServer({
      agents: 5,
      env: { FAULTLINE_STABILITY_WINDOW_MS: '1500', FAULTLINE_DIVERGENCE_SAMPLE_MS: '500', FAULTLINE_DIVERGENCE_RATIO_MAX: '1' },
    });
    headers = await bearerHeaders(test, 'operator');
    await waitFor('5 agents reporting', () => test.server.service.connectedNodes('demo').length === 5, 60_000, 200);
    await waitFor('a whole cluster', () => {
      const snapshot = test.server.service.snapshot('demo');
      return !snapshot.verdict.partitioned && snapshot.nodes.every((node) => !node.stale);
    }, 30_000);
  });
  after(async () => {
    await test?.stop();
  });

  const prisma = () => test.server.database.prisma;

  async function replicaDivergence(): Promise<number> {
    const digests = await test.server.lifecycle.digestsOf('demo');
    return estimateDivergenceRatio([...digests.values()]);
  }

  async function runToClose(fault: { path: string; body: unknown }, approve: boolean, whileSplit?: (partitionId: string) => Promise<void>) {
    const cutAt = Date.now();
    const cut = await callApi(test.url, fault.path, { method: 'POST', body: fault.body, headers });
    assert.equal(cut.status, 200, JSON.stringify(cut.payload));
    const opened = await waitFor('partition opened', () => prisma().partition.findFirst({ where: { endedAt: null } }), 15_000);
    await waitFor('data diverged while split', async () => (await prisma().partition.findUniqueOrThrow({ where: { id: opened.id } })).divergenceMax > 0, 20_000, 200);
    await whileSplit?.(opened.id);
    const healAt = Date.now();
    await callApi(test.url, '/api/faults/heal', { method: 'POST', body: {}, headers });
    if (approve) {
      const pending = await waitFor('a recovery waiting for approval', async () =>
        (await test.server.console.recovery.list({ partitionId: opened.id, status: ['pending-approval'], limit: 1 }))[0], 20_000, 200);
      const plan = pending.plan as { quorum?: unknown; affectedNodes?: unknown[]; keysDiffering?: number };
      assert.ok(plan.quorum && Array.isArray(plan.affectedNodes), 'the dry run shows quorum arithmetic and affected nodes');
      assert.ok((plan.keysDiffering ?? 0) > 0, 'the dry run counts the keys that differ');
      await test.server.console.recovery.approve(pending.id, 'test-operator', 'checked the plan');
    }
    const closed = await waitFor('partition closed after reconciliation', async () => {
      const row = await prisma().partition.findUniqueOrThrow({ where: { id: opened.id } });
      return row.endedAt ? row : null;
    }, 60_000, 200);
    const events = await prisma().partitionEvent.findMany({ where: { partitionId: opened.id }, orderBy: { at: 'asc' } });
    const reports = await prisma().reconciliationReport.findMany({ where: { partitionId: opened.id } });
    const runs = await test.server.console.recovery.list({ partitionId: opened.id, limit: 10 });
    return { opened, closed, events, reports, runs, cutAt, healAt };
  }

  it('partial partition: automatic recovery reconciles and closes', async () => {
    const result = await runToClose({ path: '/api/faults/cut', body: { from: 'node-1', to: 'node-2' } }, false);
    assert.equal(result.closed.type, 'partial');
    assert.equal(result.closed.outcome, 'recovered');
    assert.ok(result.closed.recoveryMs !== null && result.closed.recoveryMs > 0);
    const states = result.events.filter((event) => event.kind === 'transition').map((event) => event.state);
    assert.deepEqual(states.slice(0, 2), ['PartitionDetected', 'DegradedOperation']);
    assert.ok(states.includes('ReconciliationMode'));
    assert.equal(states.at(-1), 'Normal');
    assert.equal(result.runs[0]?.strategy, 'automatic');
    assert.ok(result.reports.some((report) => report.status === 'succeeded'));
    assert.equal(await replicaDivergence(), 0, 'every replica agrees after recovery');
    const ledger = result.closed.ledger as { writesAcceptedBySide: number[]; reconciliation: { phase: string; keysTotal: number; keysSynced: number } };
    assert.ok(ledger.writesAcceptedBySide.reduce((sum, count) => sum + count, 0) > 0, 'the ledger counts writes accepted while split');
    assert.equal(ledger.reconciliation.phase, 'completed');
    assert.equal(ledger.reconciliation.keysSynced, ledger.reconciliation.keysTotal);
    process.stdout.write(`# measured (partial/automatic): divergence max ${(result.closed.divergenceMax * 100).toFixed(2)} %, recovery ${result.closed.recoveryMs} ms, reconciled ${result.reports.at(-1)?.keysCompared} keys, ${result.reports.at(-1)?.conflicts} conflicts\n`);
  });

  it('split with a majority: phased recovery rejoins the minority step by step', async () => {
    const minorityFenced = async (partitionId: string) => {
      await waitFor('the minority side fenced read-only while split', async () => {
        const row = await prisma().partition.findUniqueOrThrow({ where: { id: partitionId } });
        const fences = (row.lifecycle as { fences?: { nodeId: string; mode: string }[] } | null)?.fences ?? [];
        return ['node-4', 'node-5'].every((node) => fences.some((fence) => fence.nodeId === node && fence.mode === 'read-only'));
      }, 15_000, 200);
      const refused = await waitFor('a write on the minority refused by its fence', () =>
        test.server.service.snapshot('demo').nodes.find((node) => node.id === 'node-4')?.dataPlane?.writesRefused, 10_000, 200);
      assert.ok(refused > 0);
    };
    const result = await runToClose({ path: '/api/faults/split', body: { groups: [['node-1', 'node-2', 'node-3'], ['node-4', 'node-5']] } }, false, minorityFenced);
    assert.equal(result.closed.type, 'complete');
    assert.equal(result.closed.outcome, 'recovered');
    const run = result.runs.find((candidate) => candidate.strategy === 'phased');
    assert.ok(run, 'a phased recovery ran');
    assert.equal(run.status, 'succeeded');
    assert.equal(await replicaDivergence(), 0);
    process.stdout.write(`# measured (split/phased): divergence max ${(result.closed.divergenceMax * 100).toFixed(2)} %, recovery ${result.closed.recoveryMs} ms\n`);
  });

  it('split with no majority: emergency mode, manual approval, then recovery', async () => {
    const result = await runToClose({ path: '/api/faults/split', body: { groups: [['node-1', 'node-2'], ['node-3', 'node-4'], ['node-5']] } }, true);
    const states = result.events.filter((event) => event.kind === 'transition').map((event) => event.state);
    assert.ok(states.includes('EmergencyMode'));
    assert.equal(result.closed.outcome, 'recovered');
    const run = result.runs.find((candidate) => candidate.strategy === 'manual');
    assert.equal(run?.decidedBy, 'test-operator');
    assert.equal(run?.status, 'succeeded');
    const alerts = await prisma().alert.findMany({ where: { partitionId: result.opened.id } });
    assert.ok(alerts.some((alert) => alert.severity === 'critical'), 'emergency raised a critical alert');
    assert.ok(alerts.every((alert) => alert.status === 'resolved'), 'alerts resolve when the partition closes');
    assert.equal(await replicaDivergence(), 0);
  });
});
