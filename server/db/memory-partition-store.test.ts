// The in-memory partition store keeps the same contract as the Prisma one (run on real PostgreSQL in test/integration/store-contracts.test.ts).
import { test } from 'node:test';
import { MemoryPartitionStore } from './memory-partition-store';
import { partitionStoreContract } from './partition-store-contract';

for (const [name, run] of partitionStoreContract(async () => new MemoryPartitionStore())) test(`memory partition store: ${name}`, run);
