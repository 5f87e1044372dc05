/**
 * Proves the report signature in core, bound to node:crypto, is byte for byte the
 * one agents and servers already use (so stored verifiers and deployed agents keep
 * working), that it refuses a changed body, a wrong key and a malformed signature,
 * and that the hex helpers round-trip.
 */
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { canonicalJson } from './canonical-json';
import type { AgentReport } from './protocol';
import { constantTimeEqual, fromHex, reportSignature, toHex } from './report-signature';

const signature = reportSignature({ createHash, createHmac });
const report: AgentReport = {
  clusterId: 'c1',
  agentId: 'n1',
  incarnation: 1,
  sequence: 7,
  sentAtMs: 1_700_000_000_000,
  heartbeatIntervalMs: 100,
  observations: [{ peerId: 'n2', reachable: true, lastHeardAtMs: 1_700_000_000_000, sinceMs: 0, suspicion: 0 }],
  evidence: [],
};
const nonce = 'AAAAAAAAAAAAAAAAAAAAAA';

describe('report signature', () => {
  it('matches the HMAC computed directly with node:crypto', () => {
    const verifier = createHash('sha256').update('fla_secret', 'utf8').digest('hex');
    const key = createHmac('sha256', Buffer.from(verifier, 'hex')).update('faultline report signature v1').digest();
    const expected = createHmac('sha256', key).update(`123\n${nonce}\n${canonicalJson(report)}`).digest('hex');
    assert.equal(signature.tokenVerifier('fla_secret'), verifier);
    assert.deepEqual(Buffer.from(signature.signingKey(verifier)), key);
    assert.equal(signature.sign(report, key, 123, nonce).auth?.signature, expected);
  });

  it('accepts its own signature and refuses a changed body, another key or a malformed signature', () => {
    const key = signature.signingKey(signature.tokenVerifier('fla_one'));
    const signed = signature.sign(report, key, 5, nonce);
    assert.ok(signature.isValid(signed, signed.auth!, key));
    assert.equal(signature.isValid({ ...signed, sequence: 8 }, signed.auth!, key), false);
    assert.equal(signature.isValid(signed, signed.auth!, signature.signingKey(signature.tokenVerifier('fla_two'))), false);
    assert.equal(signature.isValid(signed, { ...signed.auth!, signature: 'zz' }, key), false);
    assert.equal(signature.isValid(signed, { ...signed.auth!, signedAtMs: 6 }, key), false);
  });

  it('converts hex both ways and compares bytes', () => {
    const cases: [string, number[] | null][] = [['', []], ['00ff10', [0, 255, 16]], ['abc', null], ['zz', null]];
    for (const [hex, bytes] of cases) assert.deepEqual(fromHex(hex), bytes === null ? null : new Uint8Array(bytes), hex);
    assert.equal(toHex(new Uint8Array([0, 255, 16])), '00ff10');
    assert.ok(constantTimeEqual(new Uint8Array([1, 2]), new Uint8Array([1, 2])));
    assert.equal(constantTimeEqual(new Uint8Array([1, 2]), new Uint8Array([1, 3])), false);
    assert.equal(constantTimeEqual(new Uint8Array([1]), new Uint8Array([1, 2])), false);
  });
});
