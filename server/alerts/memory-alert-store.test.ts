// The in-memory alert store keeps the same contract as the Prisma one (run on real PostgreSQL in test/integration/store-contracts.test.ts).
import { test } from 'node:test';
import { MemoryAlertStore } from './alert-store';
import { alertStoreContract } from './alert-store-contract';

for (const [name, run] of alertStoreContract(async () => new MemoryAlertStore())) test(`memory alert store: ${name}`, run);
