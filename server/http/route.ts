/**
 * The shape of one JSON API route: its name in the HTTP contract (which gives its
 * method, path and answer), who may call it (an action checked against the
 * caller's role, or `public`), the name it is audited under, and a handler that
 * parses, calls one service and returns the contract's answer.
 */
import type { z } from 'zod';
import { type HttpBody, type HttpExchanges, type HttpQuery, type HttpResponse, type HttpRouteName, httpPathPattern, httpRoutes } from '../../core/http-contract';
import type { Action } from '../../core/permissions';
import { describeZodError } from '../../core/protocol';
import { AppError } from '../app-error';
import type { Principal } from '../auth/auth-service';
import type { ApiContext } from './api';

/** What a handler receives. */
export interface ApiRequest {
  query: URLSearchParams;
  body: unknown;
  /** Capture groups of the route's pattern. */
  params: string[];
  /** Who is calling; null only on public routes. */
  principal: Principal | null;
  /** Remote address and user agent, for the audit log. */
  origin: string;
  /** Remote address alone: what sign-in failures are counted against. */
  source: string;
  /** True when the request arrived over TLS (cookies get `Secure`). */
  secure: boolean;
  /** Adds a response header (Set-Cookie on sign-in and sign-out). */
  setHeader(name: string, value: string): void;
  /** Names who acted when the principal cannot (a sign-in: the user who signed in), for the audit entry. */
  setActor(name: string): void;
}

/** A streamed answer (history export): headers first, then `run` writes the body piece by piece. */
export interface StreamResponse {
  stream: true;
  contentType: string;
  /** Suggested download name. */
  filename?: string;
  run(sink: { write(chunk: string): Promise<boolean> }): Promise<unknown>;
}

export type Handler = (request: ApiRequest, context: ApiContext) => Promise<unknown>;

/** One route. */
export interface Route {
  /** Its name in the HTTP contract. */
  name: HttpRouteName;
  method: 'GET' | 'POST';
  pattern: RegExp;
  /** `public` needs no sign-in; any other value is the action the caller's role must allow. */
  access: Action | 'public';
  /** Name of the action in the audit log; every POST route has one. */
  audit?: string;
  /**
   * True when the action's effects live outside the database (fault injection
   * commands agents): its audit entry is written before it acts, so that an entry
   * that cannot be written refuses the action instead of leaving it unrecorded.
   */
  auditBeforeAction?: boolean;
  /**
   * What the action is done to, for its audit entry, when the path does not name it
   * (fault injection: the cluster and the link or node); from the raw body, so it is
   * known before the handler runs. Null when the body does not parse.
   */
  auditTarget?: (body: unknown, context: ApiContext) => string | null;
  handler: Handler;
}

/** What the handler of route `N` returns: the contract's answer, or a stream for a streamed route. */
export type RouteAnswer<N extends HttpRouteName> = HttpExchanges[N] extends { stream: true } ? StreamResponse : HttpResponse<N>;

/** Declares route `name` of the contract; the handler must answer what the contract says. */
export function route<N extends HttpRouteName>(
  name: N,
  spec: Pick<Route, 'access' | 'audit' | 'auditBeforeAction' | 'auditTarget'> & { handler: (request: ApiRequest, context: ApiContext) => Promise<RouteAnswer<N>> },
): Route {
  const { method, path } = httpRoutes[name];
  return { name, method, pattern: httpPathPattern(path), ...spec };
}

/** True when schema `S` parses every key of `T` and each value `T` allows is a valid input type for it. */
type ParsesEveryField<S extends z.ZodType, T> = [T] extends [z.input<S>] ? ([Exclude<keyof T, keyof z.input<S>>] extends [never] ? true : false) : false;

/**
 * A request schema for what the contract lets a client send to route `N` (its
 * body, or its query): checked at compile time that it has a parser of a
 * compatible type for every field the contract names, so the console's types and
 * the server's parsing cannot drift apart. Limits (lengths, ranges) stay the
 * server's. Curried so the route is named first.
 */
export function requestSchema<N extends HttpRouteName, Part extends 'body' | 'query'>(_name: N, _part: Part) {
  type Sent = Exclude<Part extends 'body' ? HttpBody<N> : HttpQuery<N>, undefined>;
  return <S extends z.ZodType>(schema: S & (ParsesEveryField<S, Sent> extends true ? unknown : never)): S => schema;
}

/** Parses input with a schema or throws `invalid_input` naming the fields. */
export function parse<T>(schema: z.ZodType<T>, value: unknown): T {
  const result = schema.safeParse(value);
  if (!result.success) throw new AppError('invalid_input', describeZodError(result.error));
  return result.data;
}

/** The principal of a route that is not public (the router has checked it). */
export function principalOf(request: ApiRequest): Principal {
  if (!request.principal) throw new AppError('unauthorized', 'sign in first');
  return request.principal;
}

/** True for a streamed answer. */
export function isStreamResponse(value: unknown): value is StreamResponse {
  return typeof value === 'object' && value !== null && (value as StreamResponse).stream === true;
}
