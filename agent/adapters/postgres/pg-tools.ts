/**
 * Runs PostgreSQL's own tools (pg_ctl, pg_rewind) for the adapter and the tests. They
 * refuse to run as root, so when the agent is root they run as the owner of the data
 * directory (its uid and gid), which is who runs the server anyway.
 */
import { spawn } from 'node:child_process';
import { stat } from 'node:fs/promises';

/** Where Debian's PostgreSQL 15 puts its programs. */
export const pgBinDirDefault = '/usr/lib/postgresql/15/bin';
/** Longest a tool may run before it is killed (ms). */
export const pgToolTimeoutMs = 120_000;

/** The uid and gid to run a tool as: the data directory's owner when we are root, else ourselves. */
export async function toolIdentity(dataDir: string): Promise<{ uid: number; gid: number } | null> {
  if (process.getuid?.() !== 0) return null;
  const info = await stat(dataDir);
  return { uid: info.uid, gid: info.gid };
}

/** Runs one tool to completion; rejects with its exit code and the end of its output. */
export function runPgTool(
  binDir: string,
  tool: string,
  args: readonly string[],
  identity: { uid: number; gid: number } | null,
  timeoutMs: number = pgToolTimeoutMs,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(`${binDir}/${tool}`, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      cwd: '/tmp',
      ...(identity ?? {}),
      // pg_ctl's started server keeps its own stdio; we only read the tool's output.
      detached: false,
    });
    let output = '';
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString('utf8')).slice(-4000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`${tool}: ${error.message}`));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(output);
      else reject(new Error(`${tool} ${args[0] ?? ''} exited with ${code}: ${output.trim().split('\n').slice(-3).join(' | ')}`));
    });
  });
}
