/**
 * `npm run bench:start [-- --restarts N] [--keep-data DIR]`
 * Runs `npm start` on this checkout as a user does, with the embedded database
 * (PGlite) in a fresh data directory and the 5 demo agents, then stops it and runs
 * it again N times (default 3) on the same data directory. For each start it
 * prints the time from `npm start` to ready: the console answering (GET /sign-in
 * is 200) and every demo agent reporting (the cluster API, signed in as the
 * admin, lists 5 nodes, none stale). The first start includes the console build
 * when the sources changed since the last one; the later ones must reuse it and
 * skip `prisma migrate deploy`. Goal: a second start ready in under 20 s. It also
 * prints the CPU seconds each start used until ready and the load average, since on
 * a shared machine the wall-clock figures grow with everyone else's work.
 * The last line is one JSON object with every measurement.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../local-stores/ports';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** A start not ready within this is reported as failed (the first one may build for minutes). */
const readyTimeoutMs = 15 * 60_000;
/** Longest wait for a stopped server to exit before it is killed. */
const stopTimeoutMs = 30_000;
/** Goal for every start after the first. */
const secondStartGoalMs = 20_000;
const demoAgents = 5;
const adminPassword = 'bench-admin-password-1';

interface StartMeasurement {
  run: number;
  /** npm start → GET /sign-in answers 200. */
  consoleMs: number;
  /** npm start → every demo agent reporting. */
  readyMs: number;
  /** What the build step said (reused or built). */
  build: string;
  /** Whether `prisma migrate deploy` ran. */
  migrateDeploy: boolean;
  /**
   * CPU seconds the start's processes (npm, the server, its agents) used until ready:
   * a figure the machine's load does not inflate, unlike the wall-clock times.
   */
  cpuS: number;
  /** The machine's 1-minute load average when the start began. */
  loadAverage: number;
}

/** Clock ticks per second of /proc's CPU times (USER_HZ, 100 on Linux). */
const ticksPerSecond = 100;

/** CPU seconds used so far by the processes of group `groupId`, reaped children included (Linux /proc). */
function groupCpuSeconds(groupId: number): number {
  let ticks = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // After the name: state, ppid, pgrp, …; utime, stime, cutime, cstime are fields 14–17 of stat.
      if (Number(fields[2]) !== groupId) continue;
      ticks += Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
    } catch {
      // The process ended meanwhile.
    }
  }
  return ticks / ticksPerSecond;
}

function option(name: string): string | undefined {
  const index = process.argv.indexOf(name);
  return index >= 0 ? process.argv[index + 1] : undefined;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function consoleAnswers(url: string): Promise<boolean> {
  try {
    const response = await fetch(`${url}/sign-in`, { signal: AbortSignal.timeout(5000) });
    await response.arrayBuffer();
    return response.status === 200;
  } catch {
    return false;
  }
}

async function adminCookie(url: string): Promise<string | null> {
  try {
    const response = await fetch(`${url}/api/auth/sign-in`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: url },
      body: JSON.stringify({ name: 'admin', password: adminPassword }),
      signal: AbortSignal.timeout(5000),
    });
    await response.arrayBuffer();
    return response.ok ? (response.headers.get('set-cookie')?.split(';')[0] ?? null) : null;
  } catch {
    return null;
  }
}

async function agentsReporting(url: string, cookie: string): Promise<boolean> {
  try {
    const response = await fetch(`${url}/api/cluster?clusterId=demo`, { headers: { cookie }, signal: AbortSignal.timeout(5000) });
    const payload = (await response.json()) as { ok: boolean; data?: { nodes: { stale: boolean }[] } };
    return payload.ok === true && payload.data!.nodes.length === demoAgents && payload.data!.nodes.every((node) => !node.stale);
  } catch {
    return false;
  }
}

