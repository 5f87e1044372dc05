// The in-memory lifecycle store keeps the same contract as the Prisma one (run on real PostgreSQL in test/integration/store-contracts.test.ts).
import { test } from 'node:test';
import { MemoryLifecycleStore } from './lifecycle-store';
import { lifecycleStoreContract } from './lifecycle-store-contract';
import { summary } from './test-fixtures';

const fresh = async () => {
  const store = new MemoryLifecycleStore();
  store.add(summary({ startedAtMs: 1_700_000_000_000 }));
  return store;
};
for (const [name, run] of lifecycleStoreContract(fresh)) test(`memory lifecycle store: ${name}`, run);
