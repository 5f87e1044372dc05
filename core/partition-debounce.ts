/**
 * Hysteresis and a stability window between the classifier and everything that acts
 * on its verdicts. The classifier answers for one instant; links that flap would make
 * it open and close a partition per flap. This helper publishes a verdict only once it
 * has held for a while: a partition opens after `openStableMs` of continuous partition
 * (whatever its shape while detection spreads), closes only after `closeStableMs` of
 * continuous health (longer, so flaps do not close and reopen it), and a change of shape
 * while open is published after `changeStableMs`.
 *
 * Two further rules, both off unless their options are set:
 * - The first verdict should be the right one. While detection spreads, the shape
 *   passes through intermediate forms (one direction of a cut is seen before the other);
 *   a partition opens only once its shape has held `openSettleMs`. If the shape keeps
 *   moving for `openSettleMaxMs`, the current one is published anyway, marked
 *   `provisional`, so that nobody is paged on a shape that is about to change.
 * - Flapping is one incident. A partition that reopens within `flapWindowMs` of its
 *   close keeps its episode number (a `reopened` event, not a new `opened`), and every
 *   heal that did not last is counted in `flaps`. The close window grows with each
 *   reopening (up to `flapCloseFactorMax` times `closeStableMs`), the dampening BGP
 *   applies to flapping routes, so the incident stays open while the link keeps flapping.
 *
 * Pure and stateful by value: `stepDebounce(state, verdict, nowMs, options)` returns
 * the next state and the events to act on.
 */
import type { PartitionVerdict } from './classify-partition';

/** Settings of the debouncer. */
export interface DebounceOptions {
  /** A partition must be seen continuously this long (ms) before it is opened. */
  openStableMs: number;
  /** An open partition closes only after this long (ms) of continuous health; the hysteresis. */
  closeStableMs: number;
  /** A new shape (type, sides, cut links, named nodes) must hold this long (ms) to replace the published one. */
  changeStableMs: number;
  /** A partition opens only once its shape has held this long (ms); default 0 (the open window alone). */
  openSettleMs?: number;
  /** Past this long (ms) of continuous partition with a moving shape, the current shape opens as provisional; default: never waits past the settle. */
  openSettleMaxMs?: number;
  /** A partition reopening within this long (ms) after it closed is the same incident (a flap); default 0 (off). */
  flapWindowMs?: number;
  /** The close window is `closeStableMs` × (1 + flaps), at most this factor; default 1 (no dampening). */
  flapCloseFactorMax?: number;
}

/** What the debouncer tells its caller. */
export interface DebounceEvent {
  /**
   * `opened`: a partition episode began; `reopened`: a closed one split again within the
   * flap window (same episode, one more flap); `changed`: its shape (or the healthy
   * cluster's notes) changed; `closed`: it ended.
   */
  type: 'opened' | 'reopened' | 'changed' | 'closed';
  /** Episode number (1, 2, ...) the event belongs to; 0 for notes while healthy. */
  episode: number;
  /** When the event was decided (ms). */
  atMs: number;
  /** The verdict now published. */
  verdict: PartitionVerdict;
  /** True when the shape was still moving when it had to be published (see `openSettleMaxMs`): expect a `changed` soon. */
  provisional: boolean;
  /** Heals of this episode that did not last (reopenings included); 0 for a partition that never flapped. */
  flaps: number;
}

