/**
 * The JSON API under /api. Each handler parses its input with a schema, calls one
 * service and maps the result; errors become `{ ok: false, code, message }` with
 * the matching HTTP status, and unknown errors never leak internals.
 *
 * Every route declares who may call it; the router authenticates (bearer token or
 * session cookie), checks the role, and for state-changing requests checks the
 * Origin and the session's CSRF token before the handler runs. Every POST,
 * allowed or refused, is written to the audit log.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { ClusterIdSchema, NodeIdSchema, storableTimestampMsMax } from '../../core/protocol';
import { AppError, httpStatusByCode, toErrorReply } from '../app-error';
import type { Principal } from '../auth/auth-service';
import { authenticate, checkCsrf, checkOrigin, describeOrigin, requireRole } from '../auth/request-auth';
import type { ClusterService } from '../cluster-service';
import type { ConsoleServices } from '../console-services';
import type { FaultController } from '../fault-controller';
import type { Logger } from '../logger';
import type { ScenarioRunner } from '../scenario-runner';
import { authRoutes } from './auth-routes';
import { consoleRoutes } from './console-routes';
import { type Route, type StreamResponse, isStreamResponse, parse } from './route';

/** Largest request body accepted, in bytes. */
export const requestBodyBytesMax = 64 * 1024;

/** What the API needs from the rest of the server. */
export interface ApiContext extends Omit<ConsoleServices, 'endSession'> {
  service: ClusterService;
  faults: FaultController;
  /** The scenario catalog and the runs going on. */
  scenarios: ScenarioRunner;
  health: () => Promise<HealthReport>;
  logger: Logger;
  /** Disconnects the live connections of a session that just ended. */
  endSession?: ConsoleServices['endSession'];
}

/** The answer of GET /api/health. */
export interface HealthReport {
  status: 'ok' | 'degraded';
  database: { ok: boolean; embedded: boolean; latencyMs: number | null; error?: string };
  agentsConnected: number;
  clusters: number;
  uptimeS: number;
  reports: { accepted: number; refused: number; queued: number };
}

const ClusterQuery = z.object({ clusterId: ClusterIdSchema.optional() });

/** The cluster named in the request, or the only (or demo) cluster when none is named. */
function resolveCluster(context: ApiContext, clusterId: string | undefined) {
  if (clusterId) return context.service.getClusterOrThrow(clusterId);
  const clusters = context.service.listClusters();
  const chosen = clusters.length === 1 ? clusters[0] : clusters.find((cluster) => cluster.demo);
  if (!chosen) throw new AppError('invalid_input', 'clusterId: required when more than one cluster is known');
  return chosen;
}

const CutBody = z.strictObject({
  clusterId: ClusterIdSchema.optional(),
  from: NodeIdSchema,
  to: NodeIdSchema,
  oneWay: z.boolean().default(false),
});
const DegradeBody = z
  .strictObject({
    clusterId: ClusterIdSchema.optional(),
    from: NodeIdSchema,
    to: NodeIdSchema,
    lossRatio: z.number().min(0).max(1).optional(),
    corruptRatio: z.number().min(0).max(1).optional(),
  })
  .refine((body) => body.lossRatio !== undefined || body.corruptRatio !== undefined, { message: 'give lossRatio, corruptRatio or both', path: ['lossRatio'] });
const IsolateBody = z.strictObject({ clusterId: ClusterIdSchema.optional(), node: NodeIdSchema });
const SplitBody = z.strictObject({
  clusterId: ClusterIdSchema.optional(),
  groups: z.array(z.array(NodeIdSchema).min(1).max(1000)).min(2).max(16),
});
const HealBody = z.strictObject({
  clusterId: ClusterIdSchema.optional(),
  from: NodeIdSchema.optional(),
  to: NodeIdSchema.optional(),
});
const PartitionsQuery = z.object({
  clusterId: ClusterIdSchema.optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  before: z.coerce.number().int().nonnegative().max(storableTimestampMsMax).optional(),
});
const PartitionId = z.uuid();
const ClusterBody = z.strictObject({ clusterId: ClusterIdSchema.optional() });

