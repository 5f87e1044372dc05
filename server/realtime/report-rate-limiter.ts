/**
 * How fast one agent connection may send reports: a token bucket per connection,
 * so a backlog replay passes in bursts while a flood is refused (and told to
 * retry later) instead of queueing without bound.
 */

/** Reports one connection may send per second on average (a backlog replay included). */
export const agentReportsPerSecondMax = 500;
/** Reports one connection may send in a burst above the average. */
export const agentReportsBurstMax = 1000;

/** A token bucket per connection: `take` is false when the connection sends faster than allowed. */
export function reportRateLimiter(nowMs: () => number) {
  let tokens = agentReportsBurstMax;
  let refilledAtMs = nowMs();
  return {
    take(): boolean {
      const at = nowMs();
      tokens = Math.min(agentReportsBurstMax, tokens + ((at - refilledAtMs) / 1000) * agentReportsPerSecondMax);
      refilledAtMs = at;
      if (tokens < 1) return false;
      tokens -= 1;
      return true;
    },
  };
}
