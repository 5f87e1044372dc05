/**
 * The one typed contract of the JSON API, beside the realtime one: every route's
 * method and path, and what it takes (path parameters, query, body) and answers.
 * The server builds its router from `httpRoutes` and its handlers must return the
 * declared answer; the console's api client builds URLs from the same table and
 * gets the answer's type from it, so neither side declares a response by hand.
 * Every answer travels as `{ ok: true, data } | { ok: false, code, message }`.
 */
import type { DryRun } from './policy/dry-run';
import type { CoverageView, ExperimentProgress, ExperimentReport, ExperimentRunView, ScenarioValidation } from './experiments/experiment-views';
import type { Role } from './permissions';
import type { NodeId } from './protocol';
import type { AlertView, ClusterSnapshot, PartitionSummary, RecoveryRunView } from './realtime-contract';
import type {
  AlertCounts,
  ApiTokenView,
  AuditView,
  ClusterListItem,
  CreatedApiToken,
  CredentialView,
  FaultsView,
  HealthReport,
  HistoryPage,
  IssuedCredential,
  PartitionRecord,
  PartitionWithTimeline,
  Readiness,
  ScenarioRunView,
  ScenarioView,
  SessionView,
  SignedIn,
  UserView,
} from './http-views';

/** A route's method and path; `:name` segments are path parameters. */
export interface HttpRouteSpec {
  method: 'GET' | 'POST';
  path: `/${string}`;
}

/** Every route, by name, in the order the server matches them (a literal segment before a parameter). */
export const httpRoutes = {
  health: { method: 'GET', path: '/api/health' },
  ready: { method: 'GET', path: '/api/ready' },
  'clusters.list': { method: 'GET', path: '/api/clusters' },
  'cluster.get': { method: 'GET', path: '/api/cluster' },
  'partitions.list': { method: 'GET', path: '/api/partitions' },
  'partitions.get': { method: 'GET', path: '/api/partitions/:id' },
  'faults.list': { method: 'GET', path: '/api/faults' },
  'faults.cut': { method: 'POST', path: '/api/faults/cut' },
  'faults.degrade': { method: 'POST', path: '/api/faults/degrade' },
  'faults.isolate': { method: 'POST', path: '/api/faults/isolate' },
  'faults.split': { method: 'POST', path: '/api/faults/split' },
  'faults.heal': { method: 'POST', path: '/api/faults/heal' },
  'scenarios.list': { method: 'GET', path: '/api/scenarios' },
  'scenarios.run': { method: 'GET', path: '/api/scenarios/run' },
  'scenarios.start': { method: 'POST', path: '/api/scenarios/:name/start' },
  // Experiments (core/experiments): literal paths before `:id`.
  'experiments.list': { method: 'GET', path: '/api/experiments' },
  'experiments.start': { method: 'POST', path: '/api/experiments' },
  'experiments.validate': { method: 'POST', path: '/api/experiments/validate' },
  'experiments.current': { method: 'GET', path: '/api/experiments/current' },
  'experiments.abort': { method: 'POST', path: '/api/experiments/abort' },
  'experiments.coverage': { method: 'GET', path: '/api/experiments/coverage' },
  'experiments.export': { method: 'GET', path: '/api/experiments/:id/export' },
  'experiments.get': { method: 'GET', path: '/api/experiments/:id' },
  'partitions.reproduce': { method: 'GET', path: '/api/partitions/:id/scenario' },
  'auth.session': { method: 'GET', path: '/api/auth/session' },
  'auth.signIn': { method: 'POST', path: '/api/auth/sign-in' },
  'auth.signOut': { method: 'POST', path: '/api/auth/sign-out' },
  'users.list': { method: 'GET', path: '/api/users' },
  'users.create': { method: 'POST', path: '/api/users' },
  'users.update': { method: 'POST', path: '/api/users/:id' },
  'tokens.list': { method: 'GET', path: '/api/tokens' },
  'tokens.create': { method: 'POST', path: '/api/tokens' },
  'tokens.revoke': { method: 'POST', path: '/api/tokens/:id/revoke' },
  'audit.list': { method: 'GET', path: '/api/audit' },
  'alerts.list': { method: 'GET', path: '/api/alerts' },
  'alerts.counts': { method: 'GET', path: '/api/alerts/counts' },
  'alerts.acknowledge': { method: 'POST', path: '/api/alerts/:id/acknowledge' },
  'alerts.resolve': { method: 'POST', path: '/api/alerts/:id/resolve' },
  'recovery.list': { method: 'GET', path: '/api/recovery' },
  'recovery.dryRun': { method: 'GET', path: '/api/recovery/dry-run' },
  'recovery.start': { method: 'POST', path: '/api/recovery' },
  'recovery.approve': { method: 'POST', path: '/api/recovery/:id/approve' },
  'recovery.reject': { method: 'POST', path: '/api/recovery/:id/reject' },
  'recovery.pause': { method: 'POST', path: '/api/recovery/:id/pause' },
  'recovery.resume': { method: 'POST', path: '/api/recovery/:id/resume' },
  'recovery.abort': { method: 'POST', path: '/api/recovery/:id/abort' },
  'history.list': { method: 'GET', path: '/api/history' },
  'history.export': { method: 'GET', path: '/api/history/export' },
  'history.detail': { method: 'GET', path: '/api/history/:id' },
  'agentCredentials.list': { method: 'GET', path: '/api/agent-credentials' },
  'agentCredentials.issue': { method: 'POST', path: '/api/agent-credentials' },
  'agentCredentials.revoke': { method: 'POST', path: '/api/agent-credentials/:id/revoke' },
} as const satisfies Record<string, HttpRouteSpec>;

