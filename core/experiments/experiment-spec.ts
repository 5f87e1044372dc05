/**
 * The optional `experiment` block of a scenario file: what a run against a live
 * cluster must show, and the limits it runs under. Additive to the simulator's
 * schema (sim/scenario.ts): a file without it runs as an experiment with these
 * defaults, and the simulator ignores the block. The expected classification
 * defaults to the file's first `verdict` expectation (its simulated deadline is
 * replaced by `detectionWithinMs`: live detection needs missed heartbeats).
 */
import { z } from 'zod';
import { NodeIdSchema } from '../protocol';

/** The brief's recovery threshold (heal → Normal), in ms. */
export const briefRecoveryWithinMs = 600_000;
/** Default detection limit on a live cluster (ms after the fault starts). */
export const defaultDetectionWithinMs = 30_000;
/** Most client operations per second an experiment may ask of its client. */
export const clientOpsPerSecondMax = 50;

const partitionType = z.enum(['complete', 'partial', 'asymmetric', 'byzantine']);
const nodes = z.array(NodeIdSchema).min(1).max(1000);

/** The classification an experiment expects (scenario node ids, mapped onto the live nodes). */
export const ExpectedClassificationSchema = z.strictObject({
  type: partitionType.nullable().describe('expected type; null expects no partition at all'),
  components: z.array(nodes).optional().describe('exact sides (order ignored)'),
  sides: z.array(z.number().int().positive()).optional().describe('side sizes, largest first'),
  hasMajority: z.boolean().optional(),
  bridgeNodes: nodes.optional(),
  oneWayLinks: z.array(z.strictObject({ from: NodeIdSchema, to: NodeIdSchema })).optional().describe('exact set of failing directions'),
  isolatedNodes: z.array(NodeIdSchema).optional(),
});
export type ExpectedClassification = z.infer<typeof ExpectedClassificationSchema>;

/** The `experiment` block. */
export const ExperimentBlockSchema = z.strictObject({
  detectionWithinMs: z.number().int().positive().max(3_600_000).default(defaultDetectionWithinMs).describe('the partition must be recorded, classified as expected, within this long after the first fault'),
  recoveryWithinMs: z.number().int().positive().max(3_600_000).default(briefRecoveryWithinMs).describe('heal → Normal within this long (the brief: 600 s)'),
  expect: ExpectedClassificationSchema.optional().describe('overrides the classification taken from the first verdict expectation'),
  blastRadius: z
    .strictObject({
      nodesMax: z.number().int().positive().max(100_000).optional().describe('the experiment may affect this many nodes'),
      fractionMax: z.number().min(0).max(1).optional().describe('the experiment may affect this fraction of the cluster'),
    })
    .optional()
    .describe('allows a larger blast radius than the server\'s limit'),
  client: z
    .strictObject({
      opsPerSecond: z.number().min(0).max(clientOpsPerSecondMax).default(4).describe('writes per second (each followed by a read elsewhere); 0 for none'),
    })
    .prefault({}),
  availability: z
    .strictObject({
      serveMin: z.number().min(0).max(1).default(0.9).describe('a side the policy lets write must serve at least this fraction'),
      refuseMin: z.number().min(0).max(1).default(0.9).describe('a fenced side must refuse at least this fraction of writes'),
      settleMs: z.number().int().nonnegative().max(600_000).default(3_000).describe('judged from this long after detection (fences take a moment)'),
    })
    .prefault({}),
  approveManualRecovery: z.boolean().default(true).describe('approve, on behalf of whoever started the run, a manual recovery its partition waits for (critical partitions recover manually); false leaves it to an operator'),
  staleReads: z.enum(['forbidden', 'allowed']).default('forbidden').describe('whether a fenced side may serve a read older than an acknowledged write'),
});
export type ExperimentBlock = z.infer<typeof ExperimentBlockSchema>;

/** The block's defaults, for a file without one. */
export const defaultExperimentBlock = (): ExperimentBlock => ExperimentBlockSchema.parse({});

/** One problem of a refused file: where (a JSON path) and what. */
export interface ScenarioIssue {
  /** Path to the offending value, `$` for the root (for example `$.faults[0].atMs`). */
  path: string;
  message: string;
}

/** Most problems listed for one file. */
export const scenarioIssuesMax = 200;

/** Every zod issue as a JSON path and a message. */
export function issuesOf(error: z.ZodError): ScenarioIssue[] {
  return error.issues.slice(0, scenarioIssuesMax).map((issue) => ({
    path: `$${issue.path.map((part) => (typeof part === 'number' ? `[${part}]` : `.${String(part)}`)).join('')}`,
    message: issue.message,
  }));
}
