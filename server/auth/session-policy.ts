/**
 * How long a browser session lives: an absolute lifetime from sign-in, and an idle
 * timeout that ends a session nobody has used for a while (an unattended console).
 * Activity is every request the session authenticates (HTTP and Socket.IO
 * handshakes); it is written to the database at most once per touch interval, so
 * that the read on every request stays a read. A live dashboard that only receives
 * updates is not activity: an unattended wall screen is signed out like any other.
 */

/** The session settings, from the server's configuration. */
export interface SessionPolicy {
  /** A session ends this long after sign-in, used or not (ms). */
  lifetimeMs: number;
  /** A session nobody used for this long is refused (ms). */
  idleTimeoutMs: number;
  /** Activity is written at most this often per session (ms); a session can end up to this much before `idleTimeoutMs` of true silence. */
  touchIntervalMs: number;
}

/** Defaults: a working day, an hour idle, one write a minute. */
export const sessionPolicyDefault: SessionPolicy = { lifetimeMs: 12 * 60 * 60 * 1000, idleTimeoutMs: 60 * 60 * 1000, touchIntervalMs: 60 * 1000 };

/** What to do with a stored session on a request: refuse it, use it, or use it and write its activity. */
export type SessionJudgement = 'expired' | 'idle' | 'touch' | 'fresh';

/** Judges a session from its stored expiry and last activity (both ms since epoch) at `nowMs`. */
export function judgeSession(session: { expiresAtMs: number; lastSeenAtMs: number }, policy: SessionPolicy, nowMs: number): SessionJudgement {
  if (session.expiresAtMs <= nowMs) return 'expired';
  if (session.lastSeenAtMs + policy.idleTimeoutMs <= nowMs) return 'idle';
  return nowMs - session.lastSeenAtMs >= policy.touchIntervalMs ? 'touch' : 'fresh';
}
