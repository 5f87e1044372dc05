/**
 * Entry point of the agent that runs beside each cluster node:
 *   npm run agent -- --id n1 --listen 0.0.0.0:7946 --peers n2=10.0.0.2:7946,n3=10.0.0.3:7946 --server http://faultline:3000
 *   (several control servers on one database: --server http://a:3000,http://b:3000)
 * or `--config agent.json`. Secrets come from FAULTLINE_AGENT_TOKEN and FAULTLINE_CLUSTER_KEY.
 */
import { startAgent } from './agent';
import { loadAgentConfig } from './config';

async function main(): Promise<void> {
  let config;
  try {
    config = loadAgentConfig();
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    process.exit(2);
  }
  const agent = await startAgent(config);
  const stop = () => {
    agent.close().finally(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`agent failed: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
