/**
 * Proves that a report's nonce stays used across a server restart, on a real
 * server and PostgreSQL: a signed report captured while it was accepted is
 * refused as a replay when sent again, inside its signature window, to the same
 * server restarted on the same database, and nothing of it is applied twice.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { connectAgentClient, makeReport, signAs } from '../helpers/agent-client';
import { createTestDatabase, type TestDatabase } from '../helpers/database';
import { type TestServer, startTestServer } from '../helpers/server-harness';

const clusterId = 'replay';

describe('report nonces across a restart', () => {
  let database: TestDatabase;
  let second: TestServer | null = null;
  after(async () => {
    await second?.stop();
    await database?.drop();
  });

  it('refuses a report captured before the restart as a replay after it', async () => {
    database = await createTestDatabase();
    const first = await startTestServer({ reuseDatabase: database });
    const { token } = await first.server.credentials.issue({ clusterId, agentId: 'r1', createdBy: 'test' });
    const captured = signAs(token, makeReport(clusterId, 'r1', 1));
    try {
      const socket = await connectAgentClient(first.url, token, clusterId, 'r1');
      const accepted = await socket.timeout(5000).emitWithAck('report', captured);
      socket.close();
      assert.deepEqual(accepted, { ok: true, data: { sequence: 1, duplicate: false } });
    } finally {
      await first.stop();
    }

    second = await startTestServer({ reuseDatabase: database });
    const socket = await connectAgentClient(second.url, token, clusterId, 'r1');
    try {
      const replayed = (await socket.timeout(5000).emitWithAck('report', captured)) as { ok: boolean; code?: string; message?: string };
      assert.equal(replayed.ok, false, `the replay was accepted: ${JSON.stringify(replayed)}`);
      assert.equal(replayed.code, 'unauthorized');
      assert.match(replayed.message ?? '', /replay/);
      const fresh = await socket.timeout(5000).emitWithAck('report', signAs(token, makeReport(clusterId, 'r1', 2)));
      assert.deepEqual(fresh, { ok: true, data: { sequence: 2, duplicate: false } }, 'a fresh report is still accepted');
    } finally {
      socket.close();
    }
  });
});
