/**
 * The server's own database role. Migrations run as the role of DATABASE_URL
 * (which owns the tables); the running server then connects as a role that owns
 * nothing and is no superuser, so it cannot disable the audit log's trigger,
 * alter or drop tables, or UPDATE, DELETE or TRUNCATE audit rows: the append-only
 * promise holds against the application itself, not only against its code paths.
 *
 * Roles are cluster-wide while tables are per database, so the role is named after
 * the database; its password is derived from DATABASE_URL, so every server started
 * with the same URL (a restart, a second instance) arrives at the same password
 * without storing one.
 */
import { createHash, createHmac } from 'node:crypto';
import pg from 'pg';
import type { Logger } from '../logger';

/** PostgreSQL's identifier length limit (NAMEDATALEN - 1). */
const identifierBytesMax = 63;

/** The runtime role of a database: `<database>_runtime`, shortened with a hash when too long. */
export function runtimeRoleName(databaseName: string): string {
  const plain = `${databaseName}_runtime`;
  if (Buffer.byteLength(plain) <= identifierBytesMax) return plain;
  const digest = createHash('sha256').update(databaseName).digest('hex').slice(0, 12);
  return `${databaseName.slice(0, 30)}_${digest}_runtime`;
}

/** Grants of the runtime role, after each migration run (new tables need them too). */
function grantStatements(role: string, database: string): string[] {
  return [
    `GRANT CONNECT, TEMPORARY ON DATABASE ${database} TO ${role}`,
    `GRANT USAGE ON SCHEMA public TO ${role}`,
    `REVOKE CREATE ON SCHEMA public FROM ${role}`,
    `GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO ${role}`,
    `GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO ${role}`,
    `REVOKE ALL ON TABLE "_prisma_migrations" FROM ${role}`,
    // Append-only by privilege as well as by trigger: a refused UPDATE never reaches the trigger.
    `REVOKE UPDATE, DELETE, TRUNCATE ON TABLE "AuditEntry" FROM ${role}`,
  ];
}

/** What `prepareRuntimeRole` decided. */
export interface RuntimeConnection {
  /** URL the server's pools use. */
  url: string;
  /** The role they log in as. */
  role: string;
  /** False when the URL's role could not create roles and is used as is (logged as a warning). */
  restricted: boolean;
}

/**
 * Creates or updates the runtime role with the URL's role and grants it what the
 * server needs, returning the URL to connect with. A URL whose role may not create
 * roles (a managed database handing out one login) is used unchanged, with a warning.
 */
export async function prepareRuntimeRole(adminUrl: string, logger: Logger): Promise<RuntimeConnection> {
  const parsed = new URL(adminUrl);
  const databaseName = decodeURIComponent(parsed.pathname.slice(1)) || decodeURIComponent(parsed.username) || 'postgres';
  const roleName = runtimeRoleName(databaseName);
  const password = createHmac('sha256', adminUrl).update(`faultline runtime role ${roleName}`).digest('base64url');
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const self = await client.query<{ rolsuper: boolean; rolcreaterole: boolean; rolname: string }>(
      'SELECT rolsuper, rolcreaterole, rolname FROM pg_roles WHERE rolname = current_user',
    );
    const admin = self.rows[0];
    if (!admin || (!admin.rolsuper && !admin.rolcreaterole)) {
      logger.warn({ role: admin?.rolname }, 'DATABASE_URL role may not create roles: the server runs as it, and as the tables\' owner it could disable the audit trigger');
      return { url: adminUrl, role: admin?.rolname ?? parsed.username, restricted: false };
    }
    const role = client.escapeIdentifier(roleName);
    // Several instances starting at once on one database would race on the role's and the
    // grants' catalog rows ("tuple concurrently updated"): one at a time, under a session
    // advisory lock that ends with this connection.
    await client.query('SELECT pg_advisory_lock(hashtext($1))', [`faultline runtime role ${roleName}`]);
    const attributes = `LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS NOINHERIT PASSWORD ${client.escapeLiteral(password)}`;
    try {
      await client.query(`CREATE ROLE ${role} ${attributes}`);
    } catch (error) {
      // 42710: it exists (an earlier start, or another instance starting now).
      if ((error as { code?: string }).code !== '42710') throw error;
      await client.query(`ALTER ROLE ${role} ${attributes}`);
    }
    for (const statement of grantStatements(role, client.escapeIdentifier(databaseName))) await client.query(statement);
  } finally {
    await client.end();
  }
  const runtime = new URL(adminUrl);
  runtime.username = encodeURIComponent(roleName);
  runtime.password = password;
  logger.info({ role: roleName }, 'server connects as its restricted database role');
  return { url: runtime.toString(), role: roleName, restricted: true };
}
