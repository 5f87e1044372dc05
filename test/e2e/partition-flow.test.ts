/**
 * End to end through every real part: the server on the real PostgreSQL, five
 * agent processes exchanging real UDP heartbeats, a dashboard Socket.IO client.
 * Cutting a link through the JSON API must record a partition in the database
 * and push it to the dashboard; healing must end it (once the lifecycle has
 * reconciled the replicas). A corrupting link shows as a link failing integrity
 * (untrusted traffic), never as byzantine. Prints the measured detection and heal
 * latencies.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ClusterSnapshot } from '../../core/realtime-contract';
import { type TestServer, callApi, connectDashboard, startTestServer, waitFor } from '../helpers/server-harness';

describe('partition flow with real agents', () => {
  let test: TestServer;
  let dashboard: Awaited<ReturnType<typeof connectDashboard>>;

  before(async () => {
    test = await startTestServer({ agents: 5, env: { FAULTLINE_STABILITY_WINDOW_MS: '500', FAULTLINE_DIVERGENCE_RATIO_MAX: '1' } });
    await waitFor('5 agents reporting', async () => {
      const health = await callApi<{ agentsConnected: number }>(test.url, '/api/health');
      return health.payload.ok && health.payload.data.agentsConnected === 5;
    }, 60_000, 200);
    dashboard = await connectDashboard(test.url, 'demo');
    assert.equal(dashboard.first.ok, true);
    await waitFor('a whole cluster with every node reporting', () => {
      const latest: ClusterSnapshot | null = dashboard.updates.at(-1) ?? (dashboard.first.ok ? (dashboard.first.data as ClusterSnapshot) : null);
      return latest && !latest.verdict.partitioned && latest.nodes.every((node) => !node.stale) && latest.nodes.length === 5;
    }, 30_000);
  });
  after(async () => {
    dashboard?.close();
    await test?.stop();
  });

  it('a cut link becomes a stored, pushed partition; healing ends it', async () => {
    const prisma = test.server.database.prisma;
    assert.equal(await prisma.partition.count({ where: { endedAt: null } }), 0, 'no partition before the cut');

    const cutAt = Date.now();
    const cut = await callApi(test.url, '/api/faults/cut', { method: 'POST', body: { from: 'node-1', to: 'node-2' } });
    assert.equal(cut.status, 200, JSON.stringify(cut.payload));

    const pushed = await waitFor('partition pushed to the dashboard', () =>
      dashboard.partitions.find((partition) => partition.endedAtMs === null), 10_000);
    const detectedMs = Date.now() - cutAt;
    assert.equal(pushed.type, 'partial', 'one cut link in a full mesh leaves the graph connected');
    assert.deepEqual(pushed.cutLinks.map((link) => [link.a, link.b, link.state]), [['node-1', 'node-2', 'down']]);

    const stored = await prisma.partition.findUniqueOrThrow({ where: { id: pushed.id }, include: { events: true } });
    assert.equal(stored.endedAt, null);
    assert.deepEqual(stored.nodeIds, ['node-1', 'node-2']);
    assert.ok(stored.events.some((event) => event.kind === 'detected'));

    const latest = dashboard.updates.at(-1)!;
    assert.equal(latest.verdict.partitioned, true);
    const seqs = dashboard.updates.map((update) => update.seq);
    assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b), 'updates arrive in sequence order');

    const healAt = Date.now();
    const heal = await callApi(test.url, '/api/faults/heal', { method: 'POST', body: {} });
    assert.equal(heal.status, 200);
    const ended = await waitFor('partition ended', () =>
      dashboard.partitions.find((partition) => partition.id === pushed.id && partition.endedAtMs !== null), 40_000);
    const healedMs = Date.now() - healAt;
    assert.equal(ended.outcome, 'recovered', 'a healed partition ends once its data is reconciled');
    const closed = await prisma.partition.findUniqueOrThrow({ where: { id: pushed.id }, include: { events: true } });
    assert.ok(closed.endedAt, 'the end is stored');
    assert.ok(closed.events.some((event) => event.kind === 'ended'));
    process.stdout.write(`# measured: cut → partition pushed ${detectedMs} ms; heal → partition ended ${healedMs} ms (heartbeat 200 ms)\n`);
  });

  it('isolating a node is a complete partition with the node alone on its side', async () => {
    const isolate = await callApi(test.url, '/api/faults/isolate', { method: 'POST', body: { node: 'node-5' } });
    assert.equal(isolate.status, 200);
    const partition = await waitFor('complete partition', () =>
      dashboard.partitions.find((candidate) => candidate.endedAtMs === null && candidate.type === 'complete'), 10_000);
    assert.deepEqual(partition.components, [['node-1', 'node-2', 'node-3', 'node-4'], ['node-5']]);
    await callApi(test.url, '/api/faults/heal', { method: 'POST', body: {} });
    await waitFor('isolation ended', () =>
      dashboard.partitions.find((candidate) => candidate.id === partition.id && candidate.endedAtMs !== null), 40_000);
  });

  it('a corrupting link shows as a link failing integrity, never byzantine, with the evidence of the node that received the bad packets', async () => {
    const degrade = await callApi(test.url, '/api/faults/degrade', { method: 'POST', body: { from: 'node-3', to: 'node-4', corruptRatio: 1 } });
    assert.equal(degrade.status, 200, JSON.stringify(degrade.payload));
    const verdict = await waitFor('untrusted traffic on the link node-3 → node-4', () => {
      const current = test.server.service.snapshot('demo').verdict;
      return current.untrustedTraffic.some((group) => group.observerId === 'node-4' && group.linkPeerId === 'node-3' && group.kinds.includes('bad-signature')) ? current : null;
    }, 20_000, 100);
    assert.deepEqual(verdict.byzantine, { nodes: [], links: [] }, 'a corrupting link accuses nobody');
    assert.notEqual(verdict.type, 'byzantine');
    assert.ok(verdict.evidence.some((entry) => entry.observerId === 'node-4' && entry.subjectId === 'node-3' && entry.claim === 'untrusted:bad-signature'));
    const badInput = await callApi(test.url, '/api/faults/degrade', { method: 'POST', body: { from: 'node-3', to: 'node-4', corruptRatio: 2 } });
    assert.equal(badInput.status, 400);
    assert.match(!badInput.payload.ok ? badInput.payload.message : '', /corruptRatio/);
    await callApi(test.url, '/api/faults/heal', { method: 'POST', body: {} });
  });
});
