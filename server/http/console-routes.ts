/** The console's routes: alerts, recovery runs, and partition history with export. */
import { z } from 'zod';
import type { HistoryQueryInput } from '../../core/http-contract';
import { ClusterIdSchema, storableTimestampMsMax } from '../../core/protocol';
import { safeText } from '../../core/safe-text';
import { alertNoteLengthMax, alertPageMax, alertStatuses } from '../alerts-service';
import { HistoryQuerySchema } from '../history-service';
import { recoveryPageMax, recoveryReasonLengthMax } from '../recovery/recovery-service';
import type { ApiContext } from './api';
import { type Route, parse, principalOf, requestSchema, route } from './route';

const Id = z.uuid();
const commaList = <T extends readonly [string, ...string[]]>(values: T) =>
  z
    .string()
    .max(200)
    .transform((value) => value.split(',').filter(Boolean))
    .pipe(z.array(z.enum(values)));
const AlertsQuery = requestSchema('alerts.list', 'query')(z.object({
  clusterId: ClusterIdSchema.optional(),
  status: commaList(alertStatuses).optional(),
  search: safeText().max(200).optional(),
  partitionId: Id.optional(),
  limit: z.coerce.number().int().min(1).max(alertPageMax).default(100),
  before: z.coerce.number().int().nonnegative().max(storableTimestampMsMax).optional(),
}));
const AlertCountsQuery = requestSchema('alerts.counts', 'query')(z.object({ clusterId: ClusterIdSchema.optional() }));
const AcknowledgeBody = requestSchema('alerts.acknowledge', 'body')(z.strictObject({ note: safeText().trim().min(1, 'write what you are doing about it').max(alertNoteLengthMax) }));
const recoveryStatuses = ['pending-approval', 'approved', 'rejected', 'running', 'paused', 'succeeded', 'failed', 'aborted'] as const;
const RecoveryQuery = requestSchema('recovery.list', 'query')(z.object({
  clusterId: ClusterIdSchema.optional(),
  status: commaList(recoveryStatuses).optional(),
  partitionId: Id.optional(),
  limit: z.coerce.number().int().min(1).max(recoveryPageMax).default(50),
}));
const strategies = ['automatic', 'manual', 'phased'] as const;
const DryRunQuery = requestSchema('recovery.dryRun', 'query')(z.object({ partitionId: Id, strategy: z.enum(strategies).optional() }));
const StartRecoveryBody = requestSchema('recovery.start', 'body')(z.strictObject({ partitionId: Id, strategy: z.enum(strategies) }));
const ReasonBody = requestSchema('recovery.approve', 'body')(z.strictObject({ reason: safeText().trim().min(1, 'give a reason').max(recoveryReasonLengthMax) }));
/** The console sends history filters as the text of its URL, so the contract checks names only: each one it may send is parsed here. */
const HistoryQuery = HistoryQuerySchema;
const _historyFiltersParsed: Record<keyof HistoryQueryInput, unknown> = HistoryQuery.shape;
void _historyFiltersParsed;
/** The export's own parameter; its filters are the history's (`HistoryQuery`). */
const ExportQuery = z.object({ format: z.enum(['csv', 'json']).default('csv') });

/** The links not fully up and the silent nodes of a cluster the server watches live, or null. */
function liveLinksOf(context: ApiContext, clusterId: string) {
  if (!context.service.findCluster(clusterId)) return null;
  const snapshot = context.service.snapshot(clusterId);
  return { links: snapshot.links, staleNodeIds: snapshot.nodes.filter((node) => node.stale).map((node) => node.id) };
}

/** Decisions on a recovery need `recovery:decide`; pausing, resuming and aborting one need `recovery:control`. */
const recoveryVerbs = [
  { verb: 'approve', access: 'recovery:decide' },
  { verb: 'reject', access: 'recovery:decide' },
  { verb: 'pause', access: 'recovery:control' },
  { verb: 'resume', access: 'recovery:control' },
  { verb: 'abort', access: 'recovery:control' },
] as const;

export const consoleRoutes: Route[] = [
  route('alerts.list', {
    access: 'read',
    handler: async ({ query }, context) => {
      const input = parse(AlertsQuery, Object.fromEntries(query));
      return context.alerts.list({ ...input, beforeMs: input.before });
    },
  }),
  route('alerts.counts', {
    access: 'read',
    handler: async ({ query }, context) => context.alerts.countOpen(parse(AlertCountsQuery, Object.fromEntries(query)).clusterId),
  }),
  route('alerts.acknowledge', {
    access: 'alert:acknowledge',
    audit: 'alert.acknowledge',
    handler: async (request, context) =>
      context.alerts.acknowledge(parse(Id, request.params[0]), principalOf(request).name, parse(AcknowledgeBody, request.body).note),
  }),
  route('alerts.resolve', {
    access: 'alert:resolve',
    audit: 'alert.resolve',
    handler: async (request, context) => context.alerts.resolve(parse(Id, request.params[0]), principalOf(request).name),
  }),
  route('recovery.list', {
    access: 'read',
    handler: async ({ query }, context) => context.recovery.list(parse(RecoveryQuery, Object.fromEntries(query))),
  }),
  route('recovery.dryRun', {
    access: 'read',
    handler: async (request, context) => {
      const input = parse(DryRunQuery, Object.fromEntries(request.query));
      return context.recovery.dryRun(input.partitionId, input.strategy, principalOf(request).name);
    },
  }),
  route('recovery.start', {
    access: 'recovery:start',
    audit: 'recovery.start',
    handler: async (request, context) => context.recovery.request({ ...parse(StartRecoveryBody, request.body), requestedBy: principalOf(request).name }, (clusterId) => liveLinksOf(context, clusterId)),
  }),
  ...recoveryVerbs.map(({ verb, access }) =>
    route(`recovery.${verb}`, {
      access,
      audit: `recovery.${verb}`,
      handler: async (request, context) => context.recovery[verb](parse(Id, request.params[0]), principalOf(request).name, parse(ReasonBody, request.body).reason),
    }),
  ),
  route('history.list', {
    access: 'read',
    handler: async ({ query }, context) => context.history.list(parse(HistoryQuery, Object.fromEntries(query))),
  }),
  route('history.export', {
    access: 'read',
    handler: async (request, context) => {
      const { format } = parse(ExportQuery, Object.fromEntries(request.query));
      const started = context.exports.start(parse(HistoryQuery, Object.fromEntries(request.query)), format, principalOf(request).name);
      return { stream: true, contentType: started.contentType, filename: started.filename, run: started.run };
    },
  }),
  route('history.detail', {
    access: 'read',
    handler: async ({ params }, context) => context.history.detail(parse(Id, params[0])),
  }),
];
