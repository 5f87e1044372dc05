/**
 * Who may use the operations routes that issue and revoke agent credentials: a
 * hook asked for each request. It fails closed until the composition root
 * installs a real one.
 */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** Decides whether an HTTP request comes from an admin; returns the actor's name or null. */
export type AdminCheck = (request: IncomingMessage) => Promise<{ actor: string } | null>;

/** The default admin check: refuses everyone (fail closed) until a real one is installed. */
export const denyAllAdminCheck: AdminCheck = async () => null;

/**
 * A stop-gap admin check: `Authorization: Bearer <token>` equal to the configured
 * admin token. The operator console replaces it with its sessions and roles.
 */
export function bearerAdminCheck(adminToken: string | undefined): AdminCheck {
  if (!adminToken) return denyAllAdminCheck;
  const expected = Buffer.from(adminToken);
  return async (request) => {
    const header = request.headers.authorization ?? '';
    const given = Buffer.from(header.startsWith('Bearer ') ? header.slice(7) : '');
    return given.length === expected.length && timingSafeEqual(given, expected) ? { actor: 'admin-token' } : null;
  };
}
