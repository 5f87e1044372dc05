/**
 * Judges a run's published timeline against the scenario's expectations: a verdict of
 * the right shape within its deadline, quiet windows, bounded episode counts, healing,
 * and untrusted traffic the classifier listed (which is never published as a partition).
 */
import type { PartitionVerdict } from '../core/classify-partition';
import type { TimelineEntry, UntrustedSighting } from './cluster-sim';
import type { Expectation, Scenario } from './scenario';

/** The judgement of one expectation. */
export interface ExpectationOutcome {
  /** The expectation as written. */
  expectation: Expectation;
  /** Whether it held. */
  held: boolean;
  /** When it was first met (ms), if it was. */
  metAtMs: number | null;
  /** Time from the start of its window to when it was met (ms), for deadline expectations. */
  latencyMs: number | null;
  /** Why it did not hold, or what was seen. */
  detail: string;
}

type VerdictExpectation = Extract<Expectation, { kind: 'verdict' }>;

const sameSet = (actual: readonly string[], expected: readonly string[]) =>
  actual.length === expected.length && [...actual].sort().join(',') === [...expected].sort().join(',');

/** The verdict published at `atMs` (the last event at or before it), or null before any. */
function publishedAt(timeline: readonly TimelineEntry[], atMs: number): PartitionVerdict | null {
  let found: PartitionVerdict | null = null;
  for (const entry of timeline) {
    if (entry.atMs > atMs) break;
    found = entry.verdict;
  }
  return found;
}

/** Lists every way `verdict` differs from the expectation; empty means it matches. */
export function verdictMismatches(verdict: PartitionVerdict | null, expected: VerdictExpectation): string[] {
  const type = verdict?.type ?? null;
  const problems: string[] = [];
  if (type !== expected.type) problems.push(`type ${type} ≠ ${expected.type}`);
  if (!verdict) {
    const named = [expected.bridgeNodes, expected.isolatedNodes, expected.silentNodes, expected.controlPlaneCutNodes, expected.byzantineNodes];
    if (named.some((list) => list !== undefined && list.length > 0)) problems.push('nothing published yet');
    return problems;
  }
  const sides = verdict.components.map((side) => side.length);
  if (expected.sides && sides.join('+') !== expected.sides.join('+')) problems.push(`sides ${sides.join('+')} ≠ ${expected.sides.join('+')}`);
  if (expected.components) {
    const key = (groups: readonly (readonly string[])[]) => groups.map((group) => [...group].sort().join(',')).sort().join(' | ');
    if (key(verdict.components) !== key(expected.components)) problems.push(`components ${key(verdict.components)}`);
  }
  if (expected.hasMajority !== undefined && (verdict.majorityIndex !== null) !== expected.hasMajority) problems.push('majority side differs');
  if (expected.oneWayLinks) {
    const actual = verdict.oneWayLinks.map((link) => `${link.from}>${link.to}`);
    const wanted = expected.oneWayLinks.map((link) => `${link.from}>${link.to}`);
    if (!sameSet(actual, wanted)) problems.push(`one-way ${actual.join(' ') || 'none'}`);
  }
  if (expected.cutLinksMin !== undefined && verdict.cutLinks.length < expected.cutLinksMin) problems.push(`${verdict.cutLinks.length} cut links`);
  if (expected.overlappingMajorities !== undefined && verdict.overlappingMajorities !== expected.overlappingMajorities) {
    problems.push(`overlappingMajorities ${verdict.overlappingMajorities}`);
  }
  const lists: Array<[string, readonly string[], readonly string[] | undefined]> = [
    ['bridgeNodes', verdict.bridgeNodes, expected.bridgeNodes],
    ['isolatedNodes', verdict.isolatedNodes, expected.isolatedNodes],
    ['silentNodes', verdict.silentNodes, expected.silentNodes],
    ['controlPlaneCutNodes', verdict.controlPlaneCutNodes, expected.controlPlaneCutNodes],
    ['byzantineNodes', verdict.byzantine.nodes, expected.byzantineNodes],
  ];
  for (const [name, actual, wanted] of lists) {
    if (wanted && !sameSet(actual, wanted)) problems.push(`${name} [${actual.join(',')}]`);
  }
  return problems;
}

