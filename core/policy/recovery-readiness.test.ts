// Proves when a recovery may start: refused, with the cut links named, while any
// link between the partition's nodes is not up, or while one of them is silent;
// links outside the partition do not hold it back.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { recoveryStartRefusal, refusalLinksMax } from './recovery-readiness';

const nodeIds = ['node-1', 'node-2', 'node-3', 'node-4', 'node-5'];

test('every link up and every node reporting: it may start', () => {
  assert.equal(recoveryStartRefusal({ nodeIds, links: [], staleNodeIds: [] }), null);
});

test('a cut link between two of its nodes refuses, naming the link', () => {
  const refusal = recoveryStartRefusal({ nodeIds, links: [{ a: 'node-1', b: 'node-3', state: 'down' }], staleNodeIds: [] });
  assert.match(refusal ?? '', /still split: node-1 ✕ node-3 \(down\)\. .*heal the network first/);
});

test('one-way and unknown links count as not up; many are counted past the first few', () => {
  const links = [
    { a: 'node-1', b: 'node-4', state: 'one-way' as const },
    { a: 'node-1', b: 'node-5', state: 'unknown' as const },
    { a: 'node-2', b: 'node-4', state: 'down' as const },
    { a: 'node-2', b: 'node-5', state: 'down' as const },
    { a: 'node-3', b: 'node-4', state: 'down' as const },
    { a: 'node-3', b: 'node-5', state: 'down' as const },
  ];
  assert.match(recoveryStartRefusal({ nodeIds, links, staleNodeIds: [] }) ?? '', new RegExp(`one-way.*unknown.* and ${links.length - refusalLinksMax} more`));
});

test('links to nodes outside the partition do not hold it back; a silent member does', () => {
  assert.equal(recoveryStartRefusal({ nodeIds: ['node-1', 'node-2'], links: [{ a: 'node-1', b: 'node-9', state: 'down' }], staleNodeIds: ['node-9'] }), null);
  assert.match(recoveryStartRefusal({ nodeIds, links: [], staleNodeIds: ['node-4'] }) ?? '', /no fresh report from node-4/);
});
