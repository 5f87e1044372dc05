/**
 * The JSON API under /api. Each handler parses its input with a schema, calls one
 * service and maps the result to the answer the HTTP contract
 * (core/http-contract.ts) declares; errors become `{ ok: false, code, message }`
 * with the matching HTTP status, and unknown errors never leak internals.
 *
 * Every route declares who may call it; the router authenticates (bearer token or
 * session cookie), checks the role, and for state-changing requests checks the
 * Origin and the session's CSRF token before the handler runs. Every POST,
 * allowed or refused, is written to the audit log.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HealthReport } from '../../core/http-views';
import { AppError, httpStatusByCode, toErrorReply } from '../app-error';
import type { Principal } from '../auth/auth-service';
import { authenticate, checkCsrf, checkOrigin, describeOrigin, requireRole } from '../auth/request-auth';
import type { ClusterService } from '../cluster-service';
import type { ConsoleServices } from '../console-services';
import type { FaultController } from '../fault-controller';
import type { Logger } from '../logger';
import type { ScenarioRunner } from '../scenario-runner';
import { authRoutes } from './auth-routes';
import { clusterRoutes } from './cluster-routes';
import { consoleRoutes } from './console-routes';
import { experimentRoutes } from './experiment-routes';
import type { ExperimentRunner } from '../experiments/experiment-runner';
import type { ExperimentService } from '../experiments/experiment-service';
import type { ScenarioValidation } from '../../core/experiments/experiment-views';
import { readJsonBody, sendJson, sendStream } from './json-io';
import { type RequestEntry, auditRefusal, runAudited } from './request-audit';
import { type Route, isStreamResponse, route as declareRoute } from './route';

/** Largest request body accepted, in bytes. */
export const requestBodyBytesMax = 64 * 1024;

/** What the API needs from the rest of the server. */
export interface ApiContext extends Omit<ConsoleServices, 'endSession'> {
  service: ClusterService;
  faults: FaultController;
  /** The scenario catalog and the runs going on. */
  scenarios: ScenarioRunner;
  health: () => Promise<HealthReport>;
  /** Experiments: the runner (one per cluster) and the stored reports. */
  experiments: ExperimentRunner;
  experimentReports: ExperimentService;
  validateScenario: (file: unknown) => ScenarioValidation;
  logger: Logger;
  /** Disconnects the live connections of a session that just ended. */
  endSession?: ConsoleServices['endSession'];
}

/** Every API route; exported so tests can check each one's protection. */
export const routes: Route[] = [
  declareRoute('health', { access: 'public', handler: async (_request, context) => context.health() }),
  ...clusterRoutes,
  ...experimentRoutes,
  ...authRoutes,
  ...consoleRoutes,
];

/** Authorises `principal` for `route`: origin and CSRF checks on state-changing requests, then the role. */
function authorize(request: IncomingMessage, route: Route, principal: Principal | null, context: ApiContext, encrypted: boolean): void {
  const stateChanging = route.method !== 'GET';
  if (stateChanging) checkOrigin(request.headers, encrypted, context.allowedOrigins);
  if (route.access === 'public') return;
  requireRole(principal, route.access);
  if (stateChanging) checkCsrf(request.headers, principal!);
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
      return sendJson(response, 405, { ok: false, code: 'invalid_input', message: `method ${request.method} not allowed` });
    }
    const matched = route;
    params = matched.pattern.exec(url.pathname)!.slice(1);
    principal = await authenticate(request.headers, context.auth);
    authorize(request, matched, principal, context, encrypted);
    body = matched.method === 'POST' ? await readJsonBody(request, requestBodyBytesMax, true) : undefined;
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
    sendJson(response, 200, { ok: true, data });
  } catch (error) {
    if (!(error instanceof AppError)) context.logger.error({ err: error, path: url.pathname }, 'API handler failed');
    const reply = toErrorReply(error);
    if (error instanceof AppError && error.hint.retryAfterS !== undefined) response.setHeader('retry-after', String(error.hint.retryAfterS));
    if (audited || reply.code === 'forbidden') await auditRefusal(context, entryOf(`refused: ${reply.code}`));
    sendJson(response, httpStatusByCode[reply.code], reply);
  }
}
