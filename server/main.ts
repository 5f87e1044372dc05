/**
 * Entry point of the control server: `npm start` (production build) or
 * `npm run dev`. Shuts down gracefully on SIGINT and SIGTERM.
 */
import { loadConfig } from './config';
import { createLogger } from './logger';
import { startServer } from './start-server';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    process.exit(2);
  }
  const logger = createLogger(config.logLevel);
  const server = await startServer(config, logger);
  process.stdout.write(`\n  Faultline is running at ${server.url}${server.demo ? ' (watching the demo cluster)' : ''}\n\n`);
  let signals = 0;
  const shutdown = (signal: string) => {
    signals += 1;
    if (signals > 1) process.exit(1);
    logger.info({ signal }, 'signal received');
    server.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

main().catch((error: unknown) => {
  process.stderr.write(`Faultline failed to start: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
