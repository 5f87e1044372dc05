// The in-memory recovery store keeps the same contract as the Prisma one (run on real PostgreSQL in test/integration/store-contracts.test.ts).
import { test } from 'node:test';
import { MemoryRecoveryStore } from './recovery-store';
import { recoveryStoreContract } from './recovery-store-contract';

const fresh = async () => {
  const store = new MemoryRecoveryStore();
  for (const id of ['p1', 'p2']) store.addPartition(id, 'c1', { type: 'complete', sides: [['a', 'b', 'c'], ['d', 'e']], majorityIndex: 0, divergenceMax: 0 });
  return store;
};
for (const [name, run] of recoveryStoreContract(fresh)) test(`memory recovery store: ${name}`, run);
