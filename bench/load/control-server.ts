/**
 * Starts a real control server for a load run in its own process (so that its RSS and
 * CPU are its own), on a fresh database of the test PostgreSQL, and signs in as its
 * first admin. Also reads a process's RSS and CPU time from /proc.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type TestDatabase, createTestDatabase } from '../../test/helpers/database';
import { type SessionHeaders, signIn } from '../../test/helpers/server-harness';

const entry = path.join(path.dirname(fileURLToPath(import.meta.url)), 'server-entry.ts');
/** Password of the started server's first admin. */
export const loadAdminPassword = 'load-admin-password-1';
/** Longest a server may take to start (ms): migrations included. */
const startTimeoutMs = 120_000;

/** A control server under load. */
export interface ControlServer {
  url: string;
  /** Its process id, or null for a `--target` server this tool did not start. */
  pid: number | null;
  /** The admin's session headers (cookie and CSRF token). */
  admin: SessionHeaders;
  stop(): Promise<void>;
}

/** Starts a server process on a fresh database. */
export async function startControlServer(env: Record<string, string> = {}): Promise<ControlServer> {
  const database: TestDatabase = await createTestDatabase('faultline_load');
  const dataDir = await mkdtemp(path.join(tmpdir(), 'faultline-load-'));
  // FAULTLINE_LOAD_CPU_PROF=<dir>: the server writes a V8 CPU profile there when it stops (see bench/load/profile-summary.ts).
  const profileDir = process.env.FAULTLINE_LOAD_CPU_PROF;
  const profile = profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : [];
  // FAULTLINE_LOAD_NODE_ARGS: more Node flags for the server (e.g. `--max-semi-space-size=64`), space-separated.
  const nodeArgs = (process.env.FAULTLINE_LOAD_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child: ChildProcess = spawn(process.execPath, [...profile, ...nodeArgs, '--import', 'tsx', entry], {
    env: {
      ...process.env,
      PORT: '0',
      HOST: '127.0.0.1',
      DATABASE_URL: database.url,
      FAULTLINE_DATA_DIR: dataDir,
      FAULTLINE_DEMO: 'off',
      FAULTLINE_ADMIN_PASSWORD: loadAdminPassword,
      LOG_LEVEL: 'warn',
      NODE_ENV: 'production',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const cleanUp = async () => {
    if (child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10_000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    }
    await database.drop();
    await rm(dataDir, { recursive: true, force: true });
  };
  try {
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the server did not start in time')), startTimeoutMs);
      let output = '';
      child.stdout!.on('data', (chunk: Buffer) => {
        output += chunk.toString('utf8');
        const match = /listening (\S+)/.exec(output);
        if (match) {
          clearTimeout(timer);
          resolve(match[1]!);
        }
      });
      child.once('exit', (code) => reject(new Error(`the server exited with ${code} before listening`)));
    });
    return { url, pid: child.pid ?? null, admin: await signIn(url, 'admin', loadAdminPassword), stop: cleanUp };
  } catch (error) {
    await cleanUp();
    throw error;
  }
}

/** A server this tool did not start, signed in with the given admin password. */
export async function targetControlServer(url: string, adminName: string, adminPassword: string): Promise<ControlServer> {
  return { url, pid: null, admin: await signIn(url, adminName, adminPassword), stop: async () => undefined };
}

/** Resident memory (bytes) and CPU time used so far (ms, user + system) of a process, from /proc. */
export function processUsage(pid: number): { rssBytes: number; cpuMs: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return { rssBytes: rssKb * 1024, cpuMs: (ticks * 1000) / 100 };
}
