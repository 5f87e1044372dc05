/** The in-memory experiment store keeps the same contract as the Prisma one (which runs it on PostgreSQL in test/integration/store-contracts.test.ts). */
import { describe, it } from 'node:test';
import { experimentStoreContract } from './experiment-store-contract';
import { MemoryExperimentStore } from './memory-experiment-store';

describe('memory experiment store', () => {
  for (const [name, run] of experimentStoreContract(async () => new MemoryExperimentStore())) it(name, run);
});
