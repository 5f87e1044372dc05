// Proves that hybrid logical clocks never go backwards, order a receive after its
// cause, refuse wild remote clocks, and encode to text whose order is compareHlc's.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { type Hlc, compareHlc, decodeHlc, encodeHlc, hlcFloor, hlcReceive, hlcTick, hlcZero } from './hlc';

const hlcArbitrary = fc.record({
  wallMs: fc.integer({ min: 0, max: 2 ** 45 }),
  logical: fc.integer({ min: 0, max: 1000 }),
  nodeId: fc.constantFrom('a', 'b', 'c', 'node-1'),
});

test('tick: table of cases', () => {
  const cases: { name: string; clock: Hlc; physicalMs: number; expected: Hlc }[] = [
    { name: 'physical ahead resets logical', clock: { wallMs: 10, logical: 5, nodeId: 'a' }, physicalMs: 20, expected: { wallMs: 20, logical: 0, nodeId: 'a' } },
    { name: 'same physical bumps logical', clock: { wallMs: 10, logical: 5, nodeId: 'a' }, physicalMs: 10, expected: { wallMs: 10, logical: 6, nodeId: 'a' } },
    { name: 'physical behind keeps wall', clock: { wallMs: 10, logical: 5, nodeId: 'a' }, physicalMs: 3, expected: { wallMs: 10, logical: 6, nodeId: 'a' } },
  ];
  for (const entry of cases) assert.deepEqual(hlcTick(entry.clock, entry.physicalMs), entry.expected, entry.name);
});

test('receive orders after both clocks and refuses drift', () => {
  const local = { wallMs: 100, logical: 2, nodeId: 'a' };
  const remote = { wallMs: 100, logical: 7, nodeId: 'b' };
  const received = hlcReceive(local, remote, 50);
  assert.ok(received.ok);
  assert.deepEqual(received.clock, { wallMs: 100, logical: 8, nodeId: 'a' });
  const wild = hlcReceive(local, { wallMs: 1_000_000, logical: 0, nodeId: 'b' }, 100, 1000);
  assert.equal(wild.ok, false);
});

test('property: a sequence of ticks and receives is strictly increasing and after every remote', () => {
  fc.assert(
    fc.property(
      fc.array(fc.oneof(fc.record({ physicalMs: fc.integer({ min: 0, max: 2 ** 40 }) }), fc.record({ physicalMs: fc.integer({ min: 0, max: 2 ** 40 }), remote: hlcArbitrary })), { maxLength: 50 }),
      (operations) => {
        let clock = hlcZero('a');
        for (const operation of operations) {
          const before = clock;
          if ('remote' in operation) {
            const received = hlcReceive(clock, operation.remote, operation.physicalMs, Number.MAX_SAFE_INTEGER);
            if (!received.ok) continue;
            clock = received.clock;
            assert.ok(compareHlc(clock, operation.remote) > 0 || operation.remote.nodeId === 'a');
          } else {
            clock = hlcTick(clock, operation.physicalMs);
          }
          assert.ok(compareHlc(clock, before) > 0, 'clock must move forward');
          assert.ok(clock.wallMs >= operation.physicalMs, 'clock never lags physical time');
        }
      },
    ),
  );
});

test('property: encoding preserves order and round-trips', () => {
  fc.assert(
    fc.property(hlcArbitrary, hlcArbitrary, (a, b) => {
      assert.deepEqual(decodeHlc(encodeHlc(a)), { ...a });
      const textOrder = encodeHlc(a) < encodeHlc(b) ? -1 : encodeHlc(a) > encodeHlc(b) ? 1 : 0;
      assert.equal(textOrder, Math.sign(compareHlc(a, b)));
    }),
  );
});

test('floor orders before any stamp at the same physical time', () => {
  assert.ok(compareHlc(hlcFloor(10), { wallMs: 10, logical: 0, nodeId: 'a' }) < 0);
  assert.ok(compareHlc(hlcFloor(10), { wallMs: 9, logical: 99, nodeId: 'z' }) > 0);
  assert.equal(decodeHlc('garbage'), null);
});
