/**
 * Proves that a closed database stays closed: a query that reaches it after
 * `close()` (work still in flight when the server shuts down) is refused at once,
 * and no connection to PostgreSQL is left open. Prisma would otherwise open a new
 * pool for it, whose idle connection keeps a stopped server's process alive.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Database, openDatabase } from '../../server/db/database';
import { createLogger } from '../../server/logger';
import { type TestDatabase, createTestDatabase } from '../helpers/database';

/** Open sockets of this process to `port` (the pools' connections). */
function socketsTo(port: number): number {
  const handles = (process as unknown as { _getActiveHandles(): Array<{ remotePort?: number; destroyed?: boolean }> })._getActiveHandles();
  return handles.filter((handle) => handle.remotePort === port && handle.destroyed !== true).length;
}

describe('database close', { timeout: 120_000 }, () => {
  let testDatabase: TestDatabase;
  let database: Database;
  let port: number;

  before(async () => {
    testDatabase = await createTestDatabase();
    port = Number(new URL(testDatabase.url).port || 5432);
    database = await openDatabase({ databaseUrl: testDatabase.url, dataDir: '/nonexistent', embeddedPort: 0, embeddedPassword: 'unused', logger: createLogger('warn') });
  });
  after(async () => {
    await database?.close();
    await testDatabase?.drop();
  });

  it('refuses queries after close instead of reconnecting, and leaves no connection open', async () => {
    await database.prisma.$queryRaw`SELECT 1`;
    await database.ingest('SELECT 1', []);
    assert.ok(socketsTo(port) > 0, 'the pools were connected');
    await database.close();
    await assert.rejects(database.prisma.$queryRaw`SELECT 1`, /database closed/);
    await assert.rejects(database.ingest('SELECT 1', []), /database closed/);
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(socketsTo(port), 0, 'no connection to PostgreSQL left open');
  });
});
