/**
 * The evidence panel shows a picked node or link only while it is still there: a
 * selection made in one cluster is not carried to another, and one naming a node
 * that left the cluster is dropped (before, the old selection stayed on screen).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { selectionStillShown } from '../../components/overview';
import type { ClusterSnapshot } from '../../core/realtime-contract';

const snapshotOf = (clusterId: string, nodeIds: string[]) => ({ clusterId, nodes: nodeIds.map((id) => ({ id })) }) as unknown as ClusterSnapshot;

test('a node or link still in the same cluster stays selected', () => {
  const snapshot = snapshotOf('demo', ['node-1', 'node-2']);
  assert.deepEqual(selectionStillShown({ clusterId: 'demo', selection: { kind: 'node', id: 'node-2' } }, snapshot), { kind: 'node', id: 'node-2' });
  assert.deepEqual(selectionStillShown({ clusterId: 'demo', selection: { kind: 'link', a: 'node-1', b: 'node-2' } }, snapshot), { kind: 'link', a: 'node-1', b: 'node-2' });
});

test('a node that left, a link to it, or another cluster: nothing selected', () => {
  const snapshot = snapshotOf('demo', ['node-1', 'node-2']);
  assert.equal(selectionStillShown({ clusterId: 'demo', selection: { kind: 'node', id: 'node-3' } }, snapshot), null);
  assert.equal(selectionStillShown({ clusterId: 'demo', selection: { kind: 'link', a: 'node-1', b: 'node-3' } }, snapshot), null);
  assert.equal(selectionStillShown({ clusterId: 'other', selection: { kind: 'node', id: 'node-1' } }, snapshot), null);
  assert.equal(selectionStillShown({ clusterId: 'demo', selection: { kind: 'node', id: 'node-1' } }, null), null);
});
