// The in-memory cluster store keeps the same contract as the Prisma one (run on real PostgreSQL in test/integration/store-contracts.test.ts).
import { test } from 'node:test';
import { MemoryClusterStore } from './cluster-store';
import { clusterStoreContract } from './cluster-store-contract';

for (const [name, run] of clusterStoreContract(async () => new MemoryClusterStore())) test(`memory cluster store: ${name}`, run);
