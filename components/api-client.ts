/** Typed fetch helpers for the JSON API; errors carry the server's code and message. */
import type { ErrorCode } from '../core/protocol';

export class ApiError extends Error {
  constructor(
    readonly code: ErrorCode | 'network',
    message: string,
  ) {
    super(message);
  }
}

/** Calls the API and returns `data`, or throws ApiError. */
export async function api<T>(path: string, init?: { method?: 'GET' | 'POST'; body?: unknown }): Promise<T> {
  let response: Response;
  try {
    response = await fetch(path, {
      method: init?.method ?? 'GET',
      headers: init?.body === undefined ? {} : { 'content-type': 'application/json' },
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
  if (!payload.ok) throw new ApiError(payload.code, payload.message);
  return payload.data;
}
