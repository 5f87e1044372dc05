/**
 * Runs the recovery store contract against the Prisma store on real PostgreSQL,
 * the same cases the in-memory twin passes (server/recovery/memory-recovery-store.test.ts).
 */
import { after, before, describe, it } from 'node:test';
import { PrismaRecoveryStore } from '../../server/recovery/recovery-store';
import { recoveryStoreContract } from '../../server/recovery/recovery-store-contract';
import { type TestServer, startTestServer } from '../helpers/server-harness';

describe('recovery store contract on PostgreSQL', () => {
  let test: TestServer;
  before(async () => {
    test = await startTestServer();
  });
  after(async () => {
    await test?.stop();
  });

  const fresh = async () => {
    const prisma = test.server.database.prisma;
    await prisma.recoveryRun.deleteMany({});
    await prisma.partition.deleteMany({ where: { clusterId: 'c1' } });
    await prisma.cluster.upsert({ where: { id: 'c1' }, create: { id: 'c1', name: 'c1' }, update: {} });
    for (const id of ['p1', 'p2']) {
      await prisma.partition.create({
        data: { id, clusterId: 'c1', type: 'complete', state: 'Normal', startedAt: new Date(), detail: { components: [['a', 'b', 'c'], ['d', 'e']], cutLinks: [], majorityIndex: 0 }, nodeIds: ['d', 'e'] },
      });
    }
    return new PrismaRecoveryStore(prisma);
  };
  for (const [name, run] of recoveryStoreContract(fresh)) it(name, run);
});
