/**
 * Authentication and request checks shared by the HTTP API and the Socket.IO
 * handshake: who is calling (session cookie or bearer token), whether a
 * state-changing browser request is same-origin and carries the session's CSRF
 * token, and where a request came from (for the audit log).
 */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { AppError } from '../app-error';
import type { AuthService, Principal } from './auth-service';
import { type Action, can, requiredRoleByAction } from '../../core/permissions';

/** Name of the session cookie. */
export const sessionCookieName = 'faultline_session';
/** Header a browser echoes its session's CSRF token in. */
export const csrfHeaderName = 'x-csrf-token';
/** Longest cookie header parsed, in characters. */
const cookieHeaderLengthMax = 8192;

/** Reads one cookie from a Cookie header. */
export function readCookie(header: string | undefined, name: string): string | null {
  if (!header || header.length > cookieHeaderLengthMax) return null;
  for (const part of header.split(';')) {
    const index = part.indexOf('=');
    if (index > 0 && part.slice(0, index).trim() === name) {
      try {
        return decodeURIComponent(part.slice(index + 1).trim());
      } catch {
        return null;
      }
    }
  }
  return null;
}

/** The Set-Cookie value for a new session: httpOnly, SameSite=Strict, Secure behind TLS. */
export function sessionCookie(sessionId: string, maxAgeS: number, secure: boolean): string {
  return [`${sessionCookieName}=${encodeURIComponent(sessionId)}`, 'Path=/', 'HttpOnly', 'SameSite=Strict', `Max-Age=${maxAgeS}`, ...(secure ? ['Secure'] : [])].join(
    '; ',
  );
}

/** The Set-Cookie value that clears the session cookie. */
export function clearedSessionCookie(): string {
  return `${sessionCookieName}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`;
}

/** The bearer token of an Authorization header, or null. */
function bearerOf(headers: IncomingHttpHeaders): string | null {
  const value = headers.authorization;
  if (!value || !value.toLowerCase().startsWith('bearer ')) return null;
  return value.slice(7).trim() || null;
}

/**
 * The principal of a request or handshake: a bearer token when present (a wrong
 * token is refused outright, never downgraded to the cookie), else the session cookie.
 */
export async function authenticate(headers: IncomingHttpHeaders, auth: AuthService, handshakeToken?: unknown): Promise<Principal | null> {
  const bearer = bearerOf(headers) ?? (typeof handshakeToken === 'string' ? handshakeToken : null);
  if (bearer) {
    const principal = await auth.findTokenPrincipal(bearer);
    if (!principal) throw new AppError('unauthorized', 'bearer token unknown or revoked');
    return principal;
  }
  const sessionId = readCookie(headers.cookie, sessionCookieName);
  return sessionId ? auth.findSessionPrincipal(sessionId) : null;
}

/** The origin a browser request must come from: the scheme and Host it was sent to. */
export function expectedOrigin(headers: IncomingHttpHeaders, encrypted: boolean): string | null {
  const host = headers.host;
  return host ? `${encrypted ? 'https' : 'http'}://${host}` : null;
}

/**
 * Refuses a cross-site browser request: when an Origin header is present it must
 * equal the server's own origin or one of `allowedOrigins`. Requests with no Origin
 * (curl, scripts with bearer tokens) pass this check; CSRF tokens cover sessions.
 */
export function checkOrigin(headers: IncomingHttpHeaders, encrypted: boolean, allowedOrigins: readonly string[]): void {
  const origin = headers.origin;
  if (origin === undefined) return;
  if (origin === expectedOrigin(headers, encrypted) || allowedOrigins.includes(origin)) return;
  throw new AppError('forbidden', `origin ${origin.slice(0, 100)} is not allowed`);
}

function sameString(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/** For session principals, the request must echo the session's CSRF token; bearer tokens are not ambient, so they need none. */
export function checkCsrf(headers: IncomingHttpHeaders, principal: Principal): void {
  if (principal.kind !== 'session') return;
  const sent = headers[csrfHeaderName];
  if (typeof sent !== 'string' || !principal.csrfToken || !sameString(sent, principal.csrfToken)) {
    throw new AppError('forbidden', `${csrfHeaderName}: missing or wrong CSRF token`);
  }
}

/** Throws `unauthorized` without a principal and `forbidden` when its role may not take `action`. */
export function requireRole(principal: Principal | null, action: Action): Principal {
  if (!principal) throw new AppError('unauthorized', 'sign in first');
  if (!can(principal.role, action)) {
    throw new AppError('forbidden', `${action} needs the ${requiredRoleByAction[action]} role; ${principal.name} is ${principal.role}`);
  }
  return principal;
}

/** Remote address and user agent, for the audit log. */
export function describeOrigin(request: IncomingMessage): string {
  const agent = request.headers['user-agent'];
  return `${request.socket.remoteAddress ?? 'unknown'}${agent ? ` (${agent.slice(0, 120)})` : ''}`;
}