/** The debouncer's memory. */
export interface DebounceState {
  /** The verdict currently published, or null before the first step. */
  published: PartitionVerdict | null;
  /** Shape key of `published`. */
  publishedKey: string;
  /** Number of the current (or last) episode; 0 before the first. */
  episode: number;
  /** Since when (ms) the raw verdicts have said "partitioned" without a break, or null. */
  partitionedSinceMs: number | null;
  /** Since when (ms) the raw verdicts have said "whole" without a break, or null. */
  healthySinceMs: number | null;
  /** A candidate shape and since when (ms) it has held, or null. */
  pending: { key: string; sinceMs: number } | null;
  /** Flaps of the current (or last) episode. */
  flaps: number;
  /** Reopenings of the current (or last) episode: what lengthens its close window. */
  reopenings: number;
  /** When the last episode closed (ms), or null; a reopening soon after is a flap. */
  closedAtMs: number | null;
  /** Whether the published partition was opened as provisional and has not settled since. */
  provisional: boolean;
  /** Cut links ("a~b") and named nodes of the last partitioned shape published: a reopening must share one to be the same incident. */
  lastPartitionMarks: string[];
}

/** The state before any verdict. */
export function initialDebounceState(): DebounceState {
  return {
    published: null,
    publishedKey: '',
    episode: 0,
    partitionedSinceMs: null,
    healthySinceMs: null,
    pending: null,
    flaps: 0,
    reopenings: 0,
    closedAtMs: null,
    provisional: false,
    lastPartitionMarks: [],
  };
}

/** Whether two partitions' marks overlap by at least half of their union: the same links failing again, not a new partition elsewhere. */
function sameIncident(marks: readonly string[], previous: readonly string[]): boolean {
  const before = new Set(previous);
  const shared = marks.filter((mark) => before.has(mark)).length;
  const union = new Set([...marks, ...previous]).size;
  return union > 0 && shared * 2 >= union;
}

/** The cut links and named nodes of a verdict, to tell a flap of the same partition from a new one. */
function partitionMarks(verdict: PartitionVerdict): string[] {
  return [
    ...verdict.cutLinks.map((link) => `${link.a}~${link.b}`),
    ...[...verdict.silentNodes, ...verdict.isolatedNodes, ...(verdict.byzantine?.nodes ?? [])].map((node) => `node:${node}`),
  ];
}

/**
 * A string naming what matters in a verdict for operators: equal keys mean "the same
 * situation", whatever the fresh timestamps and evidence say.
 */
export function verdictShapeKey(verdict: PartitionVerdict): string {
  // Between two components every link is cut by definition: how each one is known to be cut is not the shape.
  const componentOf = new Map<string, number>();
  if (verdict.components.length > 1) verdict.components.forEach((component, index) => component.forEach((node) => componentOf.set(node, index)));
  const links = verdict.cutLinks
    .filter((link) => componentOf.size === 0 || componentOf.get(link.a) === componentOf.get(link.b))
    .map((link) => `${link.a}~${link.b}:${link.state}${link.workingDirection ? `>${link.workingDirection.to}` : ''}`);
  return JSON.stringify([
    verdict.partitioned,
    verdict.type,
    verdict.components.length > 1 ? verdict.components : [],
    links,
    verdict.silentNodes ?? [],
    verdict.isolatedNodes ?? [],
    verdict.controlPlaneCutNodes ?? [],
    verdict.byzantine?.nodes ?? [],
    verdict.byzantine?.links.map((link) => `${link.from}>${link.to}`) ?? [],
  ]);
}

function validate(options: DebounceOptions): void {
  for (const [name, value] of Object.entries(options)) {
    if (!(value >= 0)) throw new RangeError(`${name} must be a non-negative number of ms`);
  }
}

/** Feeds one raw verdict observed at `nowMs`. */
export function stepDebounce(
  state: DebounceState,
  verdict: PartitionVerdict,
  nowMs: number,
  options: DebounceOptions,
): { state: DebounceState; events: DebounceEvent[] } {
  validate(options);
  const key = verdictShapeKey(verdict);
  const partitionedSinceMs = verdict.partitioned ? (state.partitionedSinceMs ?? nowMs) : null;
  const healthySinceMs = verdict.partitioned ? null : (state.healthySinceMs ?? nowMs);
  // A heal seen for a change window and then lost again, while the partition is published: one flap.
  const healLost =
    verdict.partitioned && state.published?.partitioned === true && state.healthySinceMs !== null && nowMs - state.healthySinceMs >= options.changeStableMs;
  const base: DebounceState = { ...state, partitionedSinceMs, healthySinceMs, flaps: state.flaps + (healLost ? 1 : 0) };
  if (state.published === null) {
    // The first verdict is published as is only when healthy; a partition must still earn its window.
    const healthy = { ...verdict, partitioned: false, type: null } satisfies PartitionVerdict;
    const first = verdict.partitioned ? healthy : verdict;
    return step({ ...base, published: first, publishedKey: verdictShapeKey(first), pending: null }, verdict, key, nowMs, options);
  }
  return step(base, verdict, key, nowMs, options);
}

