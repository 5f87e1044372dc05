/**
 * `npm start`'s build step: runs `prisma generate`, `next build` and the one-file
 * agent build (scripts/build-agent.ts, which the demo agents run) only when the
 * sources they read changed since the last build. A fingerprint (SHA-256 over the
 * paths and contents of those sources, the Node version and the lock file) is
 * written beside the build output (`.next/faultline-build.json`) once a build
 * succeeds; the next start compares and, when it matches and the outputs are
 * still there, reuses them. Before this, every start rebuilt (minutes under load).
 *
 * `--force` rebuilds whatever the fingerprint says; `--check` only prints whether
 * a build is needed (exit 0: up to date, 1: needed).
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { agentBuildPath, buildAgent } from './build-agent';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Folders whose files the console build or the Prisma client is made from. */
export const buildSourceDirectories = ['app', 'components', 'core', 'public', 'prisma', 'agent'];
/** Single files the build reads. */
export const buildSourceFiles = ['next.config.js', 'tsconfig.json', 'package.json', 'package-lock.json', 'prisma.config.ts'];
/** Where the fingerprint of the last successful build is kept. */
export const buildStampPath = path.join(projectRoot, '.next', 'faultline-build.json');
/** Outputs that must exist for a build to be reused. */
const buildOutputs = [path.join(projectRoot, '.next', 'BUILD_ID'), path.join(projectRoot, 'generated', 'prisma', 'client.ts')];
/** Most files fingerprinted: a bound on the walk (the sources are a few hundred). */
const sourceFilesMax = 20_000;

/** Every source file under `root` (relative paths, sorted), tests included: they are cheap to hash and harmless to count. */
function listFiles(root: string): string[] {
  const found: string[] = [];
  const pending = buildSourceDirectories.map((directory) => path.join(root, directory)).filter((directory) => existsSync(directory));
  while (pending.length > 0 && found.length < sourceFilesMax) {
    const current = pending.pop()!;
    for (const entry of readdirSync(current, { withFileTypes: true })) {
      const full = path.join(current, entry.name);
      if (entry.isDirectory()) pending.push(full);
      else if (entry.isFile()) found.push(path.relative(root, full));
    }
  }
  for (const file of buildSourceFiles) if (existsSync(path.join(root, file))) found.push(file);
  return found.sort();
}

/** The fingerprint of the build's sources under `root`. */
export function sourceFingerprint(root = projectRoot): string {
  const hash = createHash('sha256');
  hash.update(`node ${process.version}\n`);
  for (const file of listFiles(root)) {
    hash.update(`${file}\n`);
    hash.update(readFileSync(path.join(root, file)));
    hash.update('\n');
  }
  return hash.digest('hex');
}

/** The fingerprint stored by the last successful build, or null. */
function storedFingerprint(): string | null {
  try {
    const stamp = JSON.parse(readFileSync(buildStampPath, 'utf8')) as { fingerprint?: unknown };
    return typeof stamp.fingerprint === 'string' ? stamp.fingerprint : null;
  } catch {
    return null;
  }
}

/** Why a build is needed, or null when the last one matches the sources. */
export function buildNeeded(fingerprint: string): string | null {
  const missing = buildOutputs.find((output) => !existsSync(output));
  if (missing) return `${path.relative(projectRoot, missing)} is missing`;
  const stored = storedFingerprint();
  if (stored === null) return 'no fingerprint of an earlier build';
  if (stored !== fingerprint) return 'the sources changed since the last build';
  // A build output newer than its stamp means someone built by hand since: the stamp no longer vouches for it.
  if (statSync(buildOutputs[0]!).mtimeMs > statSync(buildStampPath).mtimeMs + 1000) return 'the build output is newer than its fingerprint';
  return null;
}

/**
 * The one-file agent the demo runs under npm start (it starts in a fraction of tsx's
 * time). Optional: without esbuild (an install without dev dependencies) the demo
 * agents run the sources through tsx instead.
 */
async function buildDemoAgent(): Promise<void> {
  try {
    await buildAgent();
  } catch (error) {
    process.stderr.write(`The one-file agent was not built (${(error as Error).message}); the demo agents will run the sources through tsx.\n`);
  }
}

function run(command: string, args: string[]): void {
  execFileSync(command, args, {
    cwd: projectRoot,
    stdio: 'inherit',
    env: { ...process.env, DATABASE_URL: process.env.DATABASE_URL ?? 'postgresql://localhost/unused', NEXT_TELEMETRY_DISABLED: '1' },
  });
}

async function main(): Promise<void> {
  const startedAtMs = Date.now();
  const fingerprint = sourceFingerprint();
  const reason = process.argv.includes('--force') ? 'asked to (--force)' : buildNeeded(fingerprint);
  if (process.argv.includes('--check')) {
    process.stdout.write(reason ? `build needed: ${reason}\n` : 'build up to date\n');
    process.exit(reason ? 1 : 0);
  }
  if (!reason) {
    process.stdout.write(`Reusing the console build: it matches the sources (checked in ${Date.now() - startedAtMs} ms).\n`);
    if (!existsSync(agentBuildPath)) await buildDemoAgent();
    return;
  }
  process.stdout.write(`Building the console: ${reason}. This takes a minute or more on a small machine; later starts reuse it.\n`);
  const bin = (name: string) => path.join(projectRoot, 'node_modules', '.bin', name);
  run(bin('prisma'), ['generate']);
  run(bin('next'), ['build']);
  await buildDemoAgent();
  // Fingerprinted again after the build: `next build` may touch files it reads (tsconfig.json).
  writeFileSync(buildStampPath, `${JSON.stringify({ fingerprint: sourceFingerprint(), builtAt: new Date().toISOString(), node: process.version }, null, 2)}\n`);
  process.stdout.write(`Console built in ${Math.round((Date.now() - startedAtMs) / 1000)} s.\n`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error: unknown) => {
    process.stderr.write(`build failed: ${(error as Error).message}\n`);
    process.exit(1);
  });
}
