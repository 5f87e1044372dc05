/**
 * The experiments' routes: start (a scenario file or a catalog name), validate a
 * file, follow the run going on, abort it (heals everything), list and open
 * reports, export them (JSON, JUnit XML), coverage, and the scenario file that
 * reproduces a recorded partition. Start and abort act on agents: audited first.
 */
import { z } from 'zod';
import { ClusterIdSchema, NodeIdSchema } from '../../core/protocol';
import { AppError } from '../app-error';
import type { ApiContext } from './api';
import { type Route, parse, principalOf, requestSchema, route } from './route';

const ClusterQuery = requestSchema('experiments.current', 'query')(z.object({ clusterId: ClusterIdSchema.optional() }));
const ListQuery = requestSchema('experiments.list', 'query')(z.object({ clusterId: ClusterIdSchema.optional(), limit: z.coerce.number().int().min(1).max(500).default(50) }));
const StartBody = requestSchema('experiments.start', 'body')(
  z.strictObject({ clusterId: ClusterIdSchema.optional(), scenario: z.unknown().optional(), name: NodeIdSchema.optional() }).refine((body) => (body.scenario === undefined) !== (body.name === undefined), {
    message: 'give either scenario (a scenario file) or name (a catalog scenario)',
    path: ['scenario'],
  }),
);
const ValidateBody = requestSchema('experiments.validate', 'body')(z.strictObject({ scenario: z.unknown() }));
const AbortBody = requestSchema('experiments.abort', 'body')(z.strictObject({ clusterId: ClusterIdSchema.optional() }));
const ExportQuery = requestSchema('experiments.export', 'query')(z.object({ format: z.enum(['json', 'junit']).default('json') }));
const Id = z.uuid();

/** The cluster named, or the only (or demo) cluster. */
function clusterIdOf(context: ApiContext, clusterId: string | undefined): string {
  if (clusterId) return context.service.getClusterOrThrow(clusterId).clusterId;
  const clusters = context.service.listClusters();
  const chosen = clusters.length === 1 ? clusters[0] : clusters.find((cluster) => cluster.demo);
  if (!chosen) throw new AppError('invalid_input', 'clusterId: required when more than one cluster is known');
  return chosen.clusterId;
}

export const experimentRoutes: Route[] = [
  route('experiments.list', {
    access: 'read',
    handler: async ({ query }, context) => {
      const { clusterId, limit } = parse(ListQuery, Object.fromEntries(query));
      return context.experimentReports.list({ ...(clusterId ? { clusterId } : {}), limit });
    },
  }),
  route('experiments.start', {
    access: 'chaos:run',
    audit: 'experiment.start',
    auditBeforeAction: true,
    handler: async (request, context) => {
      const input = parse(StartBody, request.body ?? {});
      let file = input.scenario;
      if (input.name !== undefined) {
        const scenario = context.scenarios.find(input.name);
        if (!scenario) throw new AppError('not_found', `no scenario named ${input.name} in the catalog`);
        file = scenario;
      }
      return context.experiments.start(clusterIdOf(context, input.clusterId), file, principalOf(request).name);
    },
  }),
  route('experiments.validate', {
    // A POST: kept to those who may start experiments, like every state-changing route.
    access: 'chaos:run',
    audit: 'experiment.validate',
    handler: async ({ body }, context) => context.validateScenario(parse(ValidateBody, body ?? {}).scenario),
  }),
  route('experiments.current', {
    access: 'read',
    handler: async ({ query }, context) => context.experiments.progress(clusterIdOf(context, parse(ClusterQuery, Object.fromEntries(query)).clusterId)),
  }),
  route('experiments.abort', {
    access: 'chaos:run',
    audit: 'experiment.abort',
    auditBeforeAction: true,
    handler: async (request, context) => context.experiments.abort(clusterIdOf(context, parse(AbortBody, request.body ?? {}).clusterId), principalOf(request).name),
  }),
  route('experiments.coverage', {
    access: 'read',
    handler: async ({ query }, context) => context.experimentReports.coverage(clusterIdOf(context, parse(ClusterQuery, Object.fromEntries(query)).clusterId)),
  }),
  route('experiments.export', {
    access: 'read',
    handler: async ({ params, query }, context) => {
      const { format } = parse(ExportQuery, Object.fromEntries(query));
      const exported = await context.experimentReports.export(parse(Id, params[0]), format);
      return { stream: true, contentType: exported.contentType, filename: exported.filename, run: async (sink) => sink.write(exported.body) };
    },
  }),
  route('experiments.get', { access: 'read', handler: async ({ params }, context) => context.experimentReports.report(parse(Id, params[0])) }),
  route('partitions.reproduce', { access: 'read', handler: async ({ params }, context) => context.experimentReports.reproduce(parse(Id, params[0])) }),
];
