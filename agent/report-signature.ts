/**
 * The report signature, one definition for both ends: the agent signs each
 * transmission, the server verifies it. The key is derived from the *verifier*
 * (SHA-256 of the agent's token), which is all the server stores: the token itself
 * is needed to open a connection, and only a hash of it ever reaches the database.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { canonicalJson } from '../core/canonical-json';
import type { AgentReport, ReportAuth } from '../core/protocol';

/** Domain separation: this key signs reports and nothing else. */
const reportKeyLabel = 'faultline report signature v1';

/** SHA-256 of a token, hex: what the server stores to recognise it. */
export function tokenVerifier(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** The HMAC key for reports, from the verifier (hex). */
export function reportSigningKey(verifierHex: string): Buffer {
  return createHmac('sha256', Buffer.from(verifierHex, 'hex')).update(reportKeyLabel).digest();
}

function mac(report: Omit<AgentReport, 'auth'>, key: Buffer, signedAtMs: number, nonce: string): string {
  return createHmac('sha256', key).update(`${signedAtMs}\n${nonce}\n${canonicalJson(report)}`).digest('hex');
}

/** Returns a copy of `report` carrying a fresh `auth` for one transmission. */
export function signReport(report: AgentReport, key: Buffer, signedAtMs: number, nonce = randomBytes(16).toString('base64url')): AgentReport {
  const { auth: _previous, ...body } = report;
  return { ...body, auth: { signedAtMs, nonce, signature: mac(body, key, signedAtMs, nonce) } };
}

/** True when `auth` is a valid signature of `report` (without its `auth`) under `key`. */
export function hasValidSignature(report: AgentReport, auth: ReportAuth, key: Buffer): boolean {
  const { auth: _ignored, ...body } = report;
  const expected = Buffer.from(mac(body, key, auth.signedAtMs, auth.nonce), 'hex');
  const given = Buffer.from(auth.signature, 'hex');
  return expected.length === given.length && timingSafeEqual(expected, given);
}