/** The name of one route. */
export type HttpRouteName = keyof typeof httpRoutes;

/** Names the cluster; optional where the server picks the only (or demo) cluster. */
type ClusterChoice = { clusterId?: string };
/** A recovery strategy an operator may request. */
export type RecoveryStrategy = 'automatic' | 'manual' | 'phased';
/** A reason for a recovery decision or control (pause, resume, abort). */
type ReasonBody = { body: { reason: string } };
type RecoveryDecision = ReasonBody & { response: RecoveryRunView };

/** Filters of the partition history, as they appear in the console's URL and the API's query. */
export const historyFilterKeys = ['type', 'from', 'to', 'node', 'durationMinS', 'durationMaxS', 'outcome', 'sort', 'order', 'page', 'pageSize'] as const;
/** The history query: the filters as text (the server parses and bounds them) and the cluster. */
export type HistoryQueryInput = Partial<Record<(typeof historyFilterKeys)[number], string>> & ClusterChoice;
/** `format` of the history export. */
type ExportQuery = HistoryQueryInput & { format?: 'csv' | 'json' };

/**
 * What each route takes and answers. `query` and `body` are what the client
 * sends (optional members may be left out; the server applies defaults and
 * limits); `response` is the `data` of a successful answer.
 */
export interface HttpExchanges {
  health: { response: HealthReport };
  ready: { response: Readiness };
  'clusters.list': { response: ClusterListItem[] };
  'cluster.get': { query: ClusterChoice; response: ClusterSnapshot };
  'partitions.list': { query: ClusterChoice & { limit?: number; before?: number }; response: PartitionSummary[] };
  'partitions.get': { response: PartitionWithTimeline };
  'faults.list': { query: ClusterChoice; response: FaultsView };
  'faults.cut': { body: ClusterChoice & { from: NodeId; to: NodeId; oneWay?: boolean }; response: FaultsView };
  'faults.degrade': { body: ClusterChoice & { from: NodeId; to: NodeId; lossRatio?: number; corruptRatio?: number; delayMs?: number; jitterMs?: number }; response: FaultsView };
  'faults.isolate': { body: ClusterChoice & { node: NodeId }; response: FaultsView };
  'faults.split': { body: ClusterChoice & { groups: NodeId[][] }; response: FaultsView };
  'faults.heal': { body: ClusterChoice & { from?: NodeId; to?: NodeId }; response: FaultsView };
  'scenarios.list': { response: ScenarioView[] };
  'scenarios.run': { query: ClusterChoice; response: ScenarioRunView | null };
  'scenarios.start': { body: ClusterChoice; response: ScenarioRunView };
  /** `scenario` is a whole scenario file, or `name` one of the catalog's. */
  'experiments.list': { query: ClusterChoice & { limit?: number }; response: ExperimentRunView[] };
  'experiments.start': { body: ClusterChoice & { scenario?: unknown; name?: string }; response: ExperimentRunView };
  'experiments.validate': { body: { scenario: unknown }; response: ScenarioValidation };
  'experiments.current': { query: ClusterChoice; response: ExperimentProgress | null };
  'experiments.abort': { body: ClusterChoice; response: ExperimentRunView };
  'experiments.coverage': { query: ClusterChoice; response: CoverageView };
  /** Streamed JSON or JUnit XML, not the JSON envelope: the console links to it. */
  'experiments.export': { query: { format?: 'json' | 'junit' }; stream: true; response: string };
  'experiments.get': { response: ExperimentReport };
  /** A scenario file reproducing the partition (sim/scenario.ts schema). */
  'partitions.reproduce': { response: Record<string, unknown> };
  'auth.session': { response: SessionView | null };
  'auth.signIn': { body: { name: string; password: string }; response: SignedIn };
  'auth.signOut': { body: Record<string, never>; response: null };
  'users.list': { response: UserView[] };
  'users.create': { body: { name: string; role: Role; password: string }; response: UserView };
  'users.update': { body: { role?: Role; disabled?: boolean }; response: UserView };
  'tokens.list': { response: ApiTokenView[] };
  'tokens.create': { body: { name: string; role: Role }; response: CreatedApiToken };
  'tokens.revoke': { body: Record<string, never>; response: null };
  'audit.list': { query: { limit?: number; before?: string; actor?: string; action?: string }; response: AuditView[] };
  'alerts.list': {
    query: ClusterChoice & { status?: string; search?: string; partitionId?: string; limit?: number; before?: number };
    response: AlertView[];
  };
  'alerts.counts': { query: ClusterChoice; response: AlertCounts };
  'alerts.acknowledge': { body: { note: string }; response: AlertView };
  'alerts.resolve': { body: Record<string, never>; response: AlertView };
  'recovery.list': { query: ClusterChoice & { status?: string; partitionId?: string; limit?: number }; response: RecoveryRunView[] };
  'recovery.dryRun': { query: { partitionId: string; strategy?: RecoveryStrategy }; response: DryRun };
  'recovery.start': { body: { partitionId: string; strategy: RecoveryStrategy }; response: RecoveryRunView };
  'recovery.approve': RecoveryDecision;
  'recovery.reject': RecoveryDecision;
  'recovery.pause': RecoveryDecision;
  'recovery.resume': RecoveryDecision;
  'recovery.abort': RecoveryDecision;
  'history.list': { query: HistoryQueryInput; response: HistoryPage };
  /** Streamed CSV or JSON, not the JSON envelope: the console links to it. */
  'history.export': { query: ExportQuery; stream: true; response: string };
  'history.detail': { response: PartitionRecord };
  'agentCredentials.list': { query: ClusterChoice & { limit?: number }; response: CredentialView[] };
  'agentCredentials.issue': { body: { clusterId: string; agentId: NodeId }; response: IssuedCredential };
  'agentCredentials.revoke': { body: Record<string, never>; response: { id: string; revoked: true } };
}

