/** The experiment client finds each node's store API from the endpoint its reports name: a wildcard host becomes the node's address; nodes without an HTTP store are left out. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ClusterSnapshot, NodeView } from '../../core/realtime-contract';
import { storeUrlsOf } from './experiment-client';

const node = (id: string, address: string | null, store: { kind: 'reference' | 'redis'; endpoint: string } | null): NodeView => ({
  id, address, connected: true, lastReportAtMs: 1, stale: false, faults: [],
  dataPlane: store ? { keyCount: 0, writesAccepted: 0, writesRefused: 0, fence: null, digestRoot: '0000000000000000', store: { ...store, role: 'primary', lagBytes: null, error: null } } : null,
});

test('store URLs come from the reports of nodes with a reference store API', () => {
  const snapshot = { nodes: [node('a', '10.0.0.1:7946', { kind: 'reference', endpoint: '127.0.0.1:7400' }), node('b', '198.51.100.67:7946', { kind: 'reference', endpoint: '0.0.0.0:7401' }), node('c', null, { kind: 'reference', endpoint: 'in-agent' }), node('d', null, { kind: 'redis', endpoint: '127.0.0.1:6379' }), node('e', null, null)] } as unknown as ClusterSnapshot;
  assert.deepEqual([...storeUrlsOf(snapshot)], [['a', 'http://127.0.0.1:7400'], ['b', 'http://198.51.100.67:7401']]);
});
