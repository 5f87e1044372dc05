/**
 * What a restart costs on a real PostgreSQL, and what the audit log says about it:
 * (1) a second start on the same data directory and database adds no demo agent
 * credential and no credential audit entry (the demo's tokens are reused) and its
 * agents report with them again; (2) migrations go through `prisma migrate deploy`
 * on a new database and are skipped (one query) when the database already has
 * every committed migration, and the skip agrees with Prisma's own checksums;
 * (3) fault actions are recorded with their target, and a sign-in with the user.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { applyMigrations } from '../../server/db/database';
import { pendingMigrationReason } from '../../server/db/migration-state';
import { createLogger } from '../../server/logger';
import { type TestDatabase, createTestDatabase } from '../helpers/database';
import { type TestServer, callApi, signIn, startTestServer, testAdminPassword, waitFor } from '../helpers/server-harness';

const migrationsDir = path.resolve('prisma/migrations');
const demoAgents = 3;

describe('a restart on the same checkout and database', () => {
  let database: TestDatabase;
  let dataDir: string;
  let server: TestServer | null = null;

  before(async () => {
    database = await createTestDatabase();
    dataDir = await mkdtemp(path.join(tmpdir(), 'faultline-restart-cost-'));
  });

  after(async () => {
    await server?.stop();
    await database?.drop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  const start = () => startTestServer({ agents: demoAgents, dataDir, reuseDatabase: database });
  const counts = async (test: TestServer) => ({
    credentials: await test.server.database.prisma.agentCredential.count({ where: { clusterId: 'demo' } }),
    live: await test.server.database.prisma.agentCredential.count({ where: { clusterId: 'demo', revokedAt: null } }),
    audited: await test.server.database.prisma.auditEntry.count({ where: { action: { startsWith: 'agent-credential.' } } }),
  });
  const agentsReporting = (test: TestServer) =>
    waitFor(`${demoAgents} demo agents reporting`, async () => {
      const cluster = await callApi<{ nodes: { stale: boolean }[] }>(test.url, '/api/cluster?clusterId=demo');
      return cluster.payload.ok && cluster.payload.data.nodes.length === demoAgents && cluster.payload.data.nodes.every((node) => !node.stale);
    }, 60_000);

  test('the second start reuses the demo credentials and skips migrate deploy', async () => {
    assert.match((await pendingMigrationReason(database.url, migrationsDir)) ?? '', /new database/);
    server = await start();
    await agentsReporting(server);
    const first = await counts(server);
    assert.deepEqual(first, { credentials: demoAgents, live: demoAgents, audited: demoAgents }, 'the first start issues one credential per demo agent');
    // What Prisma wrote is what the quick check computes: checksums agree, nothing pending.
    assert.equal(await pendingMigrationReason(database.url, migrationsDir), null);
    await server.stop();
    server = null;

    server = await start();
    await agentsReporting(server);
    assert.deepEqual(await counts(server), first, 'a restart adds no credential and no audit entry');
    assert.equal(await applyMigrations(database.url, createLogger('warn')), false, 'an up-to-date database does not run prisma migrate deploy');
  });

  test('a changed migration or a missing row sends the start through migrate deploy again', async () => {
    // The server's runtime role may not touch _prisma_migrations: change it as the owner.
    const { default: Pg } = await import('pg');
    const owner = new Pg.Client({ connectionString: database.url });
    await owner.connect();
    try {
      const { rows } = await owner.query<{ migration_name: string }>('SELECT migration_name FROM _prisma_migrations ORDER BY migration_name DESC LIMIT 1');
      const last = rows[0]!.migration_name;
      await owner.query("UPDATE _prisma_migrations SET checksum = 'changed' WHERE migration_name = $1", [last]);
      assert.match((await pendingMigrationReason(database.url, migrationsDir)) ?? '', /changed after it was applied/);
      await owner.query("UPDATE _prisma_migrations SET rolled_back_at = now() WHERE migration_name = $1", [last]);
      assert.match((await pendingMigrationReason(database.url, migrationsDir)) ?? '', /is not applied/);
    } finally {
      await owner.end();
    }
  });

  test('fault actions are audited with their target, a sign-in with its user', async () => {
    const cut = await callApi(server!.url, '/api/faults/cut', { method: 'POST', body: { from: 'node-1', to: 'node-2' } });
    assert.ok(cut.payload.ok, JSON.stringify(cut.payload));
    const isolate = await callApi(server!.url, '/api/faults/isolate', { method: 'POST', body: { node: 'node-3' } });
    assert.ok(isolate.payload.ok, JSON.stringify(isolate.payload));
    const heal = await callApi(server!.url, '/api/faults/heal', { method: 'POST', body: {} });
    assert.ok(heal.payload.ok, JSON.stringify(heal.payload));
    await signIn(server!.url, 'admin', testAdminPassword);
    const entries = await server!.server.database.prisma.auditEntry.findMany({
      where: { action: { in: ['faults.cut', 'faults.isolate', 'faults.heal', 'auth.sign-in'] } },
      orderBy: { id: 'asc' },
    });
    assert.deepEqual(
      entries.map((entry) => [entry.action, entry.actor, entry.target]),
      [
        ['faults.cut', 'token:test-harness', 'demo:node-1↔node-2'],
        ['faults.isolate', 'token:test-harness', 'demo:node-3'],
        ['faults.heal', 'token:test-harness', 'demo:every fault'],
        ['auth.sign-in', 'admin', null],
      ],
    );
  });
});
