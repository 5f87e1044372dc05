/**
 * Reading and writing the JSON API's bodies on Node's HTTP objects, shared by the
 * console's router and the operations routes: a request body bounded in bytes,
 * the reply envelope, and streamed answers with backpressure.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AppError } from '../app-error';
import type { Logger } from '../logger';
import type { StreamResponse } from './route';

/**
 * Reads a JSON body of at most `bytesMax` bytes (the declared length is checked
 * before reading). An empty body is `undefined` when `emptyAllowed`; otherwise,
 * like any body, it must be `application/json` and parse.
 */
export async function readJsonBody(request: IncomingMessage, bytesMax: number, emptyAllowed: boolean): Promise<unknown> {
  const tooLarge = () => new AppError('payload_too_large', `body exceeds ${bytesMax} bytes`);
  if (Number(request.headers['content-length'] ?? 0) > bytesMax) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > bytesMax) throw tooLarge();
    chunks.push(chunk as Buffer);
  }
  if (size === 0 && emptyAllowed) return undefined;
  if (!(request.headers['content-type'] ?? '').startsWith('application/json')) throw new AppError('invalid_input', 'content-type: must be application/json');
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new AppError('invalid_input', 'body: not valid JSON');
  }
}

/** Sends `payload` as JSON with `status`; bigints become decimal text. */
export function sendJson(response: ServerResponse, status: number, payload: unknown): void {
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
export async function sendStream(response: ServerResponse, payload: StreamResponse, logger: Logger): Promise<void> {
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
