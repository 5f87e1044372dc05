/**
 * The operations and agent-credential routes, kept apart from the console's API
 * router: GET /metrics (Prometheus), GET /api/ready (readiness probe), and the
 * admin routes that issue, list and revoke agent credentials. Same reply shape
 * and error mapping as /api. Admin routes ask an `AdminCheck` hook, which refuses
 * everyone until the composition root installs a real one.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import type { HttpResponse } from '../../core/http-contract';
import type { Readiness } from '../../core/http-views';
import { ClusterIdSchema, NodeIdSchema } from '../../core/protocol';
import { AppError, httpStatusByCode, toErrorReply } from '../app-error';
import type { AuditLog } from '../audit';
import type { AdminCheck } from '../auth/admin-check';
import type { AgentCredentials } from '../auth/agent-credentials';
import { describeOrigin } from '../auth/request-auth';
import type { Logger } from '../logger';
import type { ServerMetrics } from '../metrics';
import { readJsonBody, sendJson } from './json-io';
import { parse, requestSchema } from './route';

/** Largest body accepted by these routes, in bytes. */
export const agentRouteBodyBytesMax = 4 * 1024;
/** Most credentials one list request returns. */
export const credentialListMax = 500;

/** What the routes need. */
export interface AgentRoutesContext {
  credentials: AgentCredentials;
  adminCheck: AdminCheck;
  metrics: ServerMetrics;
  readiness: () => Promise<Readiness>;
  logger: Logger;
  /** Where refused credential requests are recorded (issue and revoke record their own entry with the change). */
  audit: Pick<AuditLog, 'record'>;
}

const IssueBody = requestSchema('agentCredentials.issue', 'body')(z.strictObject({ clusterId: ClusterIdSchema, agentId: NodeIdSchema }));
const ListQuery = requestSchema('agentCredentials.list', 'query')(z.strictObject({
  clusterId: ClusterIdSchema.optional(),
  limit: z.coerce.number().int().min(1).max(credentialListMax).default(100),
}));
const CredentialId = z.uuid();

/** Who is asking, once known, so that a refusal after the admin check names them. */
interface Caller {
  actor: string | null;
}

async function requireAdmin(request: IncomingMessage, context: AgentRoutesContext, caller: Caller): Promise<string> {
  const admin = await context.adminCheck(request);
  if (!admin) throw new AppError('unauthorized', 'admin credentials required');
  caller.actor = admin.actor;
  return admin.actor;
}

type Answer = { status: number; data: unknown } | null;

async function route(request: IncomingMessage, url: URL, context: AgentRoutesContext, caller: Caller): Promise<Answer> {
  const { pathname } = url;
  const method = request.method ?? 'GET';
  if (pathname === '/api/ready') {
    if (method !== 'GET') throw new AppError('invalid_input', `method ${method} not allowed`);
    const readiness: HttpResponse<'ready'> = await context.readiness();
    return { status: readiness.ready ? 200 : 503, data: readiness };
  }
  if (pathname === '/api/agent-credentials' && method === 'GET') {
    await requireAdmin(request, context, caller);
    const query = parse(ListQuery, Object.fromEntries(url.searchParams));
    const listed: HttpResponse<'agentCredentials.list'> = await context.credentials.list(query.clusterId, query.limit);
    return { status: 200, data: listed };
  }
  if (pathname === '/api/agent-credentials' && method === 'POST') {
    const actor = await requireAdmin(request, context, caller);
    const body = parse(IssueBody, await readJsonBody(request, agentRouteBodyBytesMax, false));
    const issued = await context.credentials.issue({ ...body, createdBy: actor, origin: describeOrigin(request) });
    const answer: HttpResponse<'agentCredentials.issue'> = { ...issued.credential, token: issued.token };
    return { status: 201, data: answer };
  }
  const revoke = /^\/api\/agent-credentials\/([^/]+)\/revoke$/.exec(pathname);
  if (revoke && method === 'POST') {
    const actor = await requireAdmin(request, context, caller);
    const id = parse(CredentialId, revoke[1]);
    if (!(await context.credentials.revoke(id, actor, describeOrigin(request)))) throw new AppError('not_found', `no live credential with id ${id}`);
    const answer: HttpResponse<'agentCredentials.revoke'> = { id, revoked: true };
    return { status: 200, data: answer };
  }
  if (pathname.startsWith('/api/agent-credentials')) throw new AppError('not_found', `no route ${method} ${pathname}`);
  return null;
}

/** True when the path belongs to these routes (the caller then awaits `handleAgentRoutes`). */
export function isAgentRoute(pathname: string): boolean {
  return pathname === '/metrics' || pathname === '/api/ready' || pathname === '/api/agent-credentials' || pathname.startsWith('/api/agent-credentials/');
}

/** Answers one request on these routes. */
export async function handleAgentRoutes(request: IncomingMessage, response: ServerResponse, context: AgentRoutesContext): Promise<void> {
  const url = new URL(request.url ?? '/', 'http://localhost');
  const caller: Caller = { actor: null };
  try {
    if (url.pathname === '/metrics') {
      const { contentType, body } = await context.metrics.render();
      response.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-store' });
      response.end(body);
      return;
    }
    const answer = await route(request, url, context, caller);
    if (!answer) throw new AppError('not_found', `no route ${url.pathname}`);
    sendJson(response, answer.status, answer.status < 300 ? { ok: true, data: answer.data } : { ok: false, code: 'unavailable', message: 'not ready', data: answer.data });
  } catch (error) {
    if (!(error instanceof AppError)) context.logger.error({ err: error, path: url.pathname }, 'route failed');
    const reply = toErrorReply(error);
    if (url.pathname.startsWith('/api/agent-credentials')) await auditRefusal(request, url, context, caller, reply.code);
    sendJson(response, httpStatusByCode[reply.code], reply);
  }
}

/** Records a refused credential request (who, from where, why); a failed write is logged, never hidden. */
async function auditRefusal(request: IncomingMessage, url: URL, context: AgentRoutesContext, caller: Caller, code: string): Promise<void> {
  try {
    await context.audit.record({
      actor: caller.actor ?? 'anonymous',
      action: `refused ${request.method ?? 'GET'} ${url.pathname}`,
      target: /^\/api\/agent-credentials\/([^/]+)/.exec(url.pathname)?.[1] ?? null,
      origin: describeOrigin(request),
      data: { outcome: `refused: ${code}` },
    });
  } catch (error) {
    context.logger.error({ err: error, path: url.pathname }, 'audit entry of a refused credential request not written');
  }
}
