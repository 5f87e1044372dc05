/** The server's shutdown: named steps in order, each bounded so that one stuck step cannot keep the port and the process for ever. */
import type { Logger } from './logger';

/** Longest one step of the shutdown may take before it is skipped (ms). */
export const shutdownStepMs = 10_000;

/** Runs the steps in order; past its bound (or on failure) a step is logged and skipped, so the rest (and the database) still close. */
export async function shutDown(logger: Logger, steps: [name: string, work: () => Promise<unknown> | unknown][]): Promise<void> {
  logger.info('shutting down');
  for (const [name, work] of steps) {
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), shutdownStepMs);
    });
    const outcome = await Promise.race([Promise.resolve().then(work).then(() => 'done' as const, () => 'failed' as const), bound]);
    clearTimeout(timer);
    if (outcome !== 'done') logger.warn({ step: name, outcome }, 'shutdown step did not finish cleanly');
  }
  logger.info('shut down cleanly');
}
