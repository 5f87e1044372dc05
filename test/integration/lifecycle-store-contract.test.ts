/**
 * Runs the lifecycle store contract against the Prisma store on real PostgreSQL,
 * the same cases the in-memory twin passes (server/recovery/memory-lifecycle-store.test.ts).
 */
import { after, before, describe, it } from 'node:test';
import { PrismaLifecycleStore } from '../../server/recovery/lifecycle-store';
import { lifecycleStoreContract } from '../../server/recovery/lifecycle-store-contract';
import { type TestServer, startTestServer } from '../helpers/server-harness';

describe('lifecycle store contract on PostgreSQL', () => {
  let test: TestServer;
  before(async () => {
    test = await startTestServer();
  });
  after(async () => {
    await test?.stop();
  });

  const fresh = async () => {
    const prisma = test.server.database.prisma;
    await prisma.partition.deleteMany({ where: { clusterId: 'c1' } });
    await prisma.cluster.upsert({ where: { id: 'c1' }, create: { id: 'c1', name: 'c1' }, update: {} });
    await prisma.partition.create({ data: { id: 'p1', clusterId: 'c1', type: 'complete', state: 'Normal', startedAt: new Date(1_700_000_000_000), detail: { components: [], cutLinks: [], majorityIndex: null }, nodeIds: [] } });
    return new PrismaLifecycleStore(prisma);
  };
  for (const [name, run] of lifecycleStoreContract(fresh)) it(name, run);
});
