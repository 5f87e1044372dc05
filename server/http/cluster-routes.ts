/**
 * The cluster's routes: clusters, the live snapshot, partitions, fault injection
 * and the chaos scenarios. Fault routes act outside the database, so their audit
 * entry is written before they act.
 */
import { z } from 'zod';
import type { FaultsView } from '../../core/http-views';
import { ClusterIdSchema, NodeIdSchema, faultDelayMsMax, storableTimestampMsMax } from '../../core/protocol';
import { AppError } from '../app-error';
import type { ApiContext } from './api';
import { type Route, parse, requestSchema, route } from './route';

const ClusterQuery = requestSchema('cluster.get', 'query')(z.object({ clusterId: ClusterIdSchema.optional() }));

/** The cluster named in the request, or the only (or demo) cluster when none is named. */
function resolveCluster(context: ApiContext, clusterId: string | undefined) {
  if (clusterId) return context.service.getClusterOrThrow(clusterId);
  const clusters = context.service.listClusters();
  const chosen = clusters.length === 1 ? clusters[0] : clusters.find((cluster) => cluster.demo);
  if (!chosen) throw new AppError('invalid_input', 'clusterId: required when more than one cluster is known');
  return chosen;
}

const CutBody = requestSchema('faults.cut', 'body')(
  z.strictObject({
    clusterId: ClusterIdSchema.optional(),
    from: NodeIdSchema,
    to: NodeIdSchema,
    oneWay: z.boolean().default(false),
  }),
);
const DegradeBody = requestSchema('faults.degrade', 'body')(
  z
    .strictObject({
      clusterId: ClusterIdSchema.optional(),
      from: NodeIdSchema,
      to: NodeIdSchema,
      lossRatio: z.number().min(0).max(1).optional(),
      corruptRatio: z.number().min(0).max(1).optional(),
      delayMs: z.number().int().min(0).max(faultDelayMsMax).optional(),
      jitterMs: z.number().int().min(0).max(faultDelayMsMax).optional(),
    })
    .refine((body) => body.lossRatio !== undefined || body.corruptRatio !== undefined || body.delayMs !== undefined, {
      message: 'give lossRatio, corruptRatio, delayMs or several',
      path: ['lossRatio'],
    }),
);
const IsolateBody = requestSchema('faults.isolate', 'body')(z.strictObject({ clusterId: ClusterIdSchema.optional(), node: NodeIdSchema }));
const SplitBody = requestSchema('faults.split', 'body')(
  z.strictObject({
    clusterId: ClusterIdSchema.optional(),
    groups: z.array(z.array(NodeIdSchema).min(1).max(1000)).min(2).max(16),
  }),
);
const HealBody = requestSchema('faults.heal', 'body')(
  z.strictObject({
    clusterId: ClusterIdSchema.optional(),
    from: NodeIdSchema.optional(),
    to: NodeIdSchema.optional(),
  }),
);
const PartitionsQuery = requestSchema('partitions.list', 'query')(
  z.object({
    clusterId: ClusterIdSchema.optional(),
    limit: z.coerce.number().int().min(1).max(200).default(50),
    before: z.coerce.number().int().nonnegative().max(storableTimestampMsMax).optional(),
  }),
);
const PartitionId = z.uuid();
const ClusterBody = requestSchema('scenarios.start', 'body')(z.strictObject({ clusterId: ClusterIdSchema.optional() }));

const faultsView = (cluster: ReturnType<typeof resolveCluster>): FaultsView => ({
  clusterId: cluster.clusterId,
  faults: [...cluster.nodes.entries()].map(([node, state]) => ({ node, rules: state.faults })).filter((entry) => entry.rules.length > 0),
});

/**
 * The audit target of a fault action: `cluster:what` (a link `a↔b`, one way `a→b`,
 * a node, or the split's sides), read from the body before the action runs.
 */
function faultTarget<Input extends { clusterId?: string }>(schema: z.ZodType<Input>, describe: (input: Input) => string) {
  return (body: unknown, context: ApiContext): string | null => {
    const parsed = schema.safeParse(body ?? {});
    if (!parsed.success) return null;
    let clusterId = parsed.data.clusterId ?? '?';
    try {
      clusterId = resolveCluster(context, parsed.data.clusterId).clusterId;
    } catch {
      // An unknown cluster is refused by the handler; the entry still names what was asked.
    }
    return `${clusterId}:${describe(parsed.data)}`;
  };
}

