/** Ends child processes started by a test or a benchmark: SIGTERM, then SIGKILL after a bound. */
import type { ChildProcess } from 'node:child_process';

/** How long a process may take to exit after SIGTERM before it is killed (ms). */
export const stopGraceMs = 5000;

/** Sends each running child SIGTERM, SIGKILL if it has not exited within `stopGraceMs`, and waits for all. */
export async function stopProcesses(children: readonly ChildProcess[]): Promise<void> {
  await Promise.all(
    children.map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          const killer = setTimeout(() => child.kill('SIGKILL'), stopGraceMs);
          child.once('exit', () => {
            clearTimeout(killer);
            resolve();
          });
          child.kill('SIGTERM');
        }),
    ),
  );
}
