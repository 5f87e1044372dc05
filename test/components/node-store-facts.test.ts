/**
 * The node panel names the node's store: kind, endpoint and role, its fence with the
 * writes refused, its key count and replication lag, and the store's last error (the
 * bad-input messages an operator must see, such as an unreachable Redis).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { EvidencePanel } from '../../components/evidence-panel';
import type { ClusterSnapshot } from '../../core/realtime-contract';

const snapshotWith = (dataPlane: ClusterSnapshot['nodes'][number]['dataPlane']) => ({
  clusterId: 'c',
  nodes: [{ id: 'node-1', address: '127.0.0.1:7946', connected: true, stale: false, lastReportAtMs: 1000, faults: [], dataPlane }],
  links: [],
  verdict: { components: [['node-1']], majorityIndex: 0, evidence: [], untrustedTraffic: [], conditions: [] },
}) as unknown as ClusterSnapshot;

test('a fenced Redis primary with lag and an error', () => {
  const html = renderToStaticMarkup(createElement(EvidencePanel, {
    snapshot: snapshotWith({
      keyCount: 42, writesAccepted: 40, writesRefused: 7, fence: { partitionId: 'p1', mode: 'read-only' }, digestRoot: '0123456789abcdef',
      store: { kind: 'redis', role: 'primary', endpoint: '10.0.0.5:6379', lagBytes: 512, error: 'cannot reach redis at 10.0.0.5:6379: connect ECONNREFUSED' },
    }),
    selection: { kind: 'node', id: 'node-1' },
    nowMs: 2000,
  }));
  assert.match(html, /redis at 10\.0\.0\.5:6379, primary/);
  assert.match(html, /read-only \(writes refused: 7\)/);
  assert.match(html, /42 keys, 40 writes accepted, replicas 512 bytes behind/);
  assert.match(html, /cannot reach redis at 10\.0\.0\.5:6379/);
});

test('an unfenced reference store shows no store error', () => {
  const html = renderToStaticMarkup(createElement(EvidencePanel, {
    snapshot: snapshotWith({ keyCount: 1, writesAccepted: 1, writesRefused: 0, fence: null, digestRoot: '0123456789abcdef', store: { kind: 'reference', role: 'primary', endpoint: 'in-agent', lagBytes: null, error: null } }),
    selection: { kind: 'node', id: 'node-1' },
    nowMs: 2000,
  }));
  assert.match(html, /reference at in-agent, primary/);
  assert.doesNotMatch(html, /Store error/);
});
