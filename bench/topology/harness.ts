/**
 * Serves the topology harness page (bench/topology/harness-page.tsx bundled by
 * esbuild, with the console's stylesheet) on a loopback port, and launches
 * Chromium with the other browser tests' flags. WebGL works there as it is:
 * with --disable-gpu, Chromium 156 gives WebGL 2 through ANGLE on SwiftShader's
 * software Vulkan (checked with and without --enable-unsafe-swiftshader, same
 * renderer), so no extra flag is needed.
 */
import { readFile } from 'node:fs/promises';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { build } from 'esbuild';
import { type Browser, chromium } from 'playwright-core';

const root = path.resolve(import.meta.dirname, '../..');
export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** The console tests' flags. */
export const chromiumArgs = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** The harness page served; `close` stops the server. */
export interface Harness {
  url: string;
  close: () => Promise<void>;
}

export async function startHarness(): Promise<Harness> {
  const bundle = await build({
    entryPoints: [path.join(root, 'bench/topology/harness-page.tsx')],
    bundle: true,
    write: false,
    format: 'esm',
    jsx: 'automatic',
    minify: true,
    define: { 'process.env.NODE_ENV': '"production"' },
    logLevel: 'error',
  });
  const script = bundle.outputFiles[0]!.text;
  const css = await readFile(path.join(root, 'app/globals.css'), 'utf8');
  const html = `<!doctype html><html lang="en" data-theme="light"><head><meta charset="utf-8"><title>Topology harness</title><style>${css}</style></head><body><div id="root"></div><script type="module" src="/harness.js"></script></body></html>`;
  const server: Server = createServer((request, response) => {
    if (request.url === '/harness.js') response.writeHead(200, { 'content-type': 'text/javascript' }).end(script);
    else response.writeHead(200, { 'content-type': 'text/html' }).end(html);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath, args: chromiumArgs });
}
