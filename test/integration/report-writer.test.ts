/**
 * Proves the batched ingest writer against the real PostgreSQL: reports written
 * several batches at once are each stored exactly once, whether their copy is in
 * the same batch, in a batch written concurrently, or arrives after the first was
 * committed, and each copy is told whether it was the duplicate; the stored row
 * holds the report's times (UTC, to the millisecond), counts and nonce.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { AgentReport } from '../../core/protocol';
import { type Database, openDatabase } from '../../server/db/database';
import { createLogger } from '../../server/logger';
import { ReportWriter, reportBatchMax } from '../../server/report-writer';
import { type TestDatabase, createTestDatabase } from '../helpers/database';
import { makeReport } from '../helpers/agent-client';

describe('report writer (postgres)', { timeout: 120_000 }, () => {
  let testDatabase: TestDatabase;
  let database: Database;

  before(async () => {
    testDatabase = await createTestDatabase();
    database = await openDatabase({ databaseUrl: testDatabase.url, dataDir: '/nonexistent', embeddedPort: 0, embeddedPassword: 'unused', logger: createLogger('warn') });
  });
  after(async () => {
    await database?.close();
    await testDatabase?.drop();
  });

  it('stores each report once across concurrent batches and names the duplicates', async () => {
    const writer = new ReportWriter(database.ingest, 5, createLogger('warn'), 4);
    const count = reportBatchMax * 3 + 7;
    const reports: AgentReport[] = Array.from({ length: count }, (_, index) => makeReport('wcluster', `a${index % 50}`, Math.floor(index / 50) + 1));
    // Every report twice in one burst: the copies land in the same or in concurrent batches.
    const burst = [...reports, ...reports].map((report) => writer.write(report, 1_764_000_000_000));
    const results = await Promise.all(burst);
    const duplicatesPerKey = new Map<string, number>();
    results.forEach((result, index) => {
      const report = (index < count ? reports[index] : reports[index - count])!;
      const key = `${report.agentId}/${report.sequence}`;
      duplicatesPerKey.set(key, (duplicatesPerKey.get(key) ?? 0) + (result.duplicate ? 1 : 0));
    });
    assert.equal(duplicatesPerKey.size, count);
    assert.ok([...duplicatesPerKey.values()].every((duplicates) => duplicates === 1), 'exactly one copy of each report is the duplicate');
    // Once more after the commit: all duplicates, nothing stored.
    const again = await Promise.all(reports.slice(0, 20).map((report) => writer.write(report, 1_764_000_000_000)));
    assert.ok(again.every((result) => result.duplicate));
    assert.equal(await database.prisma.agentReport.count({ where: { clusterId: 'wcluster' } }), count);
    assert.equal(writer.writtenCount, count);
    assert.equal(writer.duplicateCount, count + 20);
  });

  it('writes new reports with the all-new statement and falls back, row by row, when a batch holds a stored one', async () => {
    // A fresh writer has met no conflict yet, so its first batch tries the all-new insert.
    const writer = new ReportWriter(database.ingest, 5, createLogger('warn'), 4);
    const fresh = Array.from({ length: 30 }, (_, index) => makeReport('fcluster', `f${index % 3}`, Math.floor(index / 3) + 1));
    const first = await Promise.all(fresh.map((report) => writer.write(report, 1_764_000_000_000)));
    assert.ok(first.every((result) => !result.duplicate));
    assert.equal(writer.conflictRetryCount, 0, 'a batch of new reports is stored by the all-new statement');
    // Another writer (as after a restart, no conflict seen): half stored already, half new, in one batch.
    const restarted = new ReportWriter(database.ingest, 5, createLogger('warn'), 4);
    const more = Array.from({ length: 15 }, (_, index) => makeReport('fcluster', `f${index % 3}`, Math.floor(index / 3) + 11));
    const mixed = await Promise.all([...fresh.slice(0, 15), ...more].map((report) => restarted.write(report, 1_764_000_000_000)));
    assert.deepEqual(
      mixed.map((result) => result.duplicate),
      [...Array<boolean>(15).fill(true), ...Array<boolean>(15).fill(false)],
      'the stored ones are named duplicates, the new ones stored',
    );
    assert.equal(restarted.conflictRetryCount, 1, 'the all-new attempt failed on the key and the batch was written again');
    assert.equal(await database.prisma.agentReport.count({ where: { clusterId: 'fcluster' } }), 45);
  });

  it('stores the report times in UTC to the millisecond, with its counts and nonce', async () => {
    const writer = new ReportWriter(database.ingest, 5, createLogger('warn'));
    const sentAtMs = Date.UTC(2026, 0, 2, 3, 4, 5, 678);
    const report: AgentReport = {
      ...makeReport('tcluster', 'b1', 1, { sentAtMs, outboxDepth: 3, outboxDropped: 2 }),
      observations: [
        { peerId: 'b2', reachable: true, lastHeardAtMs: sentAtMs, sinceMs: 0, suspicion: 0 },
        { peerId: 'b3', reachable: false, lastHeardAtMs: sentAtMs, sinceMs: 0, suspicion: 9 },
      ],
      auth: { signedAtMs: sentAtMs, nonce: 'nonce-\\tab\t', signature: 'sig' },
    } as AgentReport;
    assert.deepEqual(await writer.write(report, sentAtMs + 1), { duplicate: false });
    const row = await database.prisma.agentReport.findFirstOrThrow({ where: { clusterId: 'tcluster' } });
    assert.equal(row.sentAt.getTime(), sentAtMs);
    assert.equal(row.receivedAt.getTime(), sentAtMs + 1);
    assert.equal(row.reachableCount, 1);
    assert.equal(row.peerCount, 2);
    assert.equal(row.outboxDepth, 3);
    assert.equal(row.outboxDropped, 2);
    assert.equal(row.nonce, 'nonce-\\tab\t');
    assert.equal(row.incarnation, 1n);
  });
});
