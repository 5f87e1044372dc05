/**
 * `npm run build:agent`: bundles agent/main.ts and every package it uses (zod,
 * socket.io-client, ws, cockatiel) into one ES module, `dist/faultline-agent.mjs`,
 * that runs with plain `node` on a host with no checkout and no node_modules:
 *
 *   node --max-semi-space-size=1 --max-old-space-size=48 --lite-mode --no-expose-wasm dist/faultline-agent.mjs --id db-1 …
 *
 * (`agentNodeFlags` below are the flags bench/agent-resources.ts measures it with; the
 * systemd unit and the DaemonSet in deploy/ pass the same.) `npm run agent` is untouched:
 * it still runs the TypeScript sources through tsx.
 */
import { stat } from 'node:fs/promises';
import type { Plugin, PluginBuild } from 'esbuild';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Where the one-file agent is written (ignored by git with the other build output). */
export const agentBuildPath = path.join(projectRoot, 'dist', 'faultline-agent.mjs');

/**
 * Node flags a deployed agent runs with, chosen by bench/agent-resources.ts side by side
 * (figures in the README): a 1 MB young generation (the agent makes a few hundred
 * kilobytes of garbage a second, so a larger one only holds more dead pages resident); a
 * bounded old generation, so a leak ends in a restart by the supervisor instead of a host
 * out of memory; and V8's lite mode, which interprets instead of compiling to machine
 * code: at a few dozen datagrams a second the optimising compilers never pay back, and
 * leaving them out keeps about 6 MB of V8's own code and compiled code out of memory for
 * a few hundredths of a percent of a core. Lite mode cannot run WebAssembly, which the
 * agent does not use; saying so (`--no-expose-wasm`) silences V8's warning about it.
 */
export const agentNodeFlags = ['--max-semi-space-size=1', '--max-old-space-size=48', '--lite-mode', '--no-expose-wasm'];

/**
 * Packages' CommonJS code calls `require` for Node's built-ins (ws, debug); an ES module
 * has none, so the bundle makes one. Without it the first such call throws
 * "Dynamic require of "events" is not supported".
 */
const requireShim = "import { createRequire as __faultlineCreateRequire } from 'node:module';\nconst require = __faultlineCreateRequire(import.meta.url);";

/** Packages whose Node entry is their debug build (every call logs through `debug`); the agent takes their plain ES build, which has none. */
const withoutDebugBuild = ['socket.io-client', 'engine.io-client', 'socket.io-parser'];

/**
 * What the agent never runs, left out of the file (each measured by bench/agent-resources.ts:
 * together with minifying, a third less resident memory):
 * - zod's 48 translations of its error messages (a third of the bundle's source); the
 *   agent's configuration errors are in English, zod's default;
 * - the `debug` builds of the Socket.IO client packages (see `withoutDebugBuild`);
 * - `xmlhttprequest-ssl`, the HTTP long-polling transport's XMLHttpRequest: the agent's
 *   link uses WebSocket only (`transports: ['websocket']` in agent/server-link.ts), and
 *   the stub fails loudly should that ever change.
 */
export const agentBuildTrims: Plugin = {
  name: 'agent-build-trims',
  setup(build: PluginBuild) {
    // Resolved as usual (the package's Node entry, its debug build), then its plain twin beside it.
    build.onResolve({ filter: new RegExp(`^(${withoutDebugBuild.join('|').replaceAll('.', '\\.')})$`) }, async (args) => {
      if (args.pluginData === 'resolving') return undefined;
      const usual = await build.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, importer: args.importer, pluginData: 'resolving' });
      if (usual.errors.length > 0) return { errors: usual.errors };
      return { path: usual.path.replace(`${path.sep}build${path.sep}esm-debug${path.sep}`, `${path.sep}build${path.sep}esm${path.sep}`) };
    });
    build.onResolve({ filter: /\/locales\/index\.js$/ }, (args) => (args.importer.includes(`${path.sep}zod${path.sep}`) ? { path: 'zod-locales', namespace: 'agent-stub' } : undefined));
    build.onResolve({ filter: /^xmlhttprequest-ssl$/ }, () => ({ path: 'xmlhttprequest-ssl', namespace: 'agent-stub' }));
    build.onLoad({ filter: /.*/, namespace: 'agent-stub' }, (args) => ({
      loader: 'js',
      contents:
        args.path === 'zod-locales'
          ? 'export {};'
          : 'export default class XMLHttpRequest { constructor() { throw new Error("the agent build carries the WebSocket transport only"); } }',
    }));
  },
};

/** Builds the one-file agent; returns its path and size in bytes. */
export async function buildAgent(outfile: string = agentBuildPath): Promise<{ path: string; bytes: number }> {
  const { build } = await import('esbuild');
  await build({
    entryPoints: [path.join(projectRoot, 'agent', 'main.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile,
    banner: { js: `#!/usr/bin/env node\n${requireShim}` },
    // ws loads these native speed-ups when present and falls back to JavaScript when not.
    external: ['bufferutil', 'utf-8-validate'],
    plugins: [agentBuildTrims],
    // Half the source V8 keeps in memory; stack traces still name functions (no source map: one file).
    minify: true,
    keepNames: false,
    legalComments: 'eof',
    logLevel: 'warning',
  });
  return { path: outfile, bytes: (await stat(outfile)).size };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  buildAgent()
    .then(({ path: built, bytes }) => console.log(`built ${path.relative(process.cwd(), built)} (${(bytes / 1024).toFixed(0)} KiB)`))
    .catch((error: unknown) => {
      console.error(error);
      process.exit(1);
    });
}
