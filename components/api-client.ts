/**
 * Typed fetch helpers for the JSON API; errors carry the server's code and message.
 * State-changing calls echo the session's CSRF token (the server refuses them
 * without it); a 401 sends the operator to the sign-in page.
 */
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

/** Calls the API and returns `data`, or throws ApiError. */
export async function api<T>(path: string, init?: { method?: 'GET' | 'POST'; body?: unknown; redirectOnUnauthorized?: boolean }): Promise<T> {
  const method = init?.method ?? 'GET';
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      credentials: 'same-origin',
      headers: {
        ...(init?.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(method !== 'GET' && csrfToken ? { 'x-csrf-token': csrfToken } : {}),
      },
      body: init?.body === undefined ? undefined : JSON.stringify(init.body),
    });
  } catch (error) {
    throw new ApiError('network', `server unreachable: ${(error as Error).message}`);
  }
  const payload = (await response.json().catch(() => null)) as
    | { ok: true; data: T }
    | { ok: false; code: ErrorCode; message: string }
    | null;
  if (!payload) throw new ApiError('internal', `unexpected ${response.status} from server`);
  if (!payload.ok) {
    if (payload.code === 'unauthorized' && init?.redirectOnUnauthorized !== false) goToSignIn();
    throw new ApiError(payload.code, payload.message);
  }
  return payload.data;
}
