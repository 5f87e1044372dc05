import assert from 'node:assert/strict';
import { test } from 'node:test';
import { canonicalDepthMax, canonicalJson } from './canonical-json';

/** The plain definition the one-pass serialiser must match byte for byte. */
function reference(value: unknown, depth = 0): string {
  if (depth > canonicalDepthMax) throw new RangeError(`value nested deeper than ${canonicalDepthMax} levels`);
  if (Array.isArray(value)) return `[${value.map((item) => reference(item ?? null, depth + 1)).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const members = Object.keys(value)
      .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${reference((value as Record<string, unknown>)[key], depth + 1)}`);
    return `{${members.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

const nested = (levels: number): unknown => (levels === 0 ? 1 : [nested(levels - 1)]);

test('canonical JSON matches the plain definition on every kind of value', () => {
  const sparse = [1, , 3];
  const values: unknown[] = [
    null, undefined, true, 0, -0, 1.5, 1e21, -1e-7, Number.NaN, Number.POSITIVE_INFINITY, '', 'a"b\\c\n\u0001', '\ud800', 'é🙂',
    [], {}, [undefined, null, () => 1], sparse, { b: 1, a: 2, c: undefined, d: () => 1 }, { z: { y: [{ x: 1, w: 'v' }] } },
    { '10': 1, '9': 2, a: 3, B: 4, é: 5, '"q"': 6 }, new Date(0), { ['\ud83d\ude42']: 1, ['\uffff']: 2 },
    nested(canonicalDepthMax),
    { clusterId: 'c', agentId: 'n1', observations: [{ peerId: 'n2', reachable: true, lastHeardAtMs: 1, sinceMs: 0, suspicion: 0.1 }], evidence: [], outboxDepth: 1 },
  ];
  for (const value of values) assert.equal(canonicalJson(value), reference(value), JSON.stringify(value));
});

test('canonical JSON refuses nesting past its limit, as the plain definition does', () => {
  assert.throws(() => reference(nested(canonicalDepthMax + 1)), RangeError);
  assert.throws(() => canonicalJson(nested(canonicalDepthMax + 1)), RangeError);
  assert.throws(() => canonicalJson(BigInt(1)), TypeError);
});

test('many distinct keys (past the quoted-key memo) still serialise right', () => {
  const wide = Object.fromEntries(Array.from({ length: 1000 }, (_, index) => [`k${(index * 7919) % 1000}"`, index]));
  assert.equal(canonicalJson(wide), reference(wide));
  assert.equal(canonicalJson(wide), reference(wide));
});