function judgeVerdict(timeline: readonly TimelineEntry[], expected: VerdictExpectation): Omit<ExpectationOutcome, 'expectation'> {
  const endMs = expected.afterMs + expected.withinMs;
  const candidates: Array<{ atMs: number; verdict: PartitionVerdict | null }> = [
    { atMs: expected.afterMs, verdict: publishedAt(timeline, expected.afterMs) },
    ...timeline.filter((entry) => entry.atMs > expected.afterMs && entry.atMs <= endMs),
  ];
  let last: string[] = [];
  for (const candidate of candidates) {
    last = verdictMismatches(candidate.verdict, expected);
    if (last.length === 0) {
      return { held: true, metAtMs: candidate.atMs, latencyMs: candidate.atMs - expected.afterMs, detail: candidate.verdict?.summary ?? 'whole' };
    }
  }
  return { held: false, metAtMs: null, latencyMs: null, detail: `not seen by ${endMs} ms; last published: ${last.join('; ')}` };
}

/** What became of the first verdicts of the partitions a run opened. */
export interface FirstVerdictTally {
  /** Partitions opened (reopenings of a flapping one not counted). */
  opened: number;
  /** Of those, opened as provisional (the shape was still moving; a change was announced). */
  provisional: number;
  /** Of the others, the ones whose shape was changed before the faults changed: a first verdict that was wrong. */
  changed: number;
}

/** Times (ms) at which some fault starts or ends: between two of them the network stays the same. */
function faultBoundaries(scenario: Scenario): number[] {
  const times = scenario.faults.flatMap((fault) => [fault.atMs, ...('untilMs' in fault && fault.untilMs !== undefined ? [fault.untilMs] : [])]);
  return [...new Set(times)].sort((x, y) => x - y);
}

/**
 * Counts, among the partitions opened between `fromMs` and `untilMs`, the first verdicts
 * that were later changed while the faults stayed as they were (a change after a fault
 * began or ended is the network moving, not the verdict being wrong).
 */
export function tallyFirstVerdicts(scenario: Scenario, timeline: readonly TimelineEntry[], fromMs = 0, untilMs = scenario.durationMs): FirstVerdictTally {
  const boundaries = faultBoundaries(scenario);
  const tally: FirstVerdictTally = { opened: 0, provisional: 0, changed: 0 };
  timeline.forEach((entry, position) => {
    if (entry.type !== 'opened' || entry.atMs < fromMs || entry.atMs > untilMs) return;
    tally.opened += 1;
    if (entry.provisional) {
      tally.provisional += 1;
      return;
    }
    const nextBoundaryMs = boundaries.find((atMs) => atMs > entry.atMs) ?? Number.POSITIVE_INFINITY;
    const later = timeline.slice(position + 1);
    const end = later.findIndex((item) => item.type === 'closed' || item.type === 'opened');
    const during = end === -1 ? later : later.slice(0, end);
    if (during.some((item) => item.type === 'changed' && item.atMs < nextBoundaryMs)) tally.changed += 1;
  });
  return tally;
}

