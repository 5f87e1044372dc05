/**
 * Proves the leader election on a real PostgreSQL (server/leadership.ts): of two
 * instances electing on one database exactly one leads, its subscribed services
 * start in order; when its lock connection dies (terminated by the server, which
 * is what PostgreSQL sees of a process killed with -9) it steps down, stopping its
 * services in reverse order, and the other takes over within a few polls with the
 * lease epoch one higher; both list each other while alive.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { applyMigrations } from '../../server/db/database';
import { type Election, LeaderGate, startElection } from '../../server/leadership';
import { createLogger } from '../../server/logger';
import { type TestDatabase, createTestDatabase } from '../helpers/database';
import { waitFor } from '../helpers/server-harness';

const logger = createLogger('silent');
const pollMs = 100;

describe('leader election on PostgreSQL', () => {
  let database: TestDatabase;
  let admin: pg.Client;
  const elections: Election[] = [];

  before(async () => {
    database = await createTestDatabase();
    await applyMigrations(database.url, logger);
    admin = new pg.Client({ connectionString: database.url });
    await admin.connect();
  });
  after(async () => {
    await Promise.all(elections.map((election) => election.stop()));
    await admin?.end();
    await database?.drop();
  });

  it('elects one leader and hands over when its connection dies', async () => {
    const events: string[] = [];
    const gates = ['one', 'two'].map((name) => {
      const gate = new LeaderGate(name, logger);
      for (const service of ['first', 'second']) {
        gate.serve(service, { start: () => void events.push(`${name} start ${service}`), stop: () => void events.push(`${name} stop ${service}`) });
      }
      return gate;
    });
    for (const gate of gates) {
      const election = startElection({ gate, url: database.url, selfUrl: `http://${gate.instanceId}`, pollMs, logger });
      elections.push(election);
      await election.firstRound;
    }
    assert.deepEqual(gates.map((gate) => gate.isLeader), [true, false], 'the first to try leads, the other follows');
    assert.deepEqual(events, ['one start first', 'one start second']);
    assert.equal(gates[0]!.epoch, 1);
    await waitFor('both instances listed', () => gates.every((gate) => gate.status().instances.length === 2), 10_000);

    // What PostgreSQL sees of a leader killed with -9: its session ends.
    const killedAtMs = Date.now();
    // Only this test's database: other databases on the server are not ours to touch.
    const ended = await admin.query(
      `SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
    );
    assert.equal(ended.rowCount, 1, 'one advisory lock held: the leader\'s');
    await waitFor('the other leads', () => gates[1]!.isLeader, 10_000, 10);
    const takeoverMs = Date.now() - killedAtMs;
    await waitFor('the old leader stepped down', () => !gates[0]!.isLeader, 10_000, 10);
    assert.deepEqual(events.slice(2).sort(), ['one stop first', 'one stop second', 'two start first', 'two start second'].sort());
    assert.ok(events.indexOf('one stop second') < events.indexOf('one stop first'), 'stopped in reverse order');
    assert.equal(gates[1]!.epoch, 2, 'the epoch grew by one at the takeover');
    const lease = await admin.query<{ holderId: string; epoch: number }>('SELECT "holderId", epoch FROM "LeaderLease"');
    assert.deepEqual(lease.rows, [{ holderId: 'two', epoch: 2 }]);
    // The stepped-down instance competes again, as a follower.
    await new Promise((resolve) => setTimeout(resolve, pollMs * 5));
    assert.equal(gates.filter((gate) => gate.isLeader).length, 1, 'never two leaders');
    process.stdout.write(`# measured: lock connection ended → new leader ${takeoverMs} ms (poll ${pollMs} ms)\n`);
  });
});
