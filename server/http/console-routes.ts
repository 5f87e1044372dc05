/** The console's routes: alerts, recovery runs, and partition history with export. */
import { z } from 'zod';
import { ClusterIdSchema, storableTimestampMsMax } from '../../core/protocol';
import { safeText } from '../../core/safe-text';
import { alertNoteLengthMax, alertPageMax, alertStatuses } from '../alerts-service';
import { HistoryQuerySchema } from '../history-service';
import { recoveryPageMax, recoveryReasonLengthMax } from '../recovery-service';
import { type Route, type StreamResponse, parse, principalOf } from './route';

const Id = z.uuid();
const commaList = <T extends readonly [string, ...string[]]>(values: T) =>
  z
    .string()
    .max(200)
    .transform((value) => value.split(',').filter(Boolean))
    .pipe(z.array(z.enum(values)));
const AlertsQuery = z.object({
  clusterId: ClusterIdSchema.optional(),
  status: commaList(alertStatuses).optional(),
  search: safeText().max(200).optional(),
  partitionId: Id.optional(),
  limit: z.coerce.number().int().min(1).max(alertPageMax).default(100),
  before: z.coerce.number().int().nonnegative().max(storableTimestampMsMax).optional(),
});
const AcknowledgeBody = z.strictObject({ note: safeText().trim().min(1, 'write what you are doing about it').max(alertNoteLengthMax) });
const recoveryStatuses = ['pending-approval', 'approved', 'rejected', 'running', 'paused', 'succeeded', 'failed', 'aborted'] as const;
const RecoveryQuery = z.object({
  clusterId: ClusterIdSchema.optional(),
  status: commaList(recoveryStatuses).optional(),
  partitionId: Id.optional(),
  limit: z.coerce.number().int().min(1).max(recoveryPageMax).default(50),
});
const strategies = ['automatic', 'manual', 'phased'] as const;
const DryRunQuery = z.object({ partitionId: Id, strategy: z.enum(strategies).default('manual') });
const StartRecoveryBody = z.strictObject({ partitionId: Id, strategy: z.enum(strategies) });
const ReasonBody = z.strictObject({ reason: safeText().trim().min(1, 'give a reason').max(recoveryReasonLengthMax) });
const ExportQuery = z.object({ format: z.enum(['csv', 'json']).default('csv') });

export const consoleRoutes: Route[] = [
  {
    method: 'GET',
    pattern: /^\/api\/alerts$/,
    access: 'read',
    handler: async ({ query }, context) => {
      const input = parse(AlertsQuery, Object.fromEntries(query));
      return context.alerts.list({ ...input, beforeMs: input.before });
    },
  },
  {
    method: 'GET',
    pattern: /^\/api\/alerts\/counts$/,
    access: 'read',
    handler: async ({ query }, context) => context.alerts.countOpen(parse(z.object({ clusterId: ClusterIdSchema.optional() }), Object.fromEntries(query)).clusterId),
  },
  {
    method: 'POST',
    pattern: /^\/api\/alerts\/([^/]+)\/acknowledge$/,
    access: 'alert:acknowledge',
    audit: 'alert.acknowledge',
    handler: async (request, context) =>
      context.alerts.acknowledge(parse(Id, request.params[0]), principalOf(request).name, parse(AcknowledgeBody, request.body).note),
  },
  {
    method: 'POST',
    pattern: /^\/api\/alerts\/([^/]+)\/resolve$/,
    access: 'alert:resolve',
    audit: 'alert.resolve',
    handler: async (request, context) => context.alerts.resolve(parse(Id, request.params[0]), principalOf(request).name),
  },
  {
    method: 'GET',
    pattern: /^\/api\/recovery$/,
    access: 'read',
    handler: async ({ query }, context) => context.recovery.list(parse(RecoveryQuery, Object.fromEntries(query))),
  },
  {
    method: 'GET',
    pattern: /^\/api\/recovery\/dry-run$/,
    access: 'read',
    handler: async (request, context) => {
      const input = parse(DryRunQuery, Object.fromEntries(request.query));
      return context.recovery.dryRun(input.partitionId, input.strategy, principalOf(request).name);
    },
  },
  {
    method: 'POST',
    pattern: /^\/api\/recovery$/,
    access: 'recovery:start',
    audit: 'recovery.start',
    handler: async (request, context) => context.recovery.request({ ...parse(StartRecoveryBody, request.body), requestedBy: principalOf(request).name }),
  },
  ...(['approve', 'reject'] as const).map(
    (verb): Route => ({
      method: 'POST',
      pattern: new RegExp(`^/api/recovery/([^/]+)/${verb}$`),
      access: 'recovery:decide',
      audit: `recovery.${verb}`,
      handler: async (request, context) => context.recovery[verb](parse(Id, request.params[0]), principalOf(request).name, parse(ReasonBody, request.body).reason),
    }),
  ),
  ...(['pause', 'resume', 'abort'] as const).map(
    (verb): Route => ({
      method: 'POST',
      pattern: new RegExp(`^/api/recovery/([^/]+)/${verb}$`),
      access: 'recovery:control',
      audit: `recovery.${verb}`,
      handler: async (request, context) => context.recovery[verb](parse(Id, request.params[0]), principalOf(request).name, parse(ReasonBody, request.body).reason),
    }),
  ),
  {
    method: 'GET',
    pattern: /^\/api\/history$/,
    access: 'read',
    handler: async ({ query }, context) => context.history.list(parse(HistoryQuerySchema, Object.fromEntries(query))),
  },
  {
    method: 'GET',
    pattern: /^\/api\/history\/export$/,
    access: 'read',
    handler: async (request, context): Promise<StreamResponse> => {
      const { format } = parse(ExportQuery, Object.fromEntries(request.query));
      const started = context.exports.start(parse(HistoryQuerySchema, Object.fromEntries(request.query)), format, principalOf(request).name);
      return { stream: true, contentType: started.contentType, filename: started.filename, run: started.run };
    },
  },
  {
    method: 'GET',
    pattern: /^\/api\/history\/([^/]+)$/,
    access: 'read',
    handler: async ({ params }, context) => context.history.detail(parse(Id, params[0])),
  },
];
