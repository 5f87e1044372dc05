/**
 * The control server as the load tools start it: the real server (server/start-server.ts)
 * from the environment, without the Next.js console (the tools measure the control plane,
 * and the console would need a build first). Prints `listening <url>` once it serves.
 */
import { loadConfig } from '../../server/config';
import { createLogger } from '../../server/logger';
import { startServer } from '../../server/start-server';

const config = loadConfig();
config.web = false;
const server = await startServer(config, createLogger(config.logLevel));
process.stdout.write(`listening ${server.url}\n`);
const stop = () => void server.close().then(() => process.exit(0), () => process.exit(1));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
