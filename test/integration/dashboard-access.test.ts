/**
 * Proves, with real Socket.IO clients on a real server and PostgreSQL, that an
 * open dashboard socket loses its access as soon as HTTP does: disabling its
 * user, demoting its user, revoking its token, signing its session out, or its
 * session expiring ends the socket within a bounded wait, after which it
 * receives no more live updates, while an unaffected dashboard keeps receiving
 * them. A change written straight to the database (as another server instance
 * would make it) is caught by the periodic re-check.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type TestServer, callApi, connectDashboard, createSignedInUser, signIn, startTestServer, waitFor } from '../helpers/server-harness';

const clusterId = 'access-test';
/** The server's periodic re-check interval as the README documents it (ms). */
const principalRecheckIntervalMs = 5000;
/** How long an event-driven change may take to end a socket (ms). */
const endedWithinMs = 1500;

type Dashboard = Awaited<ReturnType<typeof connectDashboard>>;

describe('dashboard sockets follow access changes', () => {
  let test: TestServer;
  let control: Dashboard;
  let pushes = 0;

  before(async () => {
    test = await startTestServer();
    await test.server.service.ensureCluster(clusterId);
    control = await connectDashboard(test.url, clusterId);
  });
  after(async () => {
    control?.close();
    await test?.stop();
  });

  /** Makes the server push a live update to the cluster's room (a new node changes the view). */
  const pushUpdate = () => {
    const cluster = test.server.service.getClusterOrThrow(clusterId);
    pushes += 1;
    cluster.node(`pushed-${pushes}`);
    test.server.service.evaluate(cluster);
  };

  /** Connects `headers`' dashboard and proves it receives live updates before the change. */
  const connectLive = async (headers: Record<string, string>) => {
    const dashboard = await connectDashboard(test.url, clusterId, { headers });
    assert.equal(dashboard.first.ok, true, 'subscribed');
    const before = dashboard.updates.length;
    pushUpdate();
    await waitFor('a live update before the change', () => dashboard.updates.length > before, 5000);
    return dashboard;
  };

  /** Asserts the socket was ended within `withinMs` and gets nothing more, while the control dashboard still does. */
  const assertEnded = async (dashboard: Dashboard, what: string, withinMs = endedWithinMs) => {
    try {
      await waitFor(`${what}: the socket ended`, () => !dashboard.socket.connected, withinMs, 20);
      const victimBefore = dashboard.updates.length;
      const controlBefore = control.updates.length;
      pushUpdate();
      await waitFor('the control dashboard still gets updates', () => control.updates.length > controlBefore, 5000);
      assert.equal(dashboard.updates.length, victimBefore, `${what}: no update after the change`);
    } finally {
      dashboard.close();
    }
  };

  const userId = async (name: string) => {
    const users = await callApi<{ id: string; name: string }[]>(test.url, '/api/users');
    assert.ok(users.payload.ok);
    return users.payload.data.find((user) => user.name === name)!.id;
  };

  it('ends the socket of a user who is disabled', async () => {
    const dashboard = await connectLive(await createSignedInUser(test, 'disabled-user', 'viewer'));
    const changed = await callApi(test.url, `/api/users/${await userId('disabled-user')}`, { method: 'POST', body: { disabled: true } });
    assert.equal(changed.status, 200);
    await assertEnded(dashboard, 'disabled');
  });

  it('ends the socket of a user who is demoted (their sessions end with the old role)', async () => {
    const dashboard = await connectLive(await createSignedInUser(test, 'demoted-user', 'operator'));
    const changed = await callApi(test.url, `/api/users/${await userId('demoted-user')}`, { method: 'POST', body: { role: 'viewer' } });
    assert.equal(changed.status, 200);
    await assertEnded(dashboard, 'demoted');
  });

  it('ends the socket of a bearer token that is revoked', async () => {
    const { id, token } = await test.server.console.auth.createApiToken({ name: 'revoked-token', role: 'viewer', createdBy: 'test' });
    const dashboard = await connectLive({ authorization: `Bearer ${token}` });
    const revoked = await callApi(test.url, `/api/tokens/${id}/revoke`, { method: 'POST', body: {} });
    assert.equal(revoked.status, 200);
    await assertEnded(dashboard, 'revoked');
  });

  it('ends the socket of a session that signs out', async () => {
    const session = await createSignedInUser(test, 'signed-out-user', 'viewer');
    const dashboard = await connectLive(session);
    const signedOut = await callApi(test.url, '/api/auth/sign-out', { method: 'POST', headers: session, body: {} });
    assert.equal(signedOut.status, 200);
    await assertEnded(dashboard, 'signed out');
  });

  it('ends the socket of a session when the session expires', async () => {
    const session = await createSignedInUser(test, 'expiring-user', 'viewer');
    const expiresAt = new Date(Date.now() + 1500);
    await test.server.database.prisma.session.updateMany({ where: { user: { name: 'expiring-user' } }, data: { expiresAt } });
    const dashboard = await connectLive(session);
    await assertEnded(dashboard, 'expired', 1500 + endedWithinMs);
  });

  it('ends the socket when the user is disabled behind the server\'s back (another instance), within the re-check interval', async () => {
    const dashboard = await connectLive(await signIn(test.url, 'admin', 'test-admin-password-1'));
    const other = await createSignedInUser(test, 'elsewhere-user', 'viewer');
    const otherDashboard = await connectLive(other);
    await test.server.database.prisma.user.update({ where: { name: 'elsewhere-user' }, data: { disabledAt: new Date() } });
    await assertEnded(otherDashboard, 'disabled elsewhere', principalRecheckIntervalMs + endedWithinMs * 2);
    assert.equal(dashboard.socket.connected, true, 'the admin session is untouched');
    dashboard.close();
  });
});
