/**
 * Proves that history survives a restart on the embedded default database (PGlite
 * under the data directory): a partition recorded before a stop is listed by the
 * API after the server starts again from the same directory, and migrations apply
 * cleanly a second time.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import type { PartitionVerdict } from '../../core/classify-partition';
import { PartitionRepository } from '../../server/db/partition-repository';
import { callApi, startTestServer } from '../helpers/server-harness';

describe('restart with the embedded database', () => {
  let dataDir: string;
  after(async () => {
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('lists partitions recorded before the restart', async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'faultline-restart-'));
    const first = await startTestServer({ database: 'embedded', dataDir });
    let id: string;
    try {
      await first.server.service.ensureCluster('persist', { name: 'persist' });
      const verdict = {
        partitioned: true,
        type: 'complete',
        components: [['a', 'b'], ['c']],
        majorityIndex: 0,
        cutLinks: [{ a: 'a', b: 'c', state: 'down' }, { a: 'b', b: 'c', state: 'down' }],
      } as unknown as PartitionVerdict;
      const partitions = new PartitionRepository(first.server.database.prisma);
      const opened = await partitions.open('persist', verdict, Date.now() - 5000, 'PartitionDetected');
      await partitions.close(opened.id, Date.now(), 'healed', 'test');
      id = opened.id;
    } finally {
      await first.stop();
    }
    const second = await startTestServer({ database: 'embedded', dataDir });
    try {
      const listed = await callApi<{ id: string; type: string; endedAtMs: number | null }[]>(second.url, '/api/partitions?clusterId=persist');
      assert.equal(listed.status, 200, JSON.stringify(listed.payload));
      assert.ok(listed.payload.ok);
      const found = listed.payload.data.find((partition) => partition.id === id);
      assert.ok(found, 'the partition recorded before the restart is listed');
      assert.equal(found.type, 'complete');
      assert.notEqual(found.endedAtMs, null);
    } finally {
      await second.stop();
    }
  });
});
