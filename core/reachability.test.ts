/**
 * Proves the reachability matrix reads directions the right way round, derives
 * link states (up, down, one-way, unknown) from both directions, and splits the
 * graph into the right components; `setRow` writes a whole report as `setCell` would,
 * and `linkFromDirections` applies the same rule as `linkBetween`.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { allLinks, connectedComponents, createMatrix, linkBetween, linkFromDirections, setCell, setRow } from './reachability';

/** Builds a matrix from "who hears whom" rows: hears[a] = peers a hears. */
function matrixFrom(nodes: string[], hears: Record<string, string[]>) {
  const matrix = createMatrix(nodes);
  for (const observer of Object.keys(hears)) {
    for (const peer of nodes) {
      if (peer === observer) continue;
      setCell(matrix, observer, peer, { reachable: hears[observer]!.includes(peer), reportedAtMs: 0, sinceMs: 0, suspicion: 0 });
    }
  }
  return matrix;
}

describe('linkBetween', () => {
  const cases: { name: string; hears: Record<string, string[]>; state: string; working?: { from: string; to: string } }[] = [
    { name: 'both hear each other', hears: { a: ['b'], b: ['a'] }, state: 'up' },
    { name: 'neither hears the other', hears: { a: [], b: [] }, state: 'down' },
    { name: 'b hears a, a does not hear b: only a → b works', hears: { a: [], b: ['a'] }, state: 'one-way', working: { from: 'a', to: 'b' } },
    { name: 'a hears b only: only b → a works', hears: { a: ['b'], b: [] }, state: 'one-way', working: { from: 'b', to: 'a' } },
    { name: 'only a reported, it hears b: not evidence of a cut', hears: { a: ['b'] }, state: 'up' },
    { name: 'only a reported, it lost b: down', hears: { a: [] }, state: 'down' },
    { name: 'nobody reported', hears: {}, state: 'unknown' },
  ];
  for (const testCase of cases) {
    it(testCase.name, () => {
      const link = linkBetween(matrixFrom(['a', 'b'], testCase.hears), 'a', 'b');
      assert.equal(link.state, testCase.state);
      assert.deepEqual(link.workingDirection, testCase.working);
    });
  }
});

describe('connectedComponents', () => {
  it('a healthy cluster is one component', () => {
    const nodes = ['a', 'b', 'c'];
    const matrix = matrixFrom(nodes, { a: ['b', 'c'], b: ['a', 'c'], c: ['a', 'b'] });
    assert.deepEqual(connectedComponents(matrix.nodes, allLinks(matrix)), [['a', 'b', 'c']]);
  });

  it('split halves give two components, the larger first', () => {
    const nodes = ['a', 'b', 'c', 'd', 'e'];
    const matrix = matrixFrom(nodes, { a: ['b'], b: ['a'], c: ['d', 'e'], d: ['c', 'e'], e: ['c', 'd'] });
    assert.deepEqual(connectedComponents(matrix.nodes, allLinks(matrix)), [['c', 'd', 'e'], ['a', 'b']]);
  });

  it('a bridge keeps the graph connected although some pairs cannot talk', () => {
    const nodes = ['a', 'b', 'c'];
    const matrix = matrixFrom(nodes, { a: ['b'], b: ['a', 'c'], c: ['b'] });
    const links = allLinks(matrix);
    assert.deepEqual(connectedComponents(matrix.nodes, links), [['a', 'b', 'c']]);
    assert.deepEqual(links.filter((link) => link.state === 'down').map((link) => [link.a, link.b]), [['a', 'c']]);
  });

  it('an isolated node is a component of its own', () => {
    const nodes = ['a', 'b', 'c'];
    const matrix = matrixFrom(nodes, { a: ['b'], b: ['a'], c: [] });
    assert.deepEqual(connectedComponents(matrix.nodes, allLinks(matrix)), [['a', 'b'], ['c']]);
  });
});

describe('linkFromDirections', () => {
  it('gives what linkBetween gives for every pair of direction readings', () => {
    const readings = [true, false, undefined];
    for (const aToB of readings) {
      for (const bToA of readings) {
        const matrix = createMatrix(['a', 'b']);
        if (aToB !== undefined) setCell(matrix, 'b', 'a', { reachable: aToB, reportedAtMs: 0, sinceMs: 0, suspicion: 0 });
        if (bToA !== undefined) setCell(matrix, 'a', 'b', { reachable: bToA, reportedAtMs: 0, sinceMs: 0, suspicion: 0 });
        assert.deepEqual(linkFromDirections('a', 'b', aToB, bToA), linkBetween(matrix, 'a', 'b'), `aToB=${aToB} bToA=${bToA}`);
      }
    }
  });
});

describe('setRow', () => {
  const entries = [
    { peerId: 'c', reachable: true, sinceMs: 5, suspicion: 0.5 },
    { peerId: 'b', reachable: false, sinceMs: 7, suspicion: 9 },
  ];

  it('writes the same cells and node list as setCell per entry, and names the changed peers', () => {
    const bulk = createMatrix(['a']);
    const single = createMatrix(['a']);
    assert.deepEqual(setRow(bulk, 'a', entries, 100), ['c', 'b']);
    for (const entry of entries) {
      setCell(single, 'a', entry.peerId, { reachable: entry.reachable, reportedAtMs: 100, sinceMs: entry.sinceMs, suspicion: entry.suspicion });
    }
    assert.deepEqual(bulk, single);
    assert.deepEqual(bulk.nodes, ['a', 'b', 'c']);
  });

  it('reports only reachability changes on a rewrite, and refreshes every cell', () => {
    const matrix = createMatrix(['a', 'b', 'c']);
    setRow(matrix, 'a', entries, 100);
    const rewrite = [
      { peerId: 'c', reachable: true, sinceMs: 5, suspicion: 0.1 },
      { peerId: 'b', reachable: true, sinceMs: 200, suspicion: 0 },
    ];
    assert.deepEqual(setRow(matrix, 'a', rewrite, 200), ['b']);
    assert.deepEqual(matrix.cells.get('a')?.get('c'), { reachable: true, reportedAtMs: 200, sinceMs: 5, suspicion: 0.1 });
    assert.deepEqual(matrix.cells.get('a')?.get('b'), { reachable: true, reportedAtMs: 200, sinceMs: 200, suspicion: 0 });
    assert.deepEqual(matrix.nodes, ['a', 'b', 'c']);
  });
});