const faultsView = (cluster: ReturnType<typeof resolveCluster>) => ({
  clusterId: cluster.clusterId,
  faults: [...cluster.nodes.entries()].map(([node, state]) => ({ node, rules: state.faults })).filter((entry) => entry.rules.length > 0),
});

/** Every API route; exported so tests can check each one's protection. */
export const routes: Route[] = [
  { method: 'GET', pattern: /^\/api\/health$/, access: 'public', handler: async (_request, context) => context.health() },
  {
    method: 'GET',
    pattern: /^\/api\/clusters$/,
    access: 'read',
    handler: async (_request, context) =>
      context.service.listClusters().map((cluster) => ({ id: cluster.clusterId, name: cluster.name, demo: cluster.demo, nodes: cluster.nodes.size })),
  },
  {
    method: 'GET',
    pattern: /^\/api\/cluster$/,
    access: 'read',
    handler: async ({ query }, context) => {
      const { clusterId } = parse(ClusterQuery, Object.fromEntries(query));
      return context.service.snapshot(resolveCluster(context, clusterId).clusterId);
    },
  },
  {
    method: 'GET',
    pattern: /^\/api\/partitions$/,
    access: 'read',
    handler: async ({ query }, context) => {
      const { clusterId, limit, before } = parse(PartitionsQuery, Object.fromEntries(query));
      return context.service.listPartitions({ clusterId, limit, beforeMs: before });
    },
  },
  {
    method: 'GET',
    pattern: /^\/api\/partitions\/([^/]+)$/,
    access: 'read',
    handler: async ({ params }, context) => context.service.getPartitionOrThrow(parse(PartitionId, params[0])),
  },
  {
    method: 'GET',
    pattern: /^\/api\/faults$/,
    access: 'read',
    handler: async ({ query }, context) => faultsView(resolveCluster(context, parse(ClusterQuery, Object.fromEntries(query)).clusterId)),
  },
  {
    method: 'POST',
    pattern: /^\/api\/faults\/cut$/,
    access: 'chaos:run',
    audit: 'faults.cut',
    auditBeforeAction: true,
    handler: async ({ body }, context) => {
      const input = parse(CutBody, body);
      const cluster = resolveCluster(context, input.clusterId);
      await context.faults.cut(cluster, input);
      return faultsView(cluster);
    },
  },
  {
    method: 'POST',
    pattern: /^\/api\/faults\/degrade$/,
    access: 'chaos:run',
    audit: 'faults.degrade',
    auditBeforeAction: true,
    handler: async ({ body }, context) => {
      const input = parse(DegradeBody, body);
      const cluster = resolveCluster(context, input.clusterId);
      await context.faults.degrade(cluster, input);
      return faultsView(cluster);
    },
  },
  {
    method: 'POST',
    pattern: /^\/api\/faults\/isolate$/,
    access: 'chaos:run',
    audit: 'faults.isolate',
    auditBeforeAction: true,
    handler: async ({ body }, context) => {
      const input = parse(IsolateBody, body);
      const cluster = resolveCluster(context, input.clusterId);
      await context.faults.isolate(cluster, input.node);
      return faultsView(cluster);
    },
  },
  {
    method: 'POST',
    pattern: /^\/api\/faults\/split$/,
    access: 'chaos:run',
    audit: 'faults.split',
    auditBeforeAction: true,
    handler: async ({ body }, context) => {
      const input = parse(SplitBody, body);
      const cluster = resolveCluster(context, input.clusterId);
      await context.faults.split(cluster, input.groups);
      return faultsView(cluster);
    },
  },
  {
    method: 'POST',
    pattern: /^\/api\/faults\/heal$/,
    access: 'chaos:run',
    audit: 'faults.heal',
    auditBeforeAction: true,
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
  },
  { method: 'GET', pattern: /^\/api\/scenarios$/, access: 'read', handler: async (_request, context) => context.scenarios.list() },
  {
    method: 'GET',
    pattern: /^\/api\/scenarios\/run$/,
    access: 'read',
    handler: async ({ query }, context) => context.scenarios.current(resolveCluster(context, parse(ClusterQuery, Object.fromEntries(query)).clusterId).clusterId),
  },
  {
    method: 'POST',
    pattern: /^\/api\/scenarios\/([^/]+)\/start$/,
    access: 'chaos:run',
    audit: 'scenario.start',
    handler: async ({ body, params }, context) => {
      const input = parse(ClusterBody, body ?? {});
      return context.scenarios.start(resolveCluster(context, input.clusterId), parse(NodeIdSchema, params[0]));
    },
  },
  ...authRoutes,
  ...consoleRoutes,
];

