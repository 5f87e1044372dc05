/**
 * The node's small HTTP API to its reference store: GET/PUT/DELETE /kv/:key and
 * GET /digest. An adapter in the house style: parse, call the store, map the
 * result; fence refusals are expected conditions answered with 503 and a code.
 */
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import { z } from 'zod';
import { digestBucketCountMax } from '../../core/digest';
import { encodeHlc } from '../../core/hlc';
import { type ErrorCode, describeZodError } from '../../core/protocol';
import { keyLengthMax, valueBytesMax } from '../../core/reconcile/data-plane-commands';
import type { KvStore, WriteRefusal, WriteResult } from './kv-store';

/** Largest request body accepted (bytes): a maximal value, JSON-escaped at worst (6 bytes per byte), plus overhead. */
export const storeHttpBodyBytesMax = valueBytesMax * 6 + 1024;

/** Where the API listens. */
export interface StoreHttpOptions {
  /** Interface to bind, for example 127.0.0.1. */
  host: string;
  /** Port; 0 picks a free one (see the returned `port`). */
  port: number;
}

/** A running store API. */
export interface StoreHttpHandle {
  /** Base URL, for example http://127.0.0.1:7400. */
  url: string;
  /** The bound port. */
  port: number;
  /** Stops accepting connections and closes open ones. */
  close(): Promise<void>;
}

const PutBodySchema = z.strictObject({
  /** Bounded by the body size here; the store refuses a value past `valueBytesMax` with its reason (413). */
  value: z.string(),
  /** Marks the write critical: accepted even in emergency mode. */
  critical: z.boolean().default(false),
});

const refusalStatus: Record<WriteRefusal, { status: number; code: ErrorCode }> = {
  'fenced-read-only': { status: 503, code: 'unavailable' },
  'emergency-critical-only': { status: 503, code: 'unavailable' },
  invalid: { status: 400, code: 'invalid_input' },
  'too-large': { status: 413, code: 'payload_too_large' },
  full: { status: 507, code: 'unavailable' },
  clock: { status: 503, code: 'unavailable' },
};

function send(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  response.end(text);
}

function fail(response: ServerResponse, status: number, code: ErrorCode, message: string): void {
  send(response, status, { ok: false, code, message });
}

async function readBody(request: IncomingMessage): Promise<string | null> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of request) {
    const buffer = chunk as Buffer;
    bytes += buffer.length;
    if (bytes > storeHttpBodyBytesMax) return null;
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function replyWrite(response: ServerResponse, result: WriteResult): void {
  if (result.ok) return send(response, 200, { ok: true, data: { hlc: encodeHlc(result.hlc) } });
  const mapped = refusalStatus[result.code];
  fail(response, mapped.status, mapped.code, result.message);
}

async function handlePut(store: KvStore, key: string, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const text = await readBody(request);
  if (text === null) return fail(response, 413, 'payload_too_large', `body larger than ${storeHttpBodyBytesMax} bytes`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return fail(response, 400, 'invalid_input', 'body: not JSON');
  }
  const parsed = PutBodySchema.safeParse(json);
  if (!parsed.success) return fail(response, 400, 'invalid_input', describeZodError(parsed.error));
  replyWrite(response, store.put(key, parsed.data.value, { critical: parsed.data.critical }));
}

function handleGet(store: KvStore, key: string, response: ServerResponse): void {
  const entry = store.get(key);
  if (entry === undefined || entry.value === null) return fail(response, 404, 'not_found', `key ${key} not found`);
  send(response, 200, { ok: true, data: { key, value: entry.value, hlc: encodeHlc(entry.hlc) } });
}

function handleDigest(store: KvStore, url: URL, response: ServerResponse): void {
  const buckets = url.searchParams.get('buckets');
  const bucketCount = buckets === null ? undefined : Number(buckets);
  if (bucketCount !== undefined && (!Number.isInteger(bucketCount) || bucketCount < 1 || bucketCount > digestBucketCountMax)) {
    return fail(response, 400, 'invalid_input', `buckets: an integer in 1..${digestBucketCountMax}`);
  }
  send(response, 200, { ok: true, data: store.digest(bucketCount) });
}

async function route(store: KvStore, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const url = new URL(request.url ?? '/', 'http://store.invalid');
  if (url.pathname === '/digest' && request.method === 'GET') return handleDigest(store, url, response);
  const match = /^\/kv\/([^/]+)$/.exec(url.pathname);
  if (match === null) return fail(response, 404, 'not_found', 'no such route');
  let key: string;
  try {
    key = decodeURIComponent(match[1] ?? '');
  } catch {
    return fail(response, 400, 'invalid_input', 'key: bad percent-encoding');
  }
  if (key.length === 0 || key.length > keyLengthMax) return fail(response, 400, 'invalid_input', `key: length 1..${keyLengthMax}`);
  if (request.method === 'GET') return handleGet(store, key, response);
  if (request.method === 'PUT') return handlePut(store, key, request, response);
  if (request.method === 'DELETE') return replyWrite(response, store.delete(key));
  fail(response, 405, 'invalid_input', `method ${request.method ?? ''} not allowed`);
}

/** Starts the store's HTTP API; resolves once listening. */
export async function startStoreHttp(store: KvStore, options: StoreHttpOptions): Promise<StoreHttpHandle> {
  const server: Server = createServer((request, response) => {
    route(store, request, response).catch(() => {
      if (!response.headersSent) fail(response, 500, 'internal', 'internal error');
      else response.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : options.port;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    url: `http://${host}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
