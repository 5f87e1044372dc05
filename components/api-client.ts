/**
 * Typed fetch helpers for the JSON API, built on the HTTP contract
 * (core/http-contract.ts): a call names its route, and the contract gives the
 * URL, what it takes and what it answers. Errors carry the server's code and message.
 * State-changing calls echo the session's CSRF token (the server refuses them
 * without it); a 401 sends the operator to the sign-in page.
 */
import {
  type HttpBody,
  type HttpPathParams,
  type HttpQuery,
  type HttpResponse,
  type HttpRouteName,
  httpPath,
  httpQueryString,
  httpRoutes,
} from '../core/http-contract';
import type { ErrorCode } from '../core/protocol';

export class ApiError extends Error {
  constructor(
    readonly code: ErrorCode | 'network',
    message: string,
  ) {
    super(message);
  }
}

let csrfToken: string | null = null;

/** Set by the session provider once the session is known. */
export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

/** Sends the browser to the sign-in page, remembering where it was. */
export function goToSignIn(): void {
  if (typeof window === 'undefined' || window.location.pathname === '/sign-in') return;
  window.location.assign(`/sign-in?next=${encodeURIComponent(window.location.pathname + window.location.search)}`);
}

/** What one call of route `N` passes: its path parameters, query and body where it has them. */
export type ApiCall<N extends HttpRouteName> = (keyof HttpPathParams<N> extends never ? { params?: undefined } : { params: HttpPathParams<N> }) &
  (HttpQuery<N> extends undefined ? { query?: undefined } : Record<string, never> extends HttpQuery<N> ? { query?: HttpQuery<N> } : { query: HttpQuery<N> }) &
  (HttpBody<N> extends undefined ? { body?: undefined } : { body: HttpBody<N> }) & {
    /** False to get the `unauthorized` error instead of being sent to the sign-in page. */
    redirectOnUnauthorized?: boolean;
  };

type CallArguments<N extends HttpRouteName> = Record<string, never> extends ApiCall<N> ? [call?: ApiCall<N>] : [call: ApiCall<N>];

/** The URL of route `name` (for links, such as the history export). */
export function apiUrl<N extends HttpRouteName>(name: N, ...[call]: CallArguments<N>): string {
  const params = (call?.params ?? {}) as HttpPathParams<N>;
  return `${httpPath(name, params)}${httpQueryString(call?.query as Record<string, string | number | undefined> | undefined)}`;
}

/** Calls route `name` and returns its answer's `data`, or throws ApiError. */
export async function api<N extends HttpRouteName>(name: N, ...[call]: CallArguments<N>): Promise<HttpResponse<N>> {
  const { method } = httpRoutes[name];
  const path = apiUrl(name, ...([call] as CallArguments<N>));
  const init = { body: call?.body as unknown, redirectOnUnauthorized: call?.redirectOnUnauthorized };
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      credentials: 'same-origin',
      headers: {
        ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(method !== 'GET' && csrfToken ? { 'x-csrf-token': csrfToken } : {}),
      },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });
  } catch (error) {
    throw new ApiError('network', `server unreachable: ${(error as Error).message}`);
  }
  const payload = (await response.json().catch(() => null)) as
    | { ok: true; data: HttpResponse<N> }
    | { ok: false; code: ErrorCode; message: string }
    | null;
  if (!payload) throw new ApiError('internal', `unexpected ${response.status} from server`);
  if (!payload.ok) {
    if (payload.code === 'unauthorized' && init.redirectOnUnauthorized !== false) goToSignIn();
    throw new ApiError(payload.code, payload.message);
  }
  return payload.data;
}
