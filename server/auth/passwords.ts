/**
 * Password hashing with node:crypto scrypt (no native addon). Stored form:
 * `scrypt$N$r$p$saltBase64url$hashBase64url`, so parameters can be raised later
 * without invalidating existing hashes.
 */
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

/** scrypt cost parameters: N = 2^15 with r = 8 takes ~50 ms and 32 MiB here, the OWASP minimum. */
const scryptCost = { N: 2 ** 15, r: 8, p: 1 } as const;
/** Memory scrypt may use; must exceed 128 * N * r bytes. */
const scryptMemoryBytesMax = 64 * 1024 * 1024;
/** Length of the derived key, in bytes. */
const hashBytes = 32;
/** Length of the random salt, in bytes. */
const saltBytes = 16;
/** Longest password accepted; bounds the work one sign-in attempt can cause. */
export const passwordLengthMax = 256;
/** Shortest password accepted for new accounts. */
export const passwordLengthMin = 10;

function derive(password: string, salt: Buffer, cost: { N: number; r: number; p: number }): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFKC'), salt, hashBytes, { ...cost, maxmem: scryptMemoryBytesMax }, (error, key) =>
      error ? reject(error) : resolve(key),
    );
  });
}

/** Hashes a password for storage. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(saltBytes);
  const key = await derive(password, salt, scryptCost);
  return ['scrypt', scryptCost.N, scryptCost.r, scryptCost.p, salt.toString('base64url'), key.toString('base64url')].join('$');
}

/** True when `password` matches the stored hash; false for any malformed hash. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt' || password.length > passwordLengthMax) return false;
  const [N, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
  if (![N, r, p].every(Number.isSafeInteger)) return false;
  const expected = Buffer.from(parts[5]!, 'base64url');
  const key = await derive(password, Buffer.from(parts[4]!, 'base64url'), { N, r, p });
  return key.length === expected.length && timingSafeEqual(key, expected);
}

/** A random password for the generated first admin: 18 bytes, 24 URL-safe characters. */
export function generatePassword(): string {
  return randomBytes(18).toString('base64url');
}

/** A dummy hash compared against when a user does not exist, so timing does not reveal names. */
export const dummyPasswordHash = `scrypt$${scryptCost.N}$${scryptCost.r}$${scryptCost.p}$${Buffer.alloc(saltBytes).toString('base64url')}$${Buffer.alloc(hashBytes).toString('base64url')}`;
