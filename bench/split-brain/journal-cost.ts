/**
 * Cost of the Redis adapter's write journal: `redis-benchmark` SET throughput on a
 * local redis-server alone, then with an adapter attached (keyevent notifications
 * on, every write read back and journaled), plus the agent's CPU time per write and
 * the time of a full SCAN digest. `npx tsx bench/split-brain/journal-cost.ts`.
 */
import { spawnSync } from 'node:child_process';
import { RedisAdapter } from '../../agent/adapters/redis/redis-adapter';
import { parseRedisUrl } from '../../agent/adapters/redis/redis-url';
import { redisScratchDir, startRedisServer } from '../../local-stores/redis';

const writes = 100_000;
const setsPerSecond = (port: number) => {
  const output = spawnSync('redis-benchmark', ['-p', String(port), '-t', 'set', '-n', String(writes), '-c', '20', '-r', '100000', '-q'], { encoding: 'utf8' }).stdout;
  return Number(/([\d.]+) requests per second/.exec(output)?.[1] ?? 0);
};
const scratch = await redisScratchDir('fl-redis-cost');
const server = await startRedisServer({ dir: scratch.dir });
try {
  const alone = setsPerSecond(server.port);
  const adapter = new RedisAdapter({ target: parseRedisUrl(server.url), nodeId: 'bench', nowMs: Date.now, log: () => undefined });
  await adapter.start();
  await new Promise((resolve) => setTimeout(resolve, 300));
  const cpuBefore = process.cpuUsage();
  const journaledBefore = adapter.state().journal.recorded;
  const journaled = setsPerSecond(server.port);
  for (let wait = 0; wait < 100 && adapter.state().journal.recorded - journaledBefore < writes; wait += 1) await new Promise((resolve) => setTimeout(resolve, 100));
  const cpu = process.cpuUsage(cpuBefore);
  const recorded = adapter.state().journal.recorded - journaledBefore;
  const digestStarted = performance.now();
  const digest = await adapter.digest(256);
  const digestMs = performance.now() - digestStarted;
  await adapter.close();
  const result = {
    setsPerSecondAlone: alone,
    setsPerSecondJournaled: journaled,
    throughputCostPercent: Math.round((1 - journaled / alone) * 1000) / 10,
    journaled: recorded,
    agentCpuMicrosecondsPerWrite: Math.round((cpu.user + cpu.system) / Math.max(1, recorded)),
    journalBytes: adapter.state().journal.bytes,
    digestKeys: digest.keyCount,
    digestMs: Math.round(digestMs),
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
} finally {
  await server.kill();
  await scratch.remove();
}
process.exit(0);