/** Judges every expectation of `scenario` against `timeline`. */
export function evaluateExpectations(scenario: Scenario, timeline: readonly TimelineEntry[], untrusted: readonly UntrustedSighting[] = []): ExpectationOutcome[] {
  return scenario.expect.map((expectation) => {
    switch (expectation.kind) {
      case 'verdict':
        return { expectation, ...judgeVerdict(timeline, expectation) };
      case 'quiet': {
        const untilMs = expectation.untilMs ?? scenario.durationMs;
        const counts = (verdict: PartitionVerdict | null) =>
          verdict !== null && verdict.partitioned && (expectation.types === undefined || (verdict.type !== null && expectation.types.includes(verdict.type)));
        const atStart = publishedAt(timeline, expectation.fromMs);
        const raised = timeline.filter((entry) => entry.atMs > expectation.fromMs && entry.atMs <= untilMs && counts(entry.verdict));
        const first = counts(atStart) ? { atMs: expectation.fromMs, summary: atStart!.summary } : raised[0];
        return first
          ? { expectation, held: false, metAtMs: null, latencyMs: null, detail: `raised at ${first.atMs} ms: ${first.summary}` }
          : { expectation, held: true, metAtMs: null, latencyMs: null, detail: 'nothing raised' };
      }
      case 'episodes': {
        const untilMs = expectation.untilMs ?? scenario.durationMs;
        const opened = timeline.filter((entry) => entry.type === 'opened' && entry.atMs >= expectation.fromMs && entry.atMs <= untilMs).length;
        const held = opened >= expectation.min && opened <= expectation.max;
        return { expectation, held, metAtMs: null, latencyMs: null, detail: `${opened} partition(s) opened` };
      }
      case 'untrusted': {
        const endMs = expectation.afterMs + expectation.withinMs;
        const seen = untrusted.filter((sighting) => sighting.atMs >= expectation.afterMs && sighting.atMs <= endMs);
        const met = seen.find((sighting) => sameSet(sighting.linksFrom, expectation.linksFrom));
        return met
          ? { expectation, held: true, metAtMs: met.atMs, latencyMs: met.atMs - expectation.afterMs, detail: `links from ${met.linksFrom.join(', ')}` }
          : { expectation, held: false, metAtMs: null, latencyMs: null, detail: `not seen by ${endMs} ms; seen: ${seen.map((sighting) => `[${sighting.linksFrom.join(',')}]`).join(' ') || 'none'}` };
      }
      case 'healed': {
        const endMs = expectation.afterMs + expectation.withinMs;
        const atStart = publishedAt(timeline, expectation.afterMs);
        if (!atStart?.partitioned) return { expectation, held: true, metAtMs: expectation.afterMs, latencyMs: 0, detail: 'whole' };
        const closed = timeline.find((entry) => entry.atMs > expectation.afterMs && entry.atMs <= endMs && !entry.verdict.partitioned);
        return closed
          ? { expectation, held: true, metAtMs: closed.atMs, latencyMs: closed.atMs - expectation.afterMs, detail: 'whole' }
          : { expectation, held: false, metAtMs: null, latencyMs: null, detail: `still partitioned at ${endMs} ms` };
      }
      case 'partitioned': {
        const untilMs = expectation.untilMs ?? scenario.durationMs;
        const window = timeline.filter((entry) => entry.atMs >= expectation.fromMs && entry.atMs <= untilMs);
        const raised = window.findIndex((entry) => entry.verdict.partitioned);
        const whole = raised === -1 ? undefined : window.slice(raised).find((entry) => !entry.verdict.partitioned);
        if (raised === -1) return { expectation, held: false, metAtMs: null, latencyMs: null, detail: 'no partition published' };
        return whole
          ? { expectation, held: false, metAtMs: null, latencyMs: null, detail: `published whole at ${whole.atMs} ms: ${whole.summary}` }
          : { expectation, held: true, metAtMs: window[raised]!.atMs, latencyMs: window[raised]!.atMs - expectation.fromMs, detail: 'stayed partitioned' };
      }
      case 'first-verdict': {
        const tally = tallyFirstVerdicts(scenario, timeline, expectation.fromMs, expectation.untilMs ?? scenario.durationMs);
        const detail = `${tally.opened} opened, ${tally.provisional} provisional, ${tally.changed} first verdict(s) changed`;
        return { expectation, held: tally.changed === 0, metAtMs: null, latencyMs: null, detail };
      }
    }
  });
}
