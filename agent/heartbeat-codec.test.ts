// Proves that the codec's hand-written body check (`bodyOf`, run for every datagram) accepts
// exactly what the zod schemas that define the format accept, over generated bodies near
// the format (right and wrong types, missing and extra fields, every tag), and that a
// datagram is still told apart as malformed, badly signed or valid, naming who it claims.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { test } from 'node:test';
import fc from 'fast-check';
import { bodyOf, bodySchemas, decodePacket, encodePacket, packetTypes } from './heartbeat-codec';

const key = 'cluster-key-0123456789';
const nodeIds = fc.oneof(fc.constantFrom('a', 'node-1', 'db_2.x', 'x'.repeat(64)), fc.string({ maxLength: 70 }));
const counts = fc.oneof(fc.nat(), fc.constantFrom(-1, 1.5, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER + 2, Number.NaN), fc.double());
const anything = fc.oneof(nodeIds, counts, fc.constant(null), fc.boolean(), fc.constantFrom('ack', 'nack'), fc.array(fc.nat(), { maxLength: 2 }));
const fieldValue = (good: fc.Arbitrary<unknown>) => fc.oneof({ weight: 4, arbitrary: good }, { weight: 1, arbitrary: anything });
const body = fc
  .record(
    {
      v: fieldValue(fc.constant(1)),
      c: fieldValue(nodeIds),
      f: fieldValue(nodeIds),
      i: fieldValue(counts),
      s: fieldValue(counts),
      t: fieldValue(counts),
      p: fieldValue(counts),
      r: fieldValue(fc.oneof(fc.constant(null), nodeIds)),
      g: fieldValue(nodeIds),
      o: fieldValue(fc.constantFrom('ack', 'nack')),
      extra: anything,
    },
    { requiredKeys: ['v', 'c', 'f', 'i', 's', 't'] },
  )
  .map((fields) => JSON.parse(JSON.stringify(fields)) as unknown);
const tags = fc.constantFrom(0, ...Object.values(packetTypes), 6, 0x10);

test('bodyOf accepts exactly what the zod schemas accept', () => {
  fc.assert(
    fc.property(tags, fc.oneof({ weight: 9, arbitrary: body }, { weight: 1, arbitrary: anything }), (tag, json) => {
      const schema = (bodySchemas as Record<number, { safeParse(value: unknown): { success: boolean; data?: unknown } }>)[tag];
      const expected = schema?.safeParse(json);
      const actual = bodyOf(tag, json);
      assert.equal(actual !== null, expected?.success ?? false, `tag ${tag}: ${JSON.stringify(json)}`);
      if (actual !== null) assert.deepEqual(actual, expected!.data);
    }),
    { numRuns: 5000 },
  );
});

test('decodePacket tells valid, malformed and badly signed datagrams apart', () => {
  const head = { clusterId: 'c1', from: 'node-2', incarnation: 7, sequence: 3, sentAtMs: 1000 };
  const valid = encodePacket(key, head, { type: 'ping', probeId: 4, relayFor: null });
  const decoded = decodePacket(key, valid);
  assert.ok(decoded.ok);
  assert.deepEqual(decoded.packet.envelope, head);
  assert.deepEqual(decoded.packet.message, { type: 'ping', probeId: 4, relayFor: null });
  assert.deepEqual(decodePacket('another-key-0123456789', valid), { ok: false, reason: 'bad-signature', claimedFrom: 'node-2' });
  // The type tag is signed too: a ping relabelled as a heartbeat does not verify.
  const relabelled = Uint8Array.from(valid);
  relabelled[0] = packetTypes.heartbeat;
  assert.deepEqual(decodePacket(key, relabelled), { ok: false, reason: 'bad-signature', claimedFrom: 'node-2' });
  // Signed with the key, but the body breaks the format (a heartbeat with a probe id): malformed, naming who it claims.
  const wrongBody = Buffer.from(JSON.stringify({ v: 1, c: 'c1', f: 'node-2', i: 7, s: 4, t: 1000, p: 1 }));
  const signature = createHmac('sha256', key).update(Buffer.of(packetTypes.heartbeat)).update(wrongBody).digest();
  assert.deepEqual(decodePacket(key, Buffer.concat([Buffer.of(packetTypes.heartbeat), signature, wrongBody])), { ok: false, reason: 'malformed', claimedFrom: 'node-2' });
  assert.deepEqual(decodePacket(key, Uint8Array.of(1, 2, 3)), { ok: false, reason: 'malformed' });
});
