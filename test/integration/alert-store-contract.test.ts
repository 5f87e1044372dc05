/**
 * Runs the alert store contract against the Prisma store on real PostgreSQL, the
 * same cases the in-memory twin passes (server/alerts/memory-alert-store.test.ts),
 * so the twins cannot drift apart.
 */
import { after, before, describe, it } from 'node:test';
import { PrismaAlertStore } from '../../server/alerts/prisma-alert-store';
import { alertStoreContract } from '../../server/alerts/alert-store-contract';
import { type TestServer, startTestServer } from '../helpers/server-harness';

describe('alert store contract on PostgreSQL', () => {
  let test: TestServer;
  before(async () => {
    test = await startTestServer();
  });
  after(async () => {
    await test?.stop();
  });

  const fresh = async () => {
    const prisma = test.server.database.prisma;
    await prisma.alert.deleteMany({ where: { clusterId: 'c1' } });
    await prisma.partition.deleteMany({ where: { clusterId: 'c1' } });
    await prisma.cluster.upsert({ where: { id: 'c1' }, create: { id: 'c1', name: 'c1' }, update: {} });
    for (const id of ['p1', 'p2']) {
      await prisma.partition.create({ data: { id, clusterId: 'c1', type: 'partial', state: 'Normal', startedAt: new Date(), detail: {}, nodeIds: [] } });
    }
    return new PrismaAlertStore(prisma);
  };
  for (const [name, run] of alertStoreContract(fresh)) it(name, run);
});
