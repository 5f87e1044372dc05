/**
 * Proves that `npm run build:agent` makes an agent that needs no checkout: the one
 * file it writes, copied alone into an empty directory outside the repository (no
 * node_modules anywhere above it), runs with plain `node` and the deploy flags, and two
 * such agents, peers of each other over real UDP on loopback, report to a real server
 * (real PostgreSQL) that then sees both nodes connected, reporting, and hearing each
 * other. The file imports nothing but Node's own modules.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { agentNodeFlags, buildAgent } from '../../scripts/build-agent';
import { freeUdpPorts } from '../../server/demo-cluster';
import { type TestServer, startTestServer, waitFor } from '../helpers/server-harness';
import { stopProcesses } from '../helpers/stop-processes';

const clusterId = 'bundle-test';
const heartbeatIntervalMs = 250;

let server: TestServer;
let buildDir: string;
let hostDir: string;
const agents: ChildProcess[] = [];
const stderr: string[] = [];

before(async () => {
  server = await startTestServer();
  buildDir = await mkdtemp(path.join(tmpdir(), 'faultline-build-'));
  hostDir = await mkdtemp(path.join(tmpdir(), 'faultline-host-'));
});

after(async () => {
  await stopProcesses(agents);
  await server?.stop();
  await rm(buildDir, { recursive: true, force: true });
  await rm(hostDir, { recursive: true, force: true });
});

/** Every directory from `directory` up to the root: none may hold a node_modules the agent could fall back on. */
function ancestors(directory: string): string[] {
  const found: string[] = [];
  for (let current = directory; found.length < 64; current = path.dirname(current)) {
    found.push(current);
    if (path.dirname(current) === current) break;
  }
  return found;
}

test('the built agent runs alone with plain node and its reports reach the server', async () => {
  const built = await buildAgent(path.join(buildDir, 'faultline-agent.mjs'));
  const lone = path.join(hostDir, 'faultline-agent.mjs');
  await copyFile(built.path, lone);
  for (const directory of ancestors(hostDir)) assert.ok(!existsSync(path.join(directory, 'node_modules')), `no node_modules at ${directory}`);

  const source = await readFile(lone, 'utf8');
  const imported = [...source.matchAll(/^\s*import\s[^'"]*?from\s*['"]([^'"]+)['"]/gm), ...source.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)].map((match) => match[1]!);
  assert.deepEqual(
    imported.filter((specifier) => !specifier.startsWith('node:')),
    [],
    'the bundle imports only node: modules',
  );

  const ports = await freeUdpPorts(2);
  const ids = ['b1', 'b2'];
  for (const [index, id] of ids.entries()) {
    const { token } = await server.server.credentials.issue({ clusterId, agentId: id, createdBy: 'agent-bundle-test' });
    const peer = ids[1 - index]!;
    const child = spawn(
      process.execPath,
      [
        ...agentNodeFlags,
        lone,
        '--id', id,
        '--cluster', clusterId,
        '--listen', `127.0.0.1:${ports[index]}`,
        '--peers', `${peer}=127.0.0.1:${ports[1 - index]}`,
        '--server', server.url,
        '--heartbeat-interval-ms', String(heartbeatIntervalMs),
        '--outbox-dir', path.join(hostDir, `outbox-${id}`),
        '--log-level', 'warn',
      ],
      // A bare environment: no NODE_OPTIONS, NODE_PATH or tsx loader carried over from the test runner.
      { cwd: hostDir, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', NODE_ENV: 'production', FAULTLINE_AGENT_TOKEN: token, FAULTLINE_CLUSTER_KEY: server.server.clusterKey }, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    child.stderr?.on('data', (chunk: Buffer) => stderr.push(`[${id}] ${chunk.toString()}`));
    agents.push(child);
  }

  const whole = await waitFor(
    'both bundled agents reporting, every link up',
    () => {
      if (agents.some((child) => child.exitCode !== null)) throw new Error(`an agent exited: ${stderr.join('')}`);
      const snapshot = server.server.service.snapshot(clusterId);
      const reporting = snapshot.nodes.filter((node) => node.connected && !node.stale && node.lastReportAtMs !== null);
      return reporting.length === 2 && snapshot.links.length === 0 && !snapshot.verdict.partitioned ? snapshot : null;
    },
    30_000,
    100,
  );
  const firstReports = new Map(whole.nodes.map((node) => [node.id, node.lastReportAtMs!]));
  // Reports keep arriving (one a second at the least), not just a hello and one report.
  await waitFor(
    'newer reports from both agents',
    () => server.server.service.snapshot(clusterId).nodes.every((node) => (node.lastReportAtMs ?? 0) > firstReports.get(node.id)!),
    10_000,
    100,
  );
  assert.deepEqual(stderr, [], 'the agents wrote nothing to stderr');
});
