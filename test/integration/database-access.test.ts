/**
 * Proves who can reach the server's database (issue 17 item 10).
 * Embedded PGlite: every file and directory under the data directory is private
 * (no group or other bits) while the server runs and after it stops; a client that
 * connects to the database's port is asked for a password (not let in), and a wrong
 * password or a wrong user name is refused with 28P01, while the generated password
 * kept in secrets.json (0600) lets the right user in.
 * Real PostgreSQL: the server's pools log in as a role that is not a superuser and
 * owns nothing, so it can neither disable the audit trigger nor UPDATE, DELETE or
 * TRUNCATE audit rows, while the server still writes audit rows; the test helper
 * drops that role with the database.
 */
import assert from 'node:assert/strict';
import { lstat, readFile, readdir } from 'node:fs/promises';
import { connect } from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { embeddedDatabaseUser } from '../../server/db/database';
import { runtimeRoleName } from '../../server/db/runtime-role';
import { testServerUrl } from '../helpers/database';
import { type TestServer, startTestServer } from '../helpers/server-harness';

/** Every path under `directory` whose mode grants anything to group or others. */
async function looseEntries(directory: string): Promise<string[]> {
  const loose: string[] = [];
  const pending = [directory];
  for (let visited = 0; pending.length > 0 && visited < 100_000; visited += 1) {
    const current = pending.pop()!;
    const stat = await lstat(current);
    if ((stat.mode & 0o077) !== 0) loose.push(`${path.relative(directory, current) || '.'} ${(stat.mode & 0o777).toString(8)}`);
    if (stat.isDirectory()) for (const entry of await readdir(current)) pending.push(path.join(current, entry));
  }
  return loose;
}

/** Sends a v3 startup message and returns the tag and first int of the server's first answer. */
async function firstAnswerToStartup(port: number, user: string): Promise<{ tag: string; code: number }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const parameters = Buffer.from(`user\0${user}\0database\0postgres\0\0`);
    const header = Buffer.alloc(8);
    header.writeInt32BE(8 + parameters.length, 0);
    header.writeInt32BE(196_608, 4);
    socket.once('connect', () => socket.write(Buffer.concat([header, parameters])));
    socket.once('data', (data) => {
      socket.destroy();
      resolve({ tag: String.fromCharCode(data[0]!), code: data.readInt32BE(5) });
    });
    socket.once('error', reject);
    setTimeout(() => reject(new Error('no answer')), 5000).unref();
  });
}

async function connectError(url: string): Promise<{ code?: string; message: string } | null> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return null;
  } catch (error) {
    return error as { code?: string; message: string };
  } finally {
    await client.end().catch(() => undefined);
  }
}

describe('embedded database access', () => {
  let test: TestServer;
  before(async () => {
    test = await startTestServer({ database: 'embedded' });
  });
  after(async () => {
    await test?.stop();
  });

  it('keeps every file and directory of the data directory private', async () => {
    await test.server.console.audit.record({ actor: 'test', action: 'test.write', target: null, data: {} });
    assert.deepEqual(await looseEntries(test.dataDir), [], 'while running');
    const secretsStat = await lstat(path.join(test.dataDir, 'secrets.json'));
    assert.equal(secretsStat.mode & 0o777, 0o600);
  });

  it('asks a client for a password instead of letting it in', async () => {
    const port = Number(new URL(test.server.database.url).port);
    const answer = await firstAnswerToStartup(port, 'postgres');
    assert.deepEqual(answer, { tag: 'R', code: 10 }, 'AuthenticationSASL, not AuthenticationOk (R, 0)');
  });

  it('refuses a wrong password and a wrong user, admits the generated password', async () => {
    const url = new URL(test.server.database.url);
    const secrets = JSON.parse(await readFile(path.join(test.dataDir, 'secrets.json'), 'utf8')) as { embeddedDatabasePassword: string };
    assert.equal(decodeURIComponent(url.password), secrets.embeddedDatabasePassword, 'the server uses the password kept in secrets.json');

    const wrongPassword = new URL(url);
    wrongPassword.password = 'not-the-password';
    assert.equal((await connectError(wrongPassword.toString()))?.code, '28P01');

    const wrongUser = new URL(url);
    wrongUser.username = 'postgres';
    assert.equal((await connectError(wrongUser.toString()))?.code, '28P01');

    assert.equal(url.username, embeddedDatabaseUser);
    assert.equal(await connectError(url.toString()), null, 'the right user with the generated password gets in');
  });

  it('leaves the data directory private after the server stops', async () => {
    await test.server.close();
    assert.deepEqual(await looseEntries(test.dataDir), []);
  });
});

describe('the server\'s role on a real PostgreSQL', () => {
  let test: TestServer;
  let runtime: pg.Client;
  before(async () => {
    test = await startTestServer();
    runtime = new pg.Client({ connectionString: test.server.database.url });
    await runtime.connect();
  });
  after(async () => {
    await runtime?.end();
    await test?.stop();
  });

  it('logs in as its own role, which is no superuser and owns no table', async () => {
    assert.equal(test.server.database.role.restricted, true);
    assert.equal(test.server.database.role.name, runtimeRoleName(test.database!.name));
    const self = await runtime.query<{ rolsuper: boolean; current_user: string }>('SELECT rolsuper, current_user FROM pg_roles WHERE rolname = current_user');
    assert.deepEqual(self.rows, [{ rolsuper: false, current_user: runtimeRoleName(test.database!.name) }]);
    const owned = await runtime.query('SELECT tablename FROM pg_tables WHERE schemaname = \'public\' AND tableowner = current_user');
    assert.deepEqual(owned.rows, []);
  });

  it('cannot disable the audit trigger or change audit rows, and still appends them', async () => {
    await test.server.console.audit.record({ actor: 'test', action: 'test.write', target: null, data: {} });
    const refused = [
      'ALTER TABLE "AuditEntry" DISABLE TRIGGER ALL',
      'DROP TRIGGER "AuditEntry_no_update_delete" ON "AuditEntry"',
      'SET session_replication_role = replica',
      'UPDATE "AuditEntry" SET actor = \'forged\'',
      'DELETE FROM "AuditEntry"',
      'TRUNCATE "AuditEntry"',
      'DROP FUNCTION "audit_entry_append_only"() CASCADE',
    ];
    for (const statement of refused) {
      await assert.rejects(runtime.query(statement), /permission denied|must be owner/, statement);
      await assert.rejects(test.server.database.prisma.$executeRawUnsafe(statement), /permission denied|must be owner/, `${statement} (server's pool)`);
    }
    const rows = await runtime.query<{ count: string }>('SELECT COUNT(*) FROM "AuditEntry" WHERE action = \'test.write\' AND actor = \'test\'');
    assert.equal(rows.rows[0]!.count, '1');
  });

  it('is dropped with the test database', async () => {
    const role = runtimeRoleName(test.database!.name);
    await runtime.end();
    await test.stop();
    const admin = new pg.Client({ connectionString: testServerUrl });
    await admin.connect();
    try {
      assert.equal((await admin.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [role])).rowCount, 0);
    } finally {
      await admin.end();
    }
    test = null as unknown as TestServer;
    runtime = null as unknown as pg.Client;
  });
});
