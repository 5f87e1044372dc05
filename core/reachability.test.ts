/**
 * Proves the reachability matrix reads directions the right way round, derives
 * link states (up, down, one-way, unknown) from both directions, and splits the
 * graph into the right components.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { allLinks, connectedComponents, createMatrix, linkBetween, setCell } from './reachability';

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