async function readJsonBody(request: IncomingMessage): Promise<unknown> {
  const declared = Number(request.headers['content-length'] ?? 0);
  if (declared > requestBodyBytesMax) throw new AppError('payload_too_large', `body exceeds ${requestBodyBytesMax} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > requestBodyBytesMax) throw new AppError('payload_too_large', `body exceeds ${requestBodyBytesMax} bytes`);
    chunks.push(chunk as Buffer);
  }
  if (size === 0) return undefined;
  const type = request.headers['content-type'] ?? '';
  if (!type.startsWith('application/json')) throw new AppError('invalid_input', 'content-type: must be application/json');
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new AppError('invalid_input', 'body: not valid JSON');
  }
}

function send(response: ServerResponse, status: number, payload: unknown): void {
  const body = JSON.stringify(payload, (_key, value) => (typeof value === 'bigint' ? value.toString() : value));
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  response.end(body);
}

/** Resolves when `response` can take more, or has closed; leaves no listener behind. */
function drainedOrClosed(response: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      response.off('drain', done);
      response.off('close', done);
      resolve();
    };
    response.on('drain', done);
    response.on('close', done);
  });
}

/**
 * Sends a streamed answer: headers now, then the body as `run` writes it. A write
 * waits for the socket to drain (backpressure) and reports false once the client has
 * gone, so the producer stops reading. A failure after the headers cannot become an
 * error reply: the connection is cut so the client never takes a partial body for a
 * whole one.
 */
async function sendStream(response: ServerResponse, payload: StreamResponse, logger: Logger): Promise<void> {
  response.writeHead(200, {
    'content-type': payload.contentType,
    'cache-control': 'no-store',
    ...(payload.filename ? { 'content-disposition': `attachment; filename="${payload.filename}"` } : {}),
  });
  const gone = () => response.destroyed || response.writableEnded;
  const sink = {
    async write(chunk: string): Promise<boolean> {
      if (gone()) return false;
      if (chunk.length > 0 && !response.write(chunk)) await drainedOrClosed(response);
      return !gone();
    },
  };
  try {
    await payload.run(sink);
    if (!gone()) response.end();
  } catch (error) {
    logger.error({ err: error }, 'streamed answer failed after its headers');
    response.destroy();
  }
}

/** Authorises `principal` for `route`: origin and CSRF checks on state-changing requests, then the role. */
function authorize(request: IncomingMessage, route: Route, principal: Principal | null, context: ApiContext, encrypted: boolean): void {
  const stateChanging = route.method !== 'GET';
  if (stateChanging) checkOrigin(request.headers, encrypted, context.allowedOrigins);
  if (route.access === 'public') return;
  requireRole(principal, route.access);
  if (stateChanging) checkCsrf(request.headers, principal!);
}

/** What one audit entry of a request says. */
interface RequestEntry {
  route: Route | undefined;
  path: string;
  principal: Principal | null;
  /** Who acted when the principal does not say (sign-in names the user who signed in). */
  actor: string | null;
  origin: string;
  params: string[];
  body: unknown;
  outcome: string;
}

function toAuditRecord(entry: RequestEntry) {
  return {
    actor: entry.actor ?? entry.principal?.name ?? 'anonymous',
    action: entry.route?.audit ?? `refused ${entry.path}`,
    target: entry.params[0] ?? null,
    origin: entry.origin,
    data: { outcome: entry.outcome, ...(entry.body !== undefined ? { request: entry.body } : {}), ...(entry.principal ? { role: entry.principal.role, via: entry.principal.kind } : {}) },
  };
}

/** Writes the entry of an accepted action inside its transaction; when that fails the action is refused (and rolled back). */
async function auditAction(context: ApiContext, entry: RequestEntry): Promise<void> {
  try {
    await context.audit.record(toAuditRecord(entry));
  } catch (error) {
    context.logger.error({ err: error, action: entry.route?.audit }, 'audit entry not written; action refused');
    throw new AppError('unavailable', 'the action could not be recorded in the audit log, so it was not carried out; retry later');
  }
}

/** Writes the entry of a refused request; a failed write is logged, never hidden. */
async function auditRefusal(context: ApiContext, entry: RequestEntry): Promise<void> {
  try {
    await context.audit.record(toAuditRecord(entry));
  } catch (error) {
    context.logger.error({ err: error, action: entry.route?.audit }, 'audit entry not written');
  }
}

/**
 * Runs a state-changing handler and its audit entry in one transaction. Routes
 * whose effects live outside the database (fault injection) write the entry
 * first, so that an entry that cannot be written stops the action before it acts.
 */
async function runAudited(context: ApiContext, route: Route, run: () => Promise<unknown>, entryOf: () => RequestEntry): Promise<unknown> {
  return context.audit.transaction(async () => {
    if (route.auditBeforeAction) await auditAction(context, entryOf());
    const data = await run();
    if (!route.auditBeforeAction) await auditAction(context, entryOf());
    return data;
  });
}

/** Handles a request under /api; answers 404 for unknown paths and 405 for wrong methods. */
export async function handleApi(request: IncomingMessage, response: ServerResponse, context: ApiContext): Promise<void> {
  const url = new URL(request.url ?? '/', 'http://localhost');
  const matching = routes.filter((route) => route.pattern.test(url.pathname));
  const encrypted = 'encrypted' in request.socket && request.socket.encrypted === true;
  const origin = describeOrigin(request);
  const audited = request.method !== 'GET' && request.method !== 'HEAD';
  let principal: Principal | null = null;
  let route: Route | undefined;
  let params: string[] = [];
  let body: unknown;
  let actor: string | null = null;
  const entryOf = (outcome: string): RequestEntry => ({ route, path: url.pathname, principal, actor, origin, params, body, outcome });
  try {
    if (matching.length === 0) throw new AppError('not_found', `no API route ${url.pathname}`);
    route = matching.find((candidate) => candidate.method === request.method);
    if (!route) {
      response.setHeader('allow', matching.map((candidate) => candidate.method).join(', '));
      // Refused before any handler ran: audited like every other refused state-changing request.
      if (audited) await auditRefusal(context, entryOf('refused: method not allowed'));
      return send(response, 405, { ok: false, code: 'invalid_input', message: `method ${request.method} not allowed` });
    }
    const matched = route;
    params = matched.pattern.exec(url.pathname)!.slice(1);
    principal = await authenticate(request.headers, context.auth);
    authorize(request, matched, principal, context, encrypted);
    body = matched.method === 'POST' ? await readJsonBody(request) : undefined;
    const run = () =>
      matched.handler(
        {
          query: url.searchParams,
          body,
          params,
          principal,
          origin,
          source: request.socket.remoteAddress ?? 'unknown',
          secure: encrypted,
          setHeader: (name, value) => response.setHeader(name, value),
          setActor: (name) => {
            actor = name;
          },
        },
        context,
      );
    const data = audited ? await runAudited(context, matched, run, () => entryOf('ok')) : await run();
    if (isStreamResponse(data)) return await sendStream(response, data, context.logger);
    send(response, 200, { ok: true, data });
  } catch (error) {
    if (!(error instanceof AppError)) context.logger.error({ err: error, path: url.pathname }, 'API handler failed');
    const reply = toErrorReply(error);
    if (error instanceof AppError && error.hint.retryAfterS !== undefined) response.setHeader('retry-after', String(error.hint.retryAfterS));
    if (audited || reply.code === 'forbidden') await auditRefusal(context, entryOf(`refused: ${reply.code}`));
    send(response, httpStatusByCode[reply.code], reply);
  }
}
