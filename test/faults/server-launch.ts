/**
 * Starts the control server as a process of its own (server-process.ts) for fault
 * tests that kill it: resolves once it printed `READY <url>`, with its stdout
 * lines (the JSON log when LOG_LEVEL lets it through) kept for the test to read.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
/** Longest a server process may take to print READY (migrations included). */
export const serverStartTimeoutMs = 60_000;
/** Most stdout lines kept per server process. */
const linesMax = 20_000;

/** A server process and what it printed. */
export interface ServerProcess {
  child: ChildProcess;
  lines: string[];
}

export function startServerProcess(env: Record<string, string>): Promise<ServerProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(here, 'server-process.ts')], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines: string[] = [];
  let partial = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start within ${serverStartTimeoutMs} ms`)), serverStartTimeoutMs);
    child.stdout!.on('data', (chunk: Buffer) => {
      const text = partial + chunk.toString();
      const complete = text.split('\n');
      partial = complete.pop() ?? '';
      for (const line of complete) {
        if (lines.length < linesMax) lines.push(line);
        if (line.startsWith('READY ')) {
          clearTimeout(timer);
          resolve({ child, lines });
        }
      }
    });
    child.once('exit', (code) => reject(new Error(`server exited with ${code} before READY`)));
  });
}