/** Compile-time check that the table and the exchanges name the same routes. */
type SameKeys<A, B> = [Exclude<keyof A, keyof B>, Exclude<keyof B, keyof A>] extends [never, never] ? true : never;
const _everyRouteHasAnExchange: SameKeys<typeof httpRoutes, HttpExchanges> = true;
void _everyRouteHasAnExchange;

/** The `:name` parameters of a path, as an object of strings. */
export type PathParams<Path extends string> = Path extends `${string}:${infer Name}/${infer Rest}`
  ? { [K in Name]: string } & PathParams<`/${Rest}`>
  : Path extends `${string}:${infer Name}`
    ? { [K in Name]: string }
    : Record<never, never>;

/** What route `N` answers. */
export type HttpResponse<N extends HttpRouteName> = HttpExchanges[N]['response'];
/** The body route `N` takes, or undefined. */
export type HttpBody<N extends HttpRouteName> = N extends HttpRouteName ? (HttpExchanges[N] extends { body: infer Body } ? Body : undefined) : never;
/** The query route `N` takes, or undefined. */
export type HttpQuery<N extends HttpRouteName> = HttpExchanges[N] extends { query: infer Query } ? Query : undefined;
/** The path parameters of route `N`. */
export type HttpPathParams<N extends HttpRouteName> = PathParams<(typeof httpRoutes)[N]['path']>;


/** The path of route `name` with its parameters filled in (each URL-encoded). */
export function httpPath<N extends HttpRouteName>(name: N, params: HttpPathParams<N>): string {
  const values = params as Record<string, string>;
  return httpRoutes[name].path.replace(/:([A-Za-z]+)/g, (_match, key: string) => {
    const value = values[key];
    if (value === undefined) throw new RangeError(`${name}: path parameter ${key} missing`);
    return encodeURIComponent(value);
  });
}

/** A query string (with its `?`, or empty) of the members that are set. */
export function httpQueryString(query: Record<string, string | number | boolean | undefined> | undefined): string {
  if (!query) return '';
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) if (value !== undefined && value !== '') search.set(key, String(value));
  const text = search.toString();
  return text ? `?${text}` : '';
}

/** The regular expression matching a route's path, one capture group per parameter, in order. */
export function httpPathPattern(path: string): RegExp {
  const escaped = path.split('/').map((segment) => (segment.startsWith(':') ? '([^/]+)' : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
  return new RegExp(`^${escaped.join('/')}$`);
}
