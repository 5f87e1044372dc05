/**
 * The report signature, one definition for both ends: the agent signs each
 * transmission, the server verifies it. The key is derived from the *verifier*
 * (SHA-256 of the agent's token), which is all the server stores: the token itself
 * is needed to open a connection, and only a hash of it ever reaches the database.
 *
 * Pure: the hash functions come in as an argument (node:crypto in the agent and
 * the server), so this module runs wherever core must run, the browser included.
 */
import { canonicalJson } from './canonical-json';
import type { AgentReport, ReportAuth } from './protocol';

/** Domain separation: this key signs reports and nothing else. */
const reportKeyLabel = 'faultline report signature v1';

/** One running hash: feed it text, then read the digest. */
export interface Digester {
  update(data: string): Digester;
  digest(): Uint8Array;
}

/** The hash library the signature is built from; node:crypto's `{ createHash, createHmac }` is one. */
export interface HashLibrary {
  createHash(algorithm: 'sha256'): Digester;
  createHmac(algorithm: 'sha256', key: Uint8Array): Digester;
}

/** The signature's operations, bound to one hash library. */
export interface ReportSignature {
  /** SHA-256 of a token, hex: what the server stores to recognise it. */
  tokenVerifier(token: string): string;
  /** The HMAC key for reports, from the verifier (hex). */
  signingKey(verifierHex: string): Uint8Array;
  /** A copy of `report` carrying a fresh `auth` for one transmission (`nonce`: 16 random bytes, base64url). */
  sign(report: AgentReport, key: Uint8Array, signedAtMs: number, nonce: string): AgentReport;
  /** True when `auth` is a valid signature of `report` (without its `auth`) under `key`. */
  isValid(report: AgentReport, auth: ReportAuth, key: Uint8Array): boolean;
}

/** Lowercase hex of `bytes`. */
export function toHex(bytes: Uint8Array): string {
  let hex = '';
  for (const byte of bytes) hex += byte.toString(16).padStart(2, '0');
  return hex;
}

/** The value of one hex digit's character code, or -1. */
function hexDigit(code: number): number {
  if (code >= 48 && code <= 57) return code - 48;
  if (code >= 97 && code <= 102) return code - 87;
  if (code >= 65 && code <= 70) return code - 55;
  return -1;
}

/** Bytes of a hex string, or null when it is not an even run of hex digits. */
export function fromHex(hex: string): Uint8Array | null {
  if (hex.length % 2 !== 0) return null;
  const bytes = new Uint8Array(hex.length / 2);
  for (let index = 0; index < bytes.length; index += 1) {
    const high = hexDigit(hex.charCodeAt(index * 2));
    const low = hexDigit(hex.charCodeAt(index * 2 + 1));
    if (high < 0 || low < 0) return null;
    bytes[index] = high * 16 + low;
  }
  return bytes;
}

/** Compares two byte strings in time that depends on their length only, so a forger learns nothing from timing. */
export function constantTimeEqual(left: Uint8Array, right: Uint8Array): boolean {
  if (left.length !== right.length) return false;
  let difference = 0;
  for (let index = 0; index < left.length; index += 1) difference |= left[index]! ^ right[index]!;
  return difference === 0;
}

/** The signature's operations over `hashes`. */
export function reportSignature(hashes: HashLibrary): ReportSignature {
  const mac = (body: Omit<AgentReport, 'auth'>, key: Uint8Array, signedAtMs: number, nonce: string) =>
    hashes.createHmac('sha256', key).update(`${signedAtMs}\n${nonce}\n${canonicalJson(body)}`).digest();
  return {
    tokenVerifier: (token) => toHex(hashes.createHash('sha256').update(token).digest()),
    signingKey: (verifierHex) => hashes.createHmac('sha256', fromHex(verifierHex) ?? new Uint8Array()).update(reportKeyLabel).digest(),
    sign(report, key, signedAtMs, nonce) {
      const { auth: _previous, ...body } = report;
      return { ...body, auth: { signedAtMs, nonce, signature: toHex(mac(body, key, signedAtMs, nonce)) } };
    },
    isValid(report, auth, key) {
      const { auth: _ignored, ...body } = report;
      const given = fromHex(auth.signature);
      return given !== null && constantTimeEqual(mac(body, key, auth.signedAtMs, auth.nonce), given);
    },
  };
}
