/**
 * Fresh databases for integration tests on the real PostgreSQL named by
 * TEST_DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/test): each
 * test file gets its own database, dropped afterwards together with the
 * restricted runtime role the server creates for it (roles are cluster-wide).
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { runtimeRoleName } from '../../server/db/runtime-role';

/** The server every integration test talks to. */
export const testServerUrl = process.env.TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/test';

/** A database created for one test file. */
export interface TestDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

/** Creates an empty database with a unique name. */
export async function createTestDatabase(prefix = 'faultline_t'): Promise<TestDatabase> {
  const name = `${prefix}_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: testServerUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  return {
    url: withDatabase(testServerUrl, name),
    name,
    async drop() {
      const client = new pg.Client({ connectionString: testServerUrl });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        // Its grants lived in the dropped database, so the role owns nothing any more.
        await client.query(`DROP ROLE IF EXISTS ${client.escapeIdentifier(runtimeRoleName(name))}`);
      } finally {
        await client.end();
      }
    },
  };
}
