/**
 * Benchmark: the control server at 100, 300 and 1,000 nodes. For each size a fresh
 * server (its own process, a fresh database) is driven by that many simulated agents
 * reporting every 250 ms (bench/load), with 100 dashboard clients subscribed; during
 * the measured window isolations are injected through the API and timed until each
 * dashboard receives the snapshot that shows them. Prints per size: reports/s
 * sustained (and offered), ack latency p50/p99, classifier time per call, server RSS
 * and CPU, injection → dashboard update p50/p99; the last line is every row as JSON.
 *
 * `npm run bench:scale -- [--nodes 100,300,1000] [--seconds 20] [--dashboards 100] [--injections 5]`
 * Bounded: each size runs warm-up + window + injections (about a minute); the whole
 * bench stays under ten minutes with the defaults.
 */
import { startControlServer } from './load/control-server';
import { type LoadRunResult, runLoad } from './load/run-load';

function argument(name: string): string | undefined {
  const index = process.argv.indexOf(name);
  return index === -1 ? undefined : process.argv[index + 1];
}

const sizes = (argument('--nodes') ?? '100,300,1000').split(',').map((value) => Math.min(1000, Math.max(2, Number(value))));
const seconds = Math.min(120, Number(argument('--seconds') ?? 20));
const dashboards = Math.min(200, Number(argument('--dashboards') ?? 100));
const injections = Math.min(20, Number(argument('--injections') ?? 5));

const format = (value: number | null, digits = 1) => (value === null || Number.isNaN(value) ? '-' : value.toFixed(digits));

async function main(): Promise<void> {
  const rows: LoadRunResult[] = [];
  console.log(`${seconds} s measured per size, reports every 250 ms naming 32 peers, ${dashboards} dashboards, ${injections} injections`);
  console.log('nodes  reports/s (offered)  ack p50 ms  ack p99 ms  classifier ms/call (calls)  RSS MB  CPU %  inject→dashboard p50 ms  p99 ms (samples)');
  for (const nodes of sizes) {
    let server: Awaited<ReturnType<typeof startControlServer>> | null = null;
    try {
      const startedMs = performance.now();
      server = await startControlServer();
      console.log(`  server started after ${((performance.now() - startedMs) / 1000).toFixed(1)} s`);
      const row = await runLoad(server, { nodes, seconds, warmUpSeconds: 5, intervalMs: 250, peersPerReport: 32, dashboards, injections, clusterId: 'scale' });
      rows.push(row);
      console.log(
        [
          String(nodes).padStart(5),
          `${row.reportsPerS} (${row.offeredReportsPerS})`.padStart(20),
          format(row.ackP50Ms).padStart(10),
          format(row.ackP99Ms).padStart(10),
          `${format(row.classifierMsPerCall, 2)} (${row.classifierCalls ?? '-'})`.padStart(27),
          String(row.serverRssMb ?? '-').padStart(6),
          String(row.serverCpuPercent ?? '-').padStart(5),
          format(row.dashboardP50Ms).padStart(23),
          `${format(row.dashboardP99Ms)} (${row.dashboardSamples})`.padStart(16),
        ].join('  '),
      );
      const lost = Object.entries(row.connectionsLost);
      if (lost.length > 0) console.log(`       agent connections lost: ${lost.map(([reason, count]) => `${count} (${reason})`).join(', ')}`);
    } catch (error) {
      // One size failing (a loaded machine refusing connections) must not hide the others.
      console.log(`${String(nodes).padStart(5)}  failed: ${(error as Error).message}`);
    } finally {
      await server?.stop();
    }
  }
  console.log(JSON.stringify({ seconds, dashboards, injections, rows }));
}

await main();
process.exit(0);
