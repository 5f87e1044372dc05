/**
 * One error type for expected failures at the edges. Adapters map `code` to an
 * HTTP status or a Socket.IO reply; anything else becomes a generic internal error.
 */
import type { ErrorCode } from '../core/protocol';

export class AppError extends Error {
  constructor(
    /** Machine-readable reason, shared with clients. */
    readonly code: ErrorCode,
    message: string,
    /** Extra for the adapter: how long the caller should wait before retrying (s), sent as Retry-After. */
    readonly hint: { retryAfterS?: number } = {},
  ) {
    super(message);
    this.name = 'AppError';
  }
}

/** HTTP status for each error code. */
export const httpStatusByCode: Record<ErrorCode, number> = {
  invalid_input: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  payload_too_large: 413,
  rate_limited: 429,
  unavailable: 503,
  internal: 500,
};

/** Maps any thrown value to a safe `{ code, message }`, hiding internals of unknown errors. */
export function toErrorReply(error: unknown): { ok: false; code: ErrorCode; message: string } {
  if (error instanceof AppError) return { ok: false, code: error.code, message: error.message };
  return { ok: false, code: 'internal', message: 'internal error' };
}
