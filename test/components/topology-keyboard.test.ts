/**
 * Proves the WebGL topology's keyboard walk: nodes in drawing order (side by
 * side, ids compared numerically inside a side, nodes on no side last), and each
 * key's move from a table, clamped at both ends, with the first press (but End) landing
 * on the first node; and the search box's matches: exact id first, then by prefix,
 * then anywhere, numerically, at most eight.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ClusterSnapshot } from '../../core/realtime-contract';
import { keyboardMove, keyboardNodeOrder, searchNodes } from '../../components/topology-layout';

const ids = Array.from({ length: 25 }, (_, index) => `n${index + 1}`);

test('drawing order: side by side, numeric ids, unsided last', () => {
  const snapshot = {
    nodes: ['n10', 'n2', 'n1', 'x', 'n3'].map((id) => ({ id })),
    verdict: { components: [['n3', 'n10'], ['n2', 'n1']] },
  } as unknown as ClusterSnapshot;
  assert.deepEqual(keyboardNodeOrder(snapshot), ['n3', 'n10', 'n1', 'n2', 'x']);
});

test('key moves', () => {
  const cases: [string | null, string, string | undefined][] = [
    [null, 'ArrowRight', 'n1'],
    [null, 'ArrowLeft', 'n1'],
    ['n1', 'ArrowRight', 'n2'],
    ['n1', 'ArrowDown', 'n2'],
    ['n2', 'ArrowUp', 'n1'],
    ['n1', 'ArrowLeft', 'n1'],
    ['n25', 'ArrowRight', 'n25'],
    ['n3', 'PageDown', 'n13'],
    ['n20', 'PageDown', 'n25'],
    ['n13', 'PageUp', 'n3'],
    ['n3', 'PageUp', 'n1'],
    [null, 'PageDown', 'n1'],
    [null, 'End', 'n25'],
    ['n7', 'Home', 'n1'],
    ['n7', 'End', 'n25'],
    ['n7', 'Enter', undefined],
    ['n7', 'a', undefined],
  ];
  for (const [from, key, expected] of cases) assert.equal(keyboardMove(ids, from, key), expected, `${key} from ${from}`);
  assert.equal(keyboardMove([], null, 'ArrowRight'), undefined);
});

test('node search', () => {
  const all = Array.from({ length: 1000 }, (_, index) => `n${index + 1}`);
  assert.deepEqual(searchNodes(all, 'n77'), ['n77', 'n770', 'n771', 'n772', 'n773', 'n774', 'n775', 'n776']);
  assert.deepEqual(searchNodes(all, ' N999 '), ['n999']);
  assert.deepEqual(searchNodes(['a-12', 'b-1', 'a-2'], '-1'), ['a-12', 'b-1']);
  assert.deepEqual(searchNodes(all, ''), []);
  assert.deepEqual(searchNodes(all, 'x'), []);
});
