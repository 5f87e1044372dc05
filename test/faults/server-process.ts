/**
 * The control server as a separate process for fault tests that kill it with
 * SIGKILL: configuration from the environment (as in production), no web UI.
 * Prints `READY <url>` once listening.
 */
import { loadConfig } from '../../server/config';
import { createLogger } from '../../server/logger';
import { startServer } from '../../server/start-server';

const config = loadConfig(process.env, []);
config.web = false;
const server = await startServer(config, createLogger(config.logLevel));
process.stdout.write(`READY ${server.url}\n`);
process.on('SIGTERM', () => void server.close().then(() => process.exit(0)));
