// Proves the exact divergence ratio on key sets (missing keys count, agreement is 0)
// and that the divergence ledger tallies writes per side and bounds its samples.
import assert from 'node:assert/strict';
import { describe, it, test } from 'node:test';
import { createDivergenceLedger, divergenceRatio, divergenceSinceRatio, ledgerSamplesMax, recordDivergence, recordWrites } from './divergence';

const v = (wallMs: number) => ({ hlc: { wallMs, logical: 0, nodeId: 'a' } });

test('divergence ratio: table of cases', () => {
  const cases = [
    { name: 'identical replicas', replicas: [new Map([['k', v(1)]]), new Map([['k', v(1)]])], expected: 0 },
    { name: 'one of two keys differs', replicas: [new Map([['k', v(1)], ['j', v(1)]]), new Map([['k', v(2)], ['j', v(1)]])], expected: 0.5 },
    { name: 'a key missing on one replica differs', replicas: [new Map([['k', v(1)]]), new Map()], expected: 1 },
    { name: 'empty replicas', replicas: [new Map(), new Map()], expected: 0 },
    { name: 'one replica', replicas: [new Map([['k', v(1)]])], expected: 0 },
  ];
  for (const entry of cases) assert.equal(divergenceRatio(entry.replicas), entry.expected, entry.name);
});

test('ledger tallies writes by side and bounds samples', () => {
  let ledger = createDivergenceLedger('p1', [['a', 'b', 'c'], ['d', 'e']]);
  ledger = recordWrites(ledger, 'a', 3);
  ledger = recordWrites(ledger, 'e', 2);
  ledger = recordWrites(ledger, 'stranger', 5);
  assert.deepEqual(ledger.writesAcceptedBySide, [3, 2]);
  for (let index = 0; index < ledgerSamplesMax + 10; index++) ledger = recordDivergence(ledger, index, 2);
  assert.equal(ledger.divergenceSamples.length, ledgerSamplesMax);
  assert.equal(ledger.divergenceSamples[0]?.atMs, 10);
  assert.equal(ledger.divergenceSamples[0]?.ratio, 1);
});

describe('divergenceSinceRatio', () => {
  const h = (wallMs: number, node = 'n') => ({ wallMs, logical: 0, nodeId: node });
  it('counts a key changed on one side only, and not one changed identically everywhere', () => {
    const result = divergenceSinceRatio(
      [
        { nodeId: 'a', changes: [{ key: 'x', hlc: h(1, 'a') }, { key: 'same', hlc: h(5, 'a') }] },
        { nodeId: 'b', changes: [{ key: 'same', hlc: h(5, 'a') }] },
      ],
      100,
    );
    assert.deepEqual(result, { ratio: 0.01, differingKeys: 1 });
  });
  it('is 0 for a single replica or an empty key space, and at most 1', () => {
    assert.equal(divergenceSinceRatio([{ nodeId: 'a', changes: [{ key: 'x', hlc: h(1) }] }], 10).ratio, 0);
    assert.equal(divergenceSinceRatio([{ nodeId: 'a', changes: [] }, { nodeId: 'b', changes: [] }], 0).ratio, 0);
    const many = divergenceSinceRatio([{ nodeId: 'a', changes: [{ key: 'x', hlc: h(1) }, { key: 'y', hlc: h(2) }] }, { nodeId: 'b', changes: [] }], 1);
    assert.equal(many.ratio, 1);
  });
  it('compares the latest version of each key per replica', () => {
    const result = divergenceSinceRatio(
      [
        { nodeId: 'a', changes: [{ key: 'k', hlc: h(1) }, { key: 'k', hlc: h(9) }] },
        { nodeId: 'b', changes: [{ key: 'k', hlc: h(9) }] },
      ],
      10,
    );
    assert.equal(result.differingKeys, 0);
  });
});