/** How long (ms) the change in front of the debouncer must hold, and whether it would go out as provisional. */
function windowFor(
  state: DebounceState,
  pending: { key: string; sinceMs: number },
  transition: 'opening' | 'closing' | 'changing',
  nowMs: number,
  options: DebounceOptions,
): { ready: boolean; provisional: boolean } {
  if (transition === 'closing') {
    const factor = Math.min(options.flapCloseFactorMax ?? 1, 1 + state.reopenings);
    return { ready: nowMs - state.healthySinceMs! >= options.closeStableMs * Math.max(1, factor), provisional: false };
  }
  if (transition === 'changing') return { ready: nowMs - pending.sinceMs >= options.changeStableMs, provisional: false };
  const partitionedMs = nowMs - state.partitionedSinceMs!;
  if (partitionedMs < options.openStableMs) return { ready: false, provisional: false };
  if (nowMs - pending.sinceMs >= (options.openSettleMs ?? 0)) return { ready: true, provisional: false };
  const settleMaxMs = options.openSettleMaxMs ?? Number.POSITIVE_INFINITY;
  return partitionedMs >= settleMaxMs ? { ready: true, provisional: true } : { ready: false, provisional: false };
}

function step(
  state: DebounceState,
  verdict: PartitionVerdict,
  key: string,
  nowMs: number,
  options: DebounceOptions,
): { state: DebounceState; events: DebounceEvent[] } {
  const published = state.published!;
  if (key === state.publishedKey) {
    return { state: { ...state, published: verdict, pending: null }, events: [] };
  }
  const pending = state.pending?.key === key ? state.pending : { key, sinceMs: nowMs };
  const opening = !published.partitioned && verdict.partitioned;
  const closing = published.partitioned && !verdict.partitioned;
  const transition = opening ? 'opening' : closing ? 'closing' : 'changing';
  const { ready, provisional } = windowFor(state, pending, transition, nowMs, options);
  if (!ready) return { state: { ...state, pending }, events: [] };
  const recent = state.closedAtMs !== null && state.episode > 0 && nowMs - state.closedAtMs <= (options.flapWindowMs ?? 0);
  const reopening = opening && recent && sameIncident(partitionMarks(verdict), state.lastPartitionMarks);
  const episode = opening && !reopening ? state.episode + 1 : state.episode;
  const flaps = opening && !reopening ? 0 : state.flaps + (reopening ? 1 : 0);
  const reopenings = opening && !reopening ? 0 : state.reopenings + (reopening ? 1 : 0);
  const type = reopening ? 'reopened' : opening ? 'opened' : closing ? 'closed' : 'changed';
  const next: DebounceState = {
    ...state,
    published: verdict,
    publishedKey: key,
    episode,
    pending: null,
    flaps,
    reopenings,
    closedAtMs: closing ? nowMs : opening ? null : state.closedAtMs,
    // A later change of a provisional partition is its settled shape.
    provisional: opening && provisional,
    lastPartitionMarks: verdict.partitioned ? partitionMarks(verdict) : state.lastPartitionMarks,
  };
  const eventEpisode = !opening && !closing && !verdict.partitioned ? 0 : episode;
  return { state: next, events: [{ type, episode: eventEpisode, atMs: nowMs, verdict, provisional: opening && provisional, flaps }] };
}
