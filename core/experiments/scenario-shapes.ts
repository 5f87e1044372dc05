/**
 * What a scenario is about, in the words of coverage: the partition shapes it
 * plays (isolate one, halves, bridge, majorities ring, one-way, flaky, corrupt,
 * overlapping groups, three-way), the classification it expects mapped onto the
 * live nodes, and which shapes a cluster has been tested against, when last and
 * with what verdict.
 */
import type { NodeId } from '../protocol';
import type { ExpectedClassification } from './experiment-spec';

/** The shapes of the brief's catalog, in the order coverage lists them. */
export const partitionShapes = ['isolate-one', 'halves', 'bridge', 'majorities-ring', 'one-way', 'flaky', 'corrupt', 'overlapping-groups', 'three-way'] as const;
export type PartitionShape = (typeof partitionShapes)[number];

/** Human labels of the shapes. */
export const shapeLabels: Record<string, string> = {
  'isolate-one': 'isolate one',
  halves: 'halves',
  bridge: 'bridge',
  'majorities-ring': 'majorities ring',
  'one-way': 'one-way',
  flaky: 'flaky',
  corrupt: 'corrupt',
  'overlapping-groups': 'overlapping groups',
  'three-way': 'three-way',
  'minority-split': 'majority and minority',
};

/** The parts of a fault that decide its shape. */
export interface FaultShapeInput {
  kind: string;
  groups?: readonly (readonly string[])[];
}

function partitionShape(groups: readonly (readonly string[])[], nodeCount: number): string {
  const listed = groups.flat();
  if (new Set(listed).size < listed.length) return 'overlapping-groups';
  if (groups.length >= 3) return 'three-way';
  if (listed.length < nodeCount) return 'bridge';
  const sizes = groups.map((group) => group.length);
  if (Math.min(...sizes) === 1) return 'isolate-one';
  return Math.max(...sizes) - Math.min(...sizes) <= 1 ? 'halves' : 'minority-split';
}

/** The shapes a scenario plays, each once, in catalog order (other fault kinds by their own name). */
export function shapesOf(faults: readonly FaultShapeInput[], nodeCount: number): string[] {
  const byKind: Record<string, string> = { isolate: 'isolate-one', 'random-halves': 'halves', 'majorities-ring': 'majorities-ring', drop: 'one-way', loss: 'flaky', corrupt: 'corrupt' };
  const shapes = new Set<string>();
  for (const fault of faults) {
    if (fault.kind === 'partition' && fault.groups) shapes.add(partitionShape(fault.groups, nodeCount));
    else shapes.add(byKind[fault.kind] ?? fault.kind);
  }
  const order = (shape: string) => {
    const index = (partitionShapes as readonly string[]).indexOf(shape);
    return index < 0 ? partitionShapes.length : index;
  };
  return [...shapes].sort((a, b) => order(a) - order(b) || a.localeCompare(b));
}

/** A scenario's expectations, as far as the expected classification goes. */
export interface ExpectationInput {
  kind: string;
  type?: ExpectedClassification['type'];
  components?: string[][];
  sides?: number[];
  hasMajority?: boolean;
  bridgeNodes?: string[];
  oneWayLinks?: { from: string; to: string }[];
  isolatedNodes?: string[];
}

/**
 * The classification a run must show, in live node ids: the experiment block's own,
 * or the file's first `verdict` expectation; null when the file expects none.
 */
export function expectedClassificationOf(expectations: readonly ExpectationInput[], override: ExpectedClassification | undefined, mapping: Readonly<Record<string, NodeId>>): ExpectedClassification | null {
  const source = override ?? expectations.find((expectation) => expectation.kind === 'verdict');
  if (!source || source.type === undefined) return null;
  const map = (id: string) => mapping[id] ?? id;
  const nodes = (ids: readonly string[] | undefined) => (ids ? [...new Set(ids.map(map))].sort() : undefined);
  const expected: ExpectedClassification = { type: source.type };
  if (source.components) expected.components = source.components.map((side) => nodes(side)!);
  if (source.sides) expected.sides = [...source.sides];
  if (source.hasMajority !== undefined) expected.hasMajority = source.hasMajority;
  if (source.bridgeNodes) expected.bridgeNodes = nodes(source.bridgeNodes)!;
  if (source.isolatedNodes) expected.isolatedNodes = nodes(source.isolatedNodes)!;
  if (source.oneWayLinks) expected.oneWayLinks = source.oneWayLinks.map((link) => ({ from: map(link.from), to: map(link.to) }));
  return expected;
}

/** A finished run, as coverage needs it. */
export interface CoverageRunInput {
  id: string;
  scenario: string;
  shapes: readonly string[];
  status: string;
  startedAtMs: number;
}

/** One line of coverage. */
export interface ShapeCoverage {
  shape: string;
  label: string;
  /** Finished runs that played it. */
  runs: number;
  /** The latest such run, or null when the shape was never tested. */
  last: { runId: string; scenario: string; status: string; atMs: number } | null;
}

/** Coverage of every catalog shape (and any other shape played), from finished runs. */
export function coverageOf(runs: readonly CoverageRunInput[]): ShapeCoverage[] {
  const finished = runs.filter((run) => run.status === 'passed' || run.status === 'failed');
  const extra = [...new Set(finished.flatMap((run) => run.shapes))].filter((shape) => !(partitionShapes as readonly string[]).includes(shape)).sort();
  return [...partitionShapes, ...extra].map((shape) => {
    const playing = finished.filter((run) => run.shapes.includes(shape));
    const latest = [...playing].sort((a, b) => b.startedAtMs - a.startedAtMs)[0];
    return {
      shape,
      label: shapeLabels[shape] ?? shape,
      runs: playing.length,
      last: latest ? { runId: latest.id, scenario: latest.scenario, status: latest.status, atMs: latest.startedAtMs } : null,
    };
  });
}
