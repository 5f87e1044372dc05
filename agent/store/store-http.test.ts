// Proves the store's HTTP API over a real loopback socket: PUT then GET a key,
// 404 for a missing key, 503 with a code while fenced, field-named validation errors,
// and a digest endpoint that matches the store.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { KvStore } from './kv-store';
import { type StoreHttpHandle, startStoreHttp } from './store-http';

let handle: StoreHttpHandle;
let nowMs = 1_700_000_000_000;
const store = new KvStore({ nodeId: 'a', nowMs: () => nowMs++ });

before(async () => {
  handle = await startStoreHttp(store, { host: '127.0.0.1', port: 0 });
});
after(async () => {
  await handle.close();
});

const put = (key: string, body: unknown) =>
  fetch(`${handle.url}/kv/${encodeURIComponent(key)}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

test('PUT then GET returns the value and its HLC', async () => {
  const written = await put('user/1', { value: 'alice' });
  assert.equal(written.status, 200);
  const reply = (await (await fetch(`${handle.url}/kv/user%2F1`)).json()) as { ok: boolean; data: { value: string; hlc: string } };
  assert.equal(reply.data.value, 'alice');
  assert.match(reply.data.hlc, /^\d{16}-[0-9a-f]{8}-a$/);
  assert.equal((await fetch(`${handle.url}/kv/nobody`)).status, 404);
});

test('fenced: 503 with a code; critical writes pass in emergency', async () => {
  store.setFence('p1', 'critical-only');
  const refused = await put('k', { value: 'v' });
  assert.equal(refused.status, 503);
  assert.equal(((await refused.json()) as { code: string }).code, 'unavailable');
  assert.equal((await put('k', { value: 'v', critical: true })).status, 200);
  store.setFence('p1', null);
});

test('validation names the field; unknown routes are 404', async () => {
  const bad = await put('k', { value: 42 });
  assert.equal(bad.status, 400);
  assert.match(((await bad.json()) as { message: string }).message, /^value:/);
  assert.equal((await fetch(`${handle.url}/elsewhere`)).status, 404);
});

test('GET /digest matches the store', async () => {
  const reply = (await (await fetch(`${handle.url}/digest`)).json()) as { data: { root: string } };
  assert.equal(reply.data.root, store.digest().root);
  assert.equal((await fetch(`${handle.url}/digest?buckets=0`)).status, 400);
});
