/**
 * A steady demo write load against the node's store, so a demo cluster has data that
 * really diverges while split: `ratePerSecond` writes spread evenly over time, to keys
 * `demo-0..demo-(keyCount-1)` picked at random, with values naming the node and a
 * counter (so a reader can tell which side wrote a surviving value). A write refused
 * by a fence is an expected outcome: the store counts it, the load carries on.
 *
 * The key space exists before the load starts (seeded identically on every node, as
 * a real store's data set exists before an outage), so divergence is the share of an
 * existing data set that a split changed: it grows with the writes over time, as in
 * a real store, instead of starting near 100 % of the few keys written so far.
 */
import type { KvStore } from './store/kv-store';

/** Highest write rate accepted (writes per second per node). */
export const writeRateMax = 10_000;
/** Largest demo key space. */
export const writeKeysMax = 1_000_000;
/** Shortest time between two ticks of the load (ms); faster rates write several keys per tick. */
export const writeLoadTickMsMin = 20;
/** Most writes one tick makes, so a stalled event loop does not come back to a burst. */
export const writeLoadBurstMax = 1_000;

/** Settings of the load. */
export interface WriteLoadOptions {
  store: KvStore;
  /** Writes per second; 0 starts nothing. */
  ratePerSecond: number;
  /** Size of the key space written to. */
  keyCount: number;
  nowMs: () => number;
  /** Uniform random number in [0, 1) (Math.random by default). */
  random?: () => number;
  /** Seed the whole key space before writing (default true). */
  seed?: boolean;
}

/** The value seeded keys hold until the load first writes them. */
export const seedValue = 'seed';

/** The demo's key names, `demo-0` … `demo-(count-1)`. */
export function demoKeys(count: number): string[] {
  return Array.from({ length: count }, (_, index) => `demo-${index}`);
}

/** A running load. */
export interface WriteLoad {
  /** Writes attempted so far (accepted or refused). */
  attempted(): number;
  stop(): void;
}

/** Starts the load; with a rate of 0 it is a no-op. */
export function startWriteLoad(options: WriteLoadOptions): WriteLoad {
  const random = options.random ?? Math.random;
  let attempted = 0;
  if (options.ratePerSecond <= 0) return { attempted: () => 0, stop: () => undefined };
  if (options.seed ?? true) options.store.seed(demoKeys(Math.min(options.keyCount, writeKeysMax)), seedValue);
  const tickMs = Math.max(writeLoadTickMsMin, Math.floor(1000 / options.ratePerSecond));
  let owed = 0;
  let lastMs = options.nowMs();
  const timer = setInterval(() => {
    const nowMs = options.nowMs();
    owed = Math.min(writeLoadBurstMax, owed + ((nowMs - lastMs) * options.ratePerSecond) / 1000);
    lastMs = nowMs;
    for (; owed >= 1; owed -= 1) {
      attempted += 1;
      const key = `demo-${Math.floor(random() * options.keyCount)}`;
      options.store.put(key, `${options.store.nodeId}#${attempted}`);
    }
  }, tickMs);
  timer.unref?.();
  return { attempted: () => attempted, stop: () => clearInterval(timer) };
}
