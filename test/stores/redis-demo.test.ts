/**
 * `FAULTLINE_DEMO_STORE=redis`: the demo cluster's agents front real redis-server
 * processes (one primary, replicas, three Sentinels), and each node's report names
 * its store, its role and its endpoint, as the console's node panel shows them.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { redisServerAvailable } from '../../local-stores/redis';
import { type TestServer, startTestServer, waitFor } from '../helpers/server-harness';

const skip = redisServerAvailable() ? false : 'redis-server is not installed';
let server: TestServer | undefined;

before(async () => {
  if (!skip) server = await startTestServer({ agents: 3, env: { FAULTLINE_DEMO_STORE: 'redis' } });
});
after(async () => {
  await server?.stop();
});

test('the demo cluster runs on real Redis: one primary, two replicas, named in each report', { skip, timeout: 90_000 }, async () => {
  const nodes = await waitFor('three nodes reporting a redis store', () => {
    const snapshot = server!.server.service.snapshot('demo');
    const stores = snapshot.nodes.map((node) => node.dataPlane?.store);
    return stores.length === 3 && stores.every((store) => store?.kind === 'redis' && store.role !== 'unknown') ? stores : null;
  }, 60_000, 200);
  assert.deepEqual(nodes.map((store) => store!.role).sort(), ['primary', 'replica', 'replica']);
  assert.ok(nodes.every((store) => /^127\.0\.0\.1:\d+$/.test(store!.endpoint) && store!.error === null));
  assert.equal(server!.server.demo?.storeUrls.size, 0, 'no reference store API when the demo runs on Redis');
});
