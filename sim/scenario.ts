/**
 * The scenario file format: nodes, profile, seed, duration, timed faults and expected
 * verdicts with deadlines. Parsed with zod so that a wrong file is refused with the
 * offending field named; `scenarios/scenario.schema.json` is generated from the same
 * schema (see `scenarioJsonSchema`), so the documentation cannot drift.
 */
import { z } from 'zod';
import { NodeIdSchema, describeZodError } from '../core/protocol';
import { detectorModes, profileNames } from '../core/detectors/detector-profiles';
import { ExperimentBlockSchema } from '../core/experiments/experiment-spec';

/** Most nodes one scenario may simulate; bounds memory and run time. */
export const scenarioNodesMax = 1000;
/** Longest simulated duration (ms): one hour of virtual time. */
export const scenarioDurationMsMax = 3_600_000;
/** Most faults and expectations one scenario may list. */
export const scenarioItemsMax = 200;

const timeMs = z.number().int().nonnegative().max(scenarioDurationMsMax);
const ratio = z.number().min(0).max(1);
const nodeList = z.array(NodeIdSchema).min(1).max(scenarioNodesMax);
/** "*" means every node. */
const selector = z.union([z.literal('*'), nodeList]).describe('node ids, or "*" for every node');

const window = {
  atMs: timeMs.describe('when the fault starts (virtual ms since the run began)'),
  untilMs: timeMs.optional().describe('when it ends; absent means until the end of the run'),
};

const FaultSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('partition'), ...window, groups: z.array(nodeList).min(2).max(scenarioNodesMax) })
    .describe('drop both directions between nodes of different groups; unlisted nodes keep every link (a bridge)'),
  z.strictObject({ kind: z.literal('random-halves'), ...window }).describe('split all nodes into two halves chosen from the seed'),
  z.strictObject({ kind: z.literal('majorities-ring'), ...window })
    .describe('each node keeps links to its nearest ring neighbours only, just enough to see a majority'),
  z.strictObject({ kind: z.literal('isolate'), ...window, nodes: nodeList, controlPlane: z.boolean().default(false) })
    .describe('cut each listed node from every other node, the other listed ones included (n listed nodes become n lone nodes); with controlPlane also from the control server'),
  z.strictObject({ kind: z.literal('isolate-group'), ...window, nodes: nodeList, controlPlane: z.boolean().default(false) })
    .describe('cut the listed nodes, as one group that still hears itself, from every node outside it; with controlPlane also from the control server'),
  z.strictObject({ kind: z.literal('drop'), ...window, from: selector, to: selector }).describe('drop datagrams in one direction'),
  z.strictObject({ kind: z.literal('loss'), ...window, from: selector, to: selector, ratio, bidirectional: z.boolean().default(true) }),
  z.strictObject({
    kind: z.literal('delay'),
    ...window,
    from: selector,
    to: selector,
    delayMs: z.number().nonnegative().max(60_000).describe('added one-way delay (ms), every datagram still arriving'),
    jitterMs: z.number().nonnegative().max(60_000).default(0).describe('added uniform random delay 0..jitterMs (ms) per datagram'),
    onsetMs: timeMs.default(0).describe('the delay and jitter grow linearly from 0 to their full value over this long after atMs (0: a step)'),
  }).describe('slow the link in one direction: late is not lost, and must never open a partition'),
  z.strictObject({ kind: z.literal('duplicate'), ...window, from: selector, to: selector, ratio }),
  z.strictObject({ kind: z.literal('corrupt'), ...window, from: selector, to: selector, ratio })
    .describe('flip bits: the receiver sees a bad signature, counted as untrusted traffic on the link (never byzantine)'),
  z.strictObject({ kind: z.literal('pause'), ...window, untilMs: timeMs, nodes: nodeList })
    .describe('freeze the nodes (GC, SIGSTOP): nothing runs, arriving datagrams queue'),
  z.strictObject({ kind: z.literal('crash'), atMs: window.atMs, nodes: nodeList }).describe('stop the nodes for good'),
  z.strictObject({ kind: z.literal('control-plane-cut'), ...window, nodes: nodeList })
    .describe('cut only the nodes\' link to the control server'),
]);
export type Fault = z.infer<typeof FaultSchema>;

const partitionType = z.enum(['complete', 'partial', 'asymmetric', 'byzantine']);
const directed = z.strictObject({ from: NodeIdSchema, to: NodeIdSchema });

const ExpectationSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('verdict'),
    afterMs: timeMs.describe('the window opens here (usually the fault time)'),
    withinMs: timeMs.describe('deadline: the published verdict must match within this long after afterMs'),
    type: partitionType.nullable().describe('expected type; null expects a whole cluster'),
    sides: z.array(z.number().int().positive()).optional().describe('component sizes, largest first'),
    components: z.array(nodeList).optional().describe('exact components (order of sides and members ignored)'),
    hasMajority: z.boolean().optional(),
    oneWayLinks: z.array(directed).optional().describe('exact set of failing directions'),
    cutLinksMin: z.number().int().nonnegative().optional(),
    bridgeNodes: nodeList.optional(),
    overlappingMajorities: z.boolean().optional(),
    isolatedNodes: z.array(NodeIdSchema).optional(),
    silentNodes: z.array(NodeIdSchema).optional(),
    controlPlaneCutNodes: z.array(NodeIdSchema).optional(),
    byzantineNodes: z.array(NodeIdSchema).optional(),
  }),
  z.strictObject({
    kind: z.literal('quiet'),
    fromMs: timeMs.default(0),
    untilMs: timeMs.optional(),
    types: z.array(partitionType).min(1).optional().describe('only partitions of these types break the quiet (default: any)'),
  }).describe('no partition (of the given types) published in the window'),
  z.strictObject({
    kind: z.literal('episodes'),
    fromMs: timeMs.default(0),
    untilMs: timeMs.optional(),
    min: z.number().int().nonnegative().default(0),
    max: z.number().int().nonnegative(),
  }).describe('number of partitions opened in the window'),
  z.strictObject({
    kind: z.literal('untrusted'),
    afterMs: timeMs.describe('the window opens here (usually the fault time)'),
    withinMs: timeMs.describe('deadline: the classifier must list it within this long after afterMs'),
    linksFrom: nodeList.describe('exact set of peers whose links to some observer carry datagrams failing integrity'),
  }).describe('untrusted traffic (bad signatures and the like) listed by the classifier; it is never a partition and accuses no node'),
  z.strictObject({ kind: z.literal('healed'), afterMs: timeMs, withinMs: timeMs }).describe('the published verdict is whole again in time'),
  z.strictObject({
    kind: z.literal('partitioned'),
    fromMs: timeMs,
    untilMs: timeMs.optional(),
  }).describe('once a partition is published after fromMs, the published verdict stays partitioned until untilMs (a mass failure is never reported as health)'),
  z.strictObject({
    kind: z.literal('first-verdict'),
    fromMs: timeMs.default(0),
    untilMs: timeMs.optional(),
  }).describe('every partition opened in the window keeps its first published shape until it closes, unless that first verdict was published as provisional'),
]);
export type Expectation = z.infer<typeof ExpectationSchema>;

/** A scenario file. */
export const ScenarioSchema = z
  .strictObject({
    $schema: z.string().optional(),
    name: NodeIdSchema.describe('short name, used in reports'),
    description: z.string().max(2000).default(''),
    nodes: z.union([z.number().int().min(2).max(scenarioNodesMax), nodeList]).describe('a count (nodes n1..nN) or explicit ids'),
    profile: z.enum(profileNames as [string, ...string[]]).default('local'),
    detector: z.enum(detectorModes as [string, ...string[]]).default('phi+indirect'),
    heartbeatIntervalMs: z.number().int().min(10).max(600_000).optional().describe('overrides the profile\'s interval'),
    peersPerIntervalMax: z.number().int().min(1).max(scenarioNodesMax).optional(),
    seed: z.number().int().nonnegative().max(2 ** 32 - 1),
    durationMs: timeMs.refine((value) => value > 0, 'must be positive'),
    network: z
      .strictObject({
        delayMs: z.number().nonnegative().max(60_000).default(1),
        jitterMs: z.number().nonnegative().max(60_000).default(1),
        lossRatio: ratio.default(0),
        duplicateRatio: ratio.default(0),
        controlPlaneDelayMs: z.number().nonnegative().max(60_000).default(5),
      })
      .prefault({}),
    faults: z.array(FaultSchema).max(scenarioItemsMax).default([]),
    expect: z.array(ExpectationSchema).min(1).max(scenarioItemsMax),
    // Additive, for live experiments only (core/experiments/experiment-spec.ts); the simulator ignores it.
    experiment: ExperimentBlockSchema.optional().describe('limits and expectations of a run against a live cluster (ignored by the simulator)'),
  })
  .superRefine((scenario, context) => {
    const ids = typeof scenario.nodes === 'number' ? null : new Set(scenario.nodes);
    const count = typeof scenario.nodes === 'number' ? scenario.nodes : scenario.nodes.length;
    const known = (id: string) => (ids ? ids.has(id) : /^n\d+$/.test(id) && Number(id.slice(1)) >= 1 && Number(id.slice(1)) <= count);
    const check = (value: unknown, path: (string | number)[]) => {
      if (typeof value === 'string' && value !== '*' && path.length > 2 && !known(value)) {
        context.addIssue({ code: 'custom', path, message: `unknown node "${value}"` });
      } else if (Array.isArray(value)) value.forEach((item, index) => check(item, [...path, index]));
      else if (value && typeof value === 'object') {
        // `kind`, `type` and `types` hold names of fault, expectation and partition kinds, not node ids.
        for (const [key, inner] of Object.entries(value)) if (key !== 'kind' && key !== 'type' && key !== 'types') check(inner, [...path, key]);
      }
    };
    scenario.faults.forEach((fault, index) => {
      check(fault, ['faults', index]);
      if (fault.kind !== 'crash' && fault.untilMs !== undefined && fault.untilMs <= fault.atMs) {
        context.addIssue({ code: 'custom', path: ['faults', index, 'untilMs'], message: 'must be after atMs' });
      }
    });
    scenario.expect.forEach((expectation, index) => check(expectation, ['expect', index]));
    if (scenario.experiment?.expect) check(scenario.experiment.expect, ['experiment', 'expect']);
  });
export type Scenario = z.infer<typeof ScenarioSchema>;

/** A scenario refused, with every problem named by its field path. */
export class ScenarioError extends Error {
  override readonly name = 'ScenarioError';
}

/** Parses a scenario from already-decoded JSON, naming the offending fields on failure. */
export function parseScenario(input: unknown, source = 'scenario'): Scenario {
  const result = ScenarioSchema.safeParse(input);
  if (!result.success) throw new ScenarioError(`${source}: ${describeZodError(result.error)}`);
  return result.data;
}

/** The node ids a scenario simulates. */
export function scenarioNodeIds(scenario: Scenario): string[] {
  if (typeof scenario.nodes !== 'number') return [...scenario.nodes];
  return Array.from({ length: scenario.nodes }, (_, index) => `n${index + 1}`);
}

/** The JSON Schema of scenario files, generated from the zod schema. */
export function scenarioJsonSchema(): unknown {
  const schema = z.toJSONSchema(ScenarioSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return { ...schema, $id: 'https://faultline.invalid/scenario.schema.json', title: 'Faultline simulator scenario' };
}
