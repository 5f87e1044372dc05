/**
 * How long a sign-in must wait after failures: pure arithmetic, the auth service
 * stores the counts. Two counters, so that neither a guesser nor a sprayer is
 * unlimited and nobody can lock an account for everyone:
 * - per (name, source): a few free failures, then a delay that doubles with each
 *   further failure up to a ceiling; once it has passed the right password works,
 *   and other sources are not affected by it;
 * - per source: a budget of failures across all names within a window, so that
 *   spraying one password over many names runs out.
 */

/** The throttle's limits. */
export interface SignInThrottlePolicy {
  /** Failures per (name, source) that cost no delay; each one after them does. */
  freeFailures: number;
  /** Delay after the first failure beyond the free ones (ms); doubles with each further one. */
  delayMsBase: number;
  /** Longest delay per (name, source) (ms). */
  delayMsMax: number;
  /** Failures are forgotten when none happened for this long (ms), and the source budget refills after it. */
  windowMs: number;
  /** Failures one source may make across all names within `windowMs`. */
  sourceFailuresMax: number;
}

/** The defaults: 5 free failures, then waits of 1 s, 2 s, 4 s … up to 15 min; 50 failures per source per 15 min. */
export const defaultSignInThrottlePolicy: SignInThrottlePolicy = {
  freeFailures: 5,
  delayMsBase: 1000,
  delayMsMax: 15 * 60_000,
  windowMs: 15 * 60_000,
  sourceFailuresMax: 50,
};

/** What is stored per counter. */
export interface ThrottleCount {
  failures: number;
  /** When the counter last started from zero (ms). */
  windowStartedAtMs: number;
  /** When the last failure happened (ms). */
  lastFailedAtMs: number;
}

/** Which counter: a (name, source) pair, or a source across all names. */
export type ThrottleKind = 'name' | 'source';

/**
 * The count after one more failure at `nowMs`. A (name, source) counter starts
 * over once it has been quiet for `windowMs` (a guesser who keeps going keeps
 * waiting); a source's budget refills `windowMs` after its first failure.
 */
export function countFailure(kind: ThrottleKind, current: ThrottleCount | null, nowMs: number, policy: SignInThrottlePolicy): ThrottleCount {
  const since = kind === 'name' ? current?.lastFailedAtMs : current?.windowStartedAtMs;
  if (!current || since === undefined || nowMs - since >= policy.windowMs) return { failures: 1, windowStartedAtMs: nowMs, lastFailedAtMs: nowMs };
  return { failures: current.failures + 1, windowStartedAtMs: current.windowStartedAtMs, lastFailedAtMs: nowMs };
}

/** Until when a counter's next sign-in must wait (ms since epoch; `nowMs` or earlier means no wait). */
export function blockedUntilMs(kind: ThrottleKind, count: ThrottleCount, policy: SignInThrottlePolicy): number {
  if (kind === 'source') return count.failures >= policy.sourceFailuresMax ? count.windowStartedAtMs + policy.windowMs : count.lastFailedAtMs;
  if (count.failures <= policy.freeFailures) return count.lastFailedAtMs;
  const doublings = Math.min(30, count.failures - policy.freeFailures - 1);
  return count.lastFailedAtMs + Math.min(policy.delayMsMax, policy.delayMsBase * 2 ** doublings);
}