/** Waits for `check`, polling every 100 ms; returns the elapsed time since `startedAt`. */
async function until(what: string, startedAt: number, check: () => Promise<boolean>, exited: () => boolean): Promise<number> {
  while (!(await check())) {
    if (exited()) throw new Error(`npm start exited before ${what}`);
    if (performance.now() - startedAt > readyTimeoutMs) throw new Error(`not ${what} within ${readyTimeoutMs / 1000} s`);
    await sleep(100);
  }
  return Math.round(performance.now() - startedAt);
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  process.kill(-child.pid!, 'SIGINT');
  const timer = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), stopTimeoutMs);
  await exited;
  clearTimeout(timer);
}

async function measureStart(run: number, dataDir: string): Promise<StartMeasurement> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const loadAverage = Math.round(loadavg()[0]! * 10) / 10;
  const startedAt = performance.now();
  // Its own process group, so that stopping it stops npm, the shell and the server.
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(port), HOST: '127.0.0.1', FAULTLINE_DATA_DIR: dataDir, FAULTLINE_ADMIN_PASSWORD: adminPassword, LOG_LEVEL: 'info' };
  // The embedded database, as a new user gets it.
  delete env.DATABASE_URL;
  const child = spawn('npm', ['start'], { cwd: projectRoot, detached: true, stdio: ['ignore', 'pipe', 'pipe'], env });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = () => child.exitCode !== null;
  try {
    const consoleMs = await until('answering', startedAt, () => consoleAnswers(url), exited);
    let cookie: string | null = null;
    const readyMs = await until('reporting', startedAt, async () => (cookie ??= await adminCookie(url)) !== null && agentsReporting(url, cookie), exited);
    const cpuS = Math.round(groupCpuSeconds(child.pid!) * 10) / 10;
    const build = /Reusing the console build/.test(output) ? 'reused' : /Console built in (\d+) s/.exec(output)?.[0] ?? 'unknown';
    return { run, consoleMs, readyMs, build, migrateDeploy: /applying migrations with prisma migrate deploy/.test(output), cpuS, loadAverage };
  } catch (error) {
    process.stderr.write(output.slice(-4000));
    throw error;
  } finally {
    await stop(child);
  }
}

async function main(): Promise<void> {
  const restarts = Number(option('--restarts') ?? 3);
  const kept = option('--keep-data');
  const dataDir = kept ? path.resolve(kept) : await mkdtemp(path.join(tmpdir(), 'faultline-bench-start-'));
  const measurements: StartMeasurement[] = [];
  try {
    for (let run = 0; run <= restarts; run += 1) {
      const measured = await measureStart(run, dataDir);
      measurements.push(measured);
      const label = run === 0 ? 'first start' : `restart ${run}`;
      process.stdout.write(
        `${label.padEnd(12)} console answering ${(measured.consoleMs / 1000).toFixed(1)} s, ${demoAgents} agents reporting ${(measured.readyMs / 1000).toFixed(1)} s (build: ${measured.build}; migrate deploy: ${measured.migrateDeploy ? 'ran' : 'skipped'}; ${measured.cpuS} CPU s; load average ${measured.loadAverage})\n`,
      );
    }
  } finally {
    if (!kept) await rm(dataDir, { recursive: true, force: true });
  }
  const later = measurements.slice(1).map((measured) => measured.readyMs).sort((a, b) => a - b);
  const medianMs = later.length > 0 ? later[Math.floor(later.length / 2)]! : null;
  const laterCpu = measurements.slice(1).map((measured) => measured.cpuS).sort((a, b) => a - b);
  if (laterCpu.length > 0) process.stdout.write(`second start CPU until ready (median): ${laterCpu[Math.floor(laterCpu.length / 2)]} s (the work a start needs, whatever the load)\n`);
  if (medianMs !== null) {
    process.stdout.write(`second start ready (median of ${later.length}): ${(medianMs / 1000).toFixed(1)} s (goal < ${secondStartGoalMs / 1000} s: ${medianMs < secondStartGoalMs ? 'met' : 'missed'})\n`);
  }
  process.stdout.write(`${JSON.stringify({ measurements, secondStartReadyMedianMs: medianMs, goalMs: secondStartGoalMs })}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:start failed: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
