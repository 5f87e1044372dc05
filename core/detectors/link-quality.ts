/**
 * How well heartbeats from one peer arrive: their loss ratio and their one-way delay,
 * from the heartbeats themselves (each carries its sender's send time). Loss is the
 * share of the heartbeats expected in the last `windowIntervals` intervals that did
 * not arrive (the expected interval is the sender's heartbeat interval, times the
 * rounds a bounded schedule needs to reach every peer); delay is the median of
 * (arrival − send time), so it includes any clock offset between the two hosts (none
 * on one machine, where the demo runs). Pure: times come in.
 */

/** Intervals the figures look back over. */
export const linkQualityWindowIntervals = 20;
/** Most arrivals kept per peer (bounds memory whatever the rate). */
export const linkQualityArrivalsMax = 64;

/** What the observer can say about one peer's heartbeats now. */
export interface LinkFigures {
  /** Median one-way delay of the recent heartbeats (ms), or null when none arrived in the window. */
  delayMs: number | null;
  /** Share (0–1) of the heartbeats expected in the window that did not arrive, or null before two intervals were watched. */
  lossRatio: number | null;
}

/** The recent heartbeats of one peer. */
export class LinkQuality {
  private readonly arrivals: { atMs: number; delayMs: number }[] = [];
  private watchedFromMs: number;

  /** `expectedIntervalMs`: how often the peer's heartbeats should arrive; watching starts at `startedAtMs`. */
  constructor(
    private readonly expectedIntervalMs: number,
    startedAtMs: number,
  ) {
    this.watchedFromMs = startedAtMs;
  }

  /** A heartbeat sent at `sentAtMs` (sender's clock) arrived at `atMs`. */
  heard(atMs: number, sentAtMs: number): void {
    this.arrivals.push({ atMs, delayMs: Math.max(0, atMs - sentAtMs) });
    if (this.arrivals.length > linkQualityArrivalsMax) this.arrivals.shift();
  }

  /** Loss and delay over the window ending at `nowMs`. */
  figures(nowMs: number): LinkFigures {
    const windowMs = linkQualityWindowIntervals * this.expectedIntervalMs;
    const fromMs = Math.max(this.watchedFromMs, nowMs - windowMs);
    while (this.arrivals.length > 0 && this.arrivals[0]!.atMs < nowMs - windowMs) this.arrivals.shift();
    const recent = this.arrivals.filter((arrival) => arrival.atMs >= fromMs);
    const expected = (nowMs - fromMs) / this.expectedIntervalMs;
    const lossRatio = expected < 2 ? null : Math.min(1, Math.max(0, 1 - recent.length / expected));
    return { delayMs: median(recent.map((arrival) => arrival.delayMs)), lossRatio };
  }
}

function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}
