/**
 * Hysteresis and a stability window between the classifier and everything that acts
 * on its verdicts. The classifier answers for one instant; links that flap would make
 * it open and close a partition per flap. This helper publishes a verdict only once it
 * has held for a while: a partition opens after `openStableMs` of continuous partition
 * (whatever its shape while detection spreads), closes only after `closeStableMs` of
 * continuous health (longer, so flaps do not close and reopen it), and a change of shape
 * while open is published after `changeStableMs`.
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
}

/** What the debouncer tells its caller. */
export interface DebounceEvent {
  /** `opened`: a partition episode began; `changed`: its shape (or the healthy cluster's notes) changed; `closed`: it ended. */
  type: 'opened' | 'changed' | 'closed';
  /** Episode number (1, 2, ...) the event belongs to; 0 for notes while healthy. */
  episode: number;
  /** When the event was decided (ms). */
  atMs: number;
  /** The verdict now published. */
  verdict: PartitionVerdict;
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
}

/** The state before any verdict. */
export function initialDebounceState(): DebounceState {
  return { published: null, publishedKey: '', episode: 0, partitionedSinceMs: null, healthySinceMs: null, pending: null };
}

/**
 * A string naming what matters in a verdict for operators: equal keys mean "the same
 * situation", whatever the fresh timestamps and evidence say.
 */
export function verdictShapeKey(verdict: PartitionVerdict): string {
  const links = verdict.cutLinks.map((link) => `${link.a}~${link.b}:${link.state}${link.workingDirection ? `>${link.workingDirection.to}` : ''}`);
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
  const base: DebounceState = { ...state, partitionedSinceMs, healthySinceMs };
  if (state.published === null) {
    // The first verdict is published as is only when healthy; a partition must still earn its window.
    const healthy = { ...verdict, partitioned: false, type: null } satisfies PartitionVerdict;
    const first = verdict.partitioned ? healthy : verdict;
    return step({ ...base, published: first, publishedKey: verdictShapeKey(first), pending: null }, verdict, key, nowMs, options);
  }
  return step(base, verdict, key, nowMs, options);
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
  const heldMs = opening
    ? nowMs - state.partitionedSinceMs!
    : closing
      ? nowMs - state.healthySinceMs!
      : nowMs - pending.sinceMs;
  const neededMs = opening ? options.openStableMs : closing ? options.closeStableMs : options.changeStableMs;
  if (heldMs < neededMs) return { state: { ...state, pending }, events: [] };
  const episode = opening ? state.episode + 1 : state.episode;
  const type = opening ? 'opened' : closing ? 'closed' : 'changed';
  const next: DebounceState = { ...state, published: verdict, publishedKey: key, episode, pending: null };
  const eventEpisode = !opening && !closing && !verdict.partitioned ? 0 : episode;
  return { state: next, events: [{ type, episode: eventEpisode, atMs: nowMs, verdict }] };
}