/** Parses the body with `schema`, picks the cluster, runs the fault change and answers the cluster's faults. */
function faultRoute<Input extends { clusterId?: string }>(
  name: 'faults.cut' | 'faults.degrade' | 'faults.isolate' | 'faults.split',
  schema: z.ZodType<Input>,
  act: (context: ApiContext, cluster: ReturnType<typeof resolveCluster>, input: Input) => Promise<unknown>,
  describe: (input: Input) => string,
): Route {
  return route(name, {
    access: 'chaos:run',
    audit: name,
    auditBeforeAction: true,
    auditTarget: faultTarget(schema, describe),
    handler: async ({ body }, context) => {
      const input = parse(schema, body);
      const cluster = resolveCluster(context, input.clusterId);
      await act(context, cluster, input);
      return faultsView(cluster);
    },
  });
}

export const clusterRoutes: Route[] = [
  route('clusters.list', {
    access: 'read',
    handler: async (_request, context) =>
      context.service.listClusters().map((cluster) => ({ id: cluster.clusterId, name: cluster.name, demo: cluster.demo, nodes: cluster.nodes.size })),
  }),
  route('cluster.get', {
    access: 'read',
    handler: async ({ query }, context) => context.service.snapshot(resolveCluster(context, parse(ClusterQuery, Object.fromEntries(query)).clusterId).clusterId),
  }),
  route('partitions.list', {
    access: 'read',
    handler: async ({ query }, context) => {
      const { clusterId, limit, before } = parse(PartitionsQuery, Object.fromEntries(query));
      return context.service.listPartitions({ clusterId, limit, beforeMs: before });
    },
  }),
  route('partitions.get', { access: 'read', handler: async ({ params }, context) => context.service.getPartitionOrThrow(parse(PartitionId, params[0])) }),
  route('faults.list', { access: 'read', handler: async ({ query }, context) => faultsView(resolveCluster(context, parse(ClusterQuery, Object.fromEntries(query)).clusterId)) }),
  faultRoute('faults.cut', CutBody, (context, cluster, input) => context.faults.cut(cluster, input), (input) => `${input.from}${input.oneWay ? '→' : '↔'}${input.to}`),
  faultRoute('faults.degrade', DegradeBody, (context, cluster, input) => context.faults.degrade(cluster, input), (input) => `${input.from}↔${input.to}`),
  faultRoute('faults.isolate', IsolateBody, (context, cluster, input) => context.faults.isolate(cluster, input.node), (input) => input.node),
  faultRoute('faults.split', SplitBody, (context, cluster, input) => context.faults.split(cluster, input.groups), (input) => input.groups.map((group) => group.join(',')).join(' | ')),
  route('faults.heal', {
    access: 'chaos:run',
    audit: 'faults.heal',
    auditBeforeAction: true,
    auditTarget: faultTarget(HealBody, (input) => (input.from && input.to ? `${input.from}↔${input.to}` : 'every fault')),
    handler: async ({ body }, context) => {
      const input = parse(HealBody, body ?? {});
      if ((input.from === undefined) !== (input.to === undefined)) {
        throw new AppError('invalid_input', 'from, to: give both to heal one link, or neither to heal everything');
      }
      const cluster = resolveCluster(context, input.clusterId);
      // Healing everything ends a running scenario too, or its next step would cut again.
      if (!input.from) context.scenarios.cancel(cluster.clusterId);
      await context.faults.heal(cluster, input.from && input.to ? { from: input.from, to: input.to } : undefined);
      return faultsView(cluster);
    },
  }),
  route('scenarios.list', { access: 'read', handler: async (_request, context) => context.scenarios.list() }),
  route('scenarios.run', {
    access: 'read',
    handler: async ({ query }, context) => context.scenarios.current(resolveCluster(context, parse(ClusterQuery, Object.fromEntries(query)).clusterId).clusterId),
  }),
  route('scenarios.start', {
    access: 'chaos:run',
    audit: 'scenario.start',
    handler: async ({ body, params }, context) => {
      const input = parse(ClusterBody, body ?? {});
      return context.scenarios.start(resolveCluster(context, input.clusterId), parse(NodeIdSchema, params[0]));
    },
  }),
];
