/**
 * How long several instances on one PostgreSQL go without a leader when the
 * leader is killed with -9: starts `--instances` server processes (no web UI, no
 * agents) on a fresh database, then `--rounds` times finds the leader through
 * /api/ready, kills it with SIGKILL, measures until another instance answers that
 * it leads (polling every 20 ms), and starts the killed one again as a follower.
 * Prints every round and the median; the last line is JSON.
 *
 *   npm run bench:takeover -- --instances 3 --rounds 5
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Readiness } from '../core/http-views';
import { freeLoopbackPorts } from '../local-stores/ports';
import { createTestDatabase } from '../test/helpers/database';
import { type ServerProcess, startServerProcess } from '../test/faults/server-launch';

const { values } = parseArgs({ options: { instances: { type: 'string', default: '3' }, rounds: { type: 'string', default: '5' }, 'poll-ms': { type: 'string', default: '500' } } });
const instances = Math.min(5, Math.max(2, Number(values.instances)));
const rounds = Math.min(20, Math.max(1, Number(values.rounds)));
/** A round without a new leader for this long is a failure (ms). */
const takeoverTimeoutMs = 30_000;

const database = await createTestDatabase('faultline_bench');
const dataDir = await mkdtemp(path.join(tmpdir(), 'faultline-takeover-'));
const ports = await freeLoopbackPorts(instances);
const urls = ports.map((port) => `http://127.0.0.1:${port}`);
const envFor = (index: number) => ({
  PORT: String(ports[index]),
  HOST: '127.0.0.1',
  DATABASE_URL: database.url,
  FAULTLINE_DATA_DIR: path.join(dataDir, String(index)),
  FAULTLINE_INSTANCE_ID: `i${index}`,
  FAULTLINE_DEMO: 'off',
  FAULTLINE_ADMIN_PASSWORD: 'takeover-bench-password',
  FAULTLINE_LEADER_POLL_MS: values['poll-ms'],
  LOG_LEVEL: 'warn',
  NODE_ENV: 'production',
});
const servers: (ServerProcess | null)[] = [];

const leaderOf = async (candidates: number[]): Promise<number | null> => {
  for (const index of candidates) {
    const ready = await fetch(`${urls[index]}/api/ready`).then(async (response) => ((await response.json()) as { data: Readiness }).data, () => null);
    if (ready?.leadership?.leader) return index;
  }
  return null;
};
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

try {
  servers.push(await startServerProcess(envFor(0)));
  servers.push(...(await Promise.all(Array.from({ length: instances - 1 }, (_, index) => startServerProcess(envFor(index + 1))))));
  const takeoversMs: number[] = [];
  for (let round = 1; round <= rounds; round += 1) {
    const all = servers.map((_, index) => index);
    let leader: number | null = null;
    for (let waited = 0; leader === null && waited < takeoverTimeoutMs; waited += 100) {
      leader = await leaderOf(all);
      if (leader === null) await sleep(100);
    }
    if (leader === null) throw new Error('no leader');
    // Every instance listed: the followers are polling, not starting.
    await sleep(3000);
    const killedAtMs = Date.now();
    servers[leader]!.child.kill('SIGKILL');
    const others = all.filter((index) => index !== leader);
    let successor: number | null = null;
    while (successor === null) {
      if (Date.now() - killedAtMs > takeoverTimeoutMs) throw new Error(`no new leader within ${takeoverTimeoutMs} ms`);
      successor = await leaderOf(others);
      if (successor === null) await sleep(20);
    }
    const takeoverMs = Date.now() - killedAtMs;
    takeoversMs.push(takeoverMs);
    process.stdout.write(`round ${round}: killed i${leader}, i${successor} leads after ${takeoverMs} ms\n`);
    servers[leader] = await startServerProcess(envFor(leader));
  }
  const sorted = [...takeoversMs].sort((a, b) => a - b);
  const medianMs = sorted[Math.floor((sorted.length - 1) / 2)]!;
  process.stdout.write(`kill -9 → new leader: median ${medianMs} ms over ${rounds} rounds (min ${sorted[0]}, max ${sorted.at(-1)}), ${instances} instances, leader poll ${values['poll-ms']} ms\n`);
  process.stdout.write(`${JSON.stringify({ instances, rounds, leaderPollMs: Number(values['poll-ms']), takeoverMedianMs: medianMs, takeoversMs })}\n`);
} finally {
  for (const server of servers) server?.child.kill('SIGKILL');
  await database.drop();
  await rm(dataDir, { recursive: true, force: true });
}
