/**
 * Runs each store contract against its Prisma store on real PostgreSQL: the same
 * cases the in-memory twins pass (server/alerts and server/recovery, memory-…-store.test.ts), so the
 * twins cannot drift apart. One server for all of them; each case starts from a
 * clean cluster `c1` with partitions `p1` and `p2`.
 */
import { after, before, describe, it } from 'node:test';
import { alertStoreContract } from '../../server/alerts/alert-store-contract';
import { PrismaAlertStore } from '../../server/alerts/prisma-alert-store';
import { PrismaClusterStore } from '../../server/cluster-store';
import { clusterStoreContract } from '../../server/cluster-store-contract';
import { PartitionRepository } from '../../server/db/partition-repository';
import { partitionStoreContract } from '../../server/db/partition-store-contract';
import { experimentStoreContract } from '../../server/experiments/experiment-store-contract';
import { PrismaExperimentStore } from '../../server/experiments/prisma-experiment-store';
import { PrismaLifecycleStore } from '../../server/recovery/lifecycle-store';
import { lifecycleStoreContract } from '../../server/recovery/lifecycle-store-contract';
import { PrismaRecoveryStore } from '../../server/recovery/recovery-store';
import { recoveryStoreContract } from '../../server/recovery/recovery-store-contract';
import { type TestServer, startTestServer } from '../helpers/server-harness';

describe('store contracts on PostgreSQL', () => {
  let test: TestServer;
  before(async () => {
    test = await startTestServer();
  });
  after(async () => {
    await test?.stop();
  });

  /**
   * Cluster c1 with partitions p1 and p2 (complete, sides [a, b, c] | [d, e], majority 0, started at t0) and nothing else in it;
   * p2 ended a second after it began (the database keeps at most one open partition per cluster).
   */
  const clean = async () => {
    const prisma = test.server.database.prisma;
    await prisma.recoveryRun.deleteMany({});
    await prisma.partition.deleteMany({ where: { clusterId: 'c1' } });
    await prisma.alert.deleteMany({ where: { clusterId: 'c1' } });
    await prisma.cluster.upsert({ where: { id: 'c1' }, create: { id: 'c1', name: 'c1' }, update: {} });
    for (const id of ['p1', 'p2']) {
      await prisma.partition.create({
        data: {
          id, clusterId: 'c1', type: 'complete', state: 'Normal', startedAt: new Date(1_700_000_000_000), detail: { components: [['a', 'b', 'c'], ['d', 'e']], cutLinks: [], majorityIndex: 0 }, nodeIds: ['d', 'e'],
          ...(id === 'p2' ? { endedAt: new Date(1_700_000_000_000 + 1000) } : {}),
        },
      });
    }
    return prisma;
  };

  describe('alert store', () => {
    for (const [name, run] of alertStoreContract(async () => new PrismaAlertStore(await clean()))) it(name, run);
  });
  describe('recovery store', () => {
    for (const [name, run] of recoveryStoreContract(async () => new PrismaRecoveryStore(await clean()))) it(name, run);
  });
  describe('experiment store', () => {
    const empty = async () => {
      const prisma = await clean();
      await prisma.experimentRun.deleteMany({});
      return prisma;
    };
    for (const [name, run] of experimentStoreContract(async () => new PrismaExperimentStore(await empty()))) it(name, run);
  });
  describe('lifecycle store', () => {
    for (const [name, run] of lifecycleStoreContract(async () => new PrismaLifecycleStore(await clean()))) it(name, run);
  });
  describe('partition store', () => {
    /** Clusters c1 and c2 without partitions. */
    const empty = async () => {
      const prisma = await clean();
      await prisma.partition.deleteMany({ where: { clusterId: { in: ['c1', 'c2'] } } });
      await prisma.cluster.upsert({ where: { id: 'c2' }, create: { id: 'c2', name: 'c2' }, update: {} });
      return prisma;
    };
    for (const [name, run] of partitionStoreContract(async () => new PartitionRepository(await empty()))) it(name, run);
  });
  describe('cluster store', () => {
    /** No clusters k1, k2 or k3 (and none created after them, so the oldest-first order is theirs). */
    const without = async () => {
      const prisma = test.server.database.prisma;
      await prisma.cluster.deleteMany({ where: { id: { in: ['k1', 'k2', 'k3'] } } });
      return prisma;
    };
    for (const [name, run] of clusterStoreContract(async () => new PrismaClusterStore(await without()))) it(name, run);
  });
});
