/**
 * Prisma CLI configuration: the offline WebAssembly engine path (see
 * shared STACK-NOTES), talking to PostgreSQL through the pg driver adapter.
 */
import { PrismaPg } from '@prisma/adapter-pg';
import { defineConfig } from 'prisma/config';

export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  experimental: { adapter: true },
  engine: 'js',
  async adapter() {
    const connectionString = process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/faultline';
    return new PrismaPg({ connectionString });
  },
});
