/** The console's pages (Next.js), prepared beside the API on the server's one port. */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ServerConfig } from './config';
import type { PageHandler } from './request-router';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The server's base URL for a host and port. */
export function listenUrl(host: string, port: number): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** Loads and prepares the Next.js app (the console's pages). */
export async function prepareWebApp(config: ServerConfig): Promise<{ handler: PageHandler; app: { close?: () => Promise<void> } }> {
  const { default: next } = await import('next');
  const app = next({ dev: config.dev, dir: projectRoot, hostname: config.host, port: config.port });
  await app.prepare();
  return { handler: app.getRequestHandler() as unknown as PageHandler, app: app as unknown as { close?: () => Promise<void> } };
}
