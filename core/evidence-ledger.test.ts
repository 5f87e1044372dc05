// Proves the evidence ledger and the wire schema it writes for: a contradiction is
// counted per accused node, untrusted kinds per origin (source, link, named node);
// past its bound of origins untrusted traffic is summed under `*` and never crowds out
// a contradiction; merging two ledgers keeps those bounds; the schema accepts what
// older agents send, refuses a contradiction that names nobody and a source that is
// not "host:port".
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EvidenceLedger, accusingEntriesMax, mergeEvidence, untrustedEntriesMax, untrustedOverflowSource } from './evidence-ledger';
import { EvidenceSchema, isAccusingEvidenceKind, reportEvidenceMax } from './protocol';

test('counts contradictions per node and untrusted kinds per origin, contradictions first', () => {
  const ledger = new EvidenceLedger();
  ledger.record({ kind: 'replay', source: '198.51.100.9:4000', namedId: 'n4' }, 10);
  ledger.record({ kind: 'replay', source: '198.51.100.9:4000', namedId: 'n4' }, 20);
  ledger.record({ kind: 'replay', source: '198.51.100.9:4001', namedId: 'n4' }, 30);
  ledger.record({ kind: 'contradiction', namedId: 'n2', source: '198.51.100.12:7946', linkPeerId: 'n2' }, 40);
  ledger.record({ kind: 'contradiction', namedId: 'n2' }, 50);
  ledger.record({ kind: 'contradiction' }, 60);
  assert.deepEqual(ledger.drain(), [
    { peerId: 'n2', kind: 'contradiction', count: 2, lastAtMs: 50 },
    { kind: 'replay', count: 2, lastAtMs: 20, peerId: 'n4', source: '198.51.100.9:4000' },
    { kind: 'replay', count: 1, lastAtMs: 30, peerId: 'n4', source: '198.51.100.9:4001' },
  ]);
  assert.deepEqual(ledger.drain(), []);
});

test('a spray from many sources is summed under * and cannot push out a contradiction', () => {
  const ledger = new EvidenceLedger();
  for (let port = 0; port < untrustedEntriesMax + 500; port += 1) ledger.record({ kind: 'bad-signature', source: `198.51.100.9:${port}`, namedId: 'n2' }, port);
  ledger.record({ kind: 'contradiction', namedId: 'n3' }, 1000);
  const items = ledger.drain();
  assert.equal(items.length, untrustedEntriesMax + 2);
  assert.deepEqual(items[0], { peerId: 'n3', kind: 'contradiction', count: 1, lastAtMs: 1000 });
  assert.deepEqual(items.at(-1), { kind: 'bad-signature', count: 500, lastAtMs: untrustedEntriesMax + 499, source: untrustedOverflowSource });
  assert.ok(items.length <= reportEvidenceMax);
  for (const item of items) assert.ok(EvidenceSchema.safeParse(item).success, JSON.stringify(item));
});

test('merging keeps the bounds and sums the same origin', () => {
  const one = new EvidenceLedger();
  const two = new EvidenceLedger();
  for (let node = 0; node < accusingEntriesMax; node += 1) one.record({ kind: 'contradiction', namedId: `n${node}` }, 1);
  for (let port = 0; port < untrustedEntriesMax; port += 1) {
    one.record({ kind: 'malformed', source: `198.51.100.9:${port}` }, 1);
    two.record({ kind: 'malformed', source: `198.51.100.8:${port}` }, 2);
  }
  two.record({ kind: 'contradiction', namedId: 'n0' }, 3);
  const merged = mergeEvidence(one.drain(), two.drain());
  assert.ok(merged.length <= reportEvidenceMax, `${merged.length} items`);
  assert.deepEqual(merged[0], { peerId: 'n0', kind: 'contradiction', count: 2, lastAtMs: 3 });
  assert.equal(merged.filter((item) => item.kind === 'contradiction').length, accusingEntriesMax);
  assert.deepEqual(merged.at(-1), { kind: 'malformed', count: untrustedEntriesMax, lastAtMs: 2, source: untrustedOverflowSource });
});

test('the wire schema: older shapes pass, a contradiction must name its node, a source is host:port', () => {
  const cases: Array<{ item: unknown; ok: boolean }> = [
    { item: { peerId: 'node-2', kind: 'bad-signature', count: 6, lastAtMs: 1 }, ok: true },
    { item: { kind: 'replay', source: '198.51.100.9:4000', linkPeerId: 'node-4', peerId: 'node-4', count: 6, lastAtMs: 1 }, ok: true },
    { item: { kind: 'malformed', source: '[fe80::1%eth0]:7946', count: 1, lastAtMs: 1 }, ok: true },
    { item: { kind: 'malformed', source: '*', count: 1, lastAtMs: 1 }, ok: true },
    { item: { kind: 'contradiction', peerId: 'node-2', count: 2, lastAtMs: 1 }, ok: true },
    { item: { kind: 'contradiction', source: '198.51.100.9:4000', count: 2, lastAtMs: 1 }, ok: false },
    { item: { kind: 'replay', source: 'a b', count: 1, lastAtMs: 1 }, ok: false },
    { item: { kind: 'replay', source: '', count: 1, lastAtMs: 1 }, ok: false },
    { item: { kind: 'replay', verified: true, count: 1, lastAtMs: 1 }, ok: false },
  ];
  for (const { item, ok } of cases) assert.equal(EvidenceSchema.safeParse(item).success, ok, JSON.stringify(item));
  assert.deepEqual((['bad-signature', 'malformed', 'replay', 'forged-sender', 'contradiction'] as const).filter(isAccusingEvidenceKind), ['contradiction']);
});
