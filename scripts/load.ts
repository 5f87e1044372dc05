/**
 * `npm run load -- --nodes 1000 [--seconds 20] [--interval-ms 250] [--peers 32]
 *  [--dashboards 0] [--injections 0] [--target URL --admin-password P]`
 *
 * Drives a real control server with N simulated agents' signed reports at the demo
 * heartbeat rate (one report per agent every 250 ms) for a bounded time, then prints
 * what the server sustained: reports/s acknowledged against offered, acknowledgement
 * latency p50/p99, classifier calls and cost, and the server's RSS and CPU. Without
 * `--target` it starts a server of its own (its own process, a fresh database on the
 * test PostgreSQL) and stops it afterwards. The last line is the result as JSON.
 */
import { type ControlServer, startControlServer, targetControlServer } from '../bench/load/control-server';
import { disconnectReasons, failureCodes } from '../bench/load/load-agents';
import { runLoad } from '../bench/load/run-load';

function argument(name: string): string | undefined {
  const index = process.argv.indexOf(name);
  return index === -1 ? undefined : process.argv[index + 1];
}

function count(name: string, fallback: number, min = 0): number {
  const raw = argument(name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) throw new Error(`${name} needs an integer of at least ${min}`);
  return value;
}

/** Bounds: a run never lasts longer than this (s), nor drives more agents than a cluster holds. */
const secondsMax = 600;
const nodesMax = 1000;

async function main(): Promise<void> {
  const nodes = Math.min(nodesMax, count('--nodes', 100, 2));
  const seconds = Math.min(secondsMax, count('--seconds', 20, 1));
  const target = argument('--target');
  const server: ControlServer = target ? await targetControlServer(target, argument('--admin-name') ?? 'admin', argument('--admin-password') ?? process.env.FAULTLINE_ADMIN_PASSWORD ?? '') : await startControlServer();
  try {
    console.log(`load: ${nodes} agents on ${server.url}, ${seconds} s measured`);
    const result = await runLoad(server, {
      nodes,
      seconds,
      warmUpSeconds: Math.min(10, count('--warm-up', 5)),
      intervalMs: count('--interval-ms', 250, 20),
      peersPerReport: count('--peers', 32, 1),
      dashboards: count('--dashboards', 0),
      injections: count('--injections', 0),
      clusterId: argument('--cluster') ?? 'load',
    });
    console.log(
      `sustained ${result.reportsPerS} reports/s of ${result.offeredReportsPerS} offered (${result.failed} failed); ack p50 ${result.ackP50Ms?.toFixed(1)} ms, p99 ${result.ackP99Ms?.toFixed(1)} ms; ` +
        `classifier ${result.classifierCalls} calls, ${result.classifierMsPerCall?.toFixed(2)} ms each; server RSS ${result.serverRssMb ?? '?'} MB, CPU ${result.serverCpuPercent ?? '?'} %`,
    );
    if (failureCodes.size > 0) console.log(`failures by code: ${JSON.stringify(Object.fromEntries(failureCodes))}`);
    if (disconnectReasons.size > 0) console.log(`agent connections lost: ${JSON.stringify(Object.fromEntries(disconnectReasons))}`);
    console.log(JSON.stringify(result));
  } finally {
    await server.stop();
  }
}

await main();
process.exit(0);
