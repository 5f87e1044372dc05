/**
 * The Redis adapter against a real redis-server on a free loopback port: a fenced
 * primary refuses a real client's write (and takes it again once unfenced), every
 * acknowledged write reaches the journal with its value (deletes as tombstones), the
 * journal survives REPLICAOF throwing the data away, apply writes resolved values
 * (lifting the fence for itself only), digests compare data, and bad input (a
 * malformed URL, an unreachable Redis, a Sentinel) is named in the status and in
 * command errors.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Redis } from 'ioredis';
import { type Hlc, hlcFloor } from '../../../core/hlc';
import { loadAgentConfig } from '../../config';
import { executeDataPlaneCommand } from '../../data-plane-executor';
import { type LocalRedisProcess, redisScratchDir, redisServerAvailable, startRedisServer, startSentinel } from '../../../local-stores/redis';
import { RedisAdapter, dumpValuePrefix } from './redis-adapter';
import { parseRedisUrl } from './redis-url';

const skip = redisServerAvailable() ? false : 'redis-server is not installed';
const logs: string[] = [];
const log = (level: string, message: string) => void logs.push(`${level}: ${message}`);
const opened: RedisAdapter[] = [];
const clients: Redis[] = [];
let scratch: Awaited<ReturnType<typeof redisScratchDir>>;
let primary: LocalRedisProcess;
let other: LocalRedisProcess;

const waitFor = async <T>(what: string, check: () => T | Promise<T>, timeoutMs = 5000): Promise<NonNullable<T>> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
};
const adapterFor = async (url: string, nodeId = 'node-1') => {
  const adapter = new RedisAdapter({ target: parseRedisUrl(url), nodeId, nowMs: Date.now, log, pollIntervalMs: 50 });
  opened.push(adapter);
  await adapter.start();
  return adapter;
};
const client = (port: number) => {
  const redis = new Redis({ host: '127.0.0.1', port, maxRetriesPerRequest: 0 });
  redis.on('error', () => undefined);
  clients.push(redis);
  return redis;
};

before(async () => {
  if (skip) return;
  scratch = await redisScratchDir('fl-redis-adapter');
  [primary, other] = await Promise.all([startRedisServer({ dir: scratch.dir }), startRedisServer({ dir: scratch.dir })]);
});
after(async () => {
  for (const adapter of opened) await adapter.close();
  for (const redis of clients) redis.disconnect();
  await Promise.all([primary?.kill(), other?.kill()]);
  await scratch?.remove();
});

test('a fenced primary refuses a real client write with NOREPLICAS; unfence takes writes again', { skip }, async () => {
  const adapter = await adapterFor(primary.url);
  const app = client(primary.port);
  await app.set('before-fence', '1');
  await adapter.setFence('p1', 'read-only');
  await assert.rejects(app.set('during-fence', '1'), /NOREPLICAS/);
  await assert.rejects(app.multi().set('in-multi', '1').exec(), /NOREPLICAS|EXECABORT/);
  assert.equal(await app.get('during-fence'), null, 'the refused write is not stored');
  await waitFor('refusal counted', () => adapter.state().writesRefused >= 1);
  assert.deepEqual(adapter.state().fence, { partitionId: 'p1', mode: 'read-only' });
  // A second partition's fence holds until both are lifted.
  await adapter.setFence('p2', 'critical-only');
  await adapter.setFence('p1', null);
  await assert.rejects(app.set('still-fenced', '1'), /NOREPLICAS/);
  await adapter.setFence('p2', null);
  assert.equal(await app.set('after-fence', '1'), 'OK');
  assert.equal(adapter.state().fence, null);
  assert.deepEqual(await app.config('GET', 'min-replicas-to-write'), ['min-replicas-to-write', '0'], 'the setting from before the fence is back');
});

test('a fence Redis forgot (CONFIG SET by someone, or a restart) is put back by the next poll', { skip }, async () => {
  const adapter = await adapterFor(primary.url);
  const app = client(primary.port);
  await adapter.setFence('p3', 'read-only');
  await app.config('SET', 'min-replicas-to-write', '0');
  await waitFor('fence re-asserted', async () => (await app.config('GET', 'min-replicas-to-write') as string[])[1] !== '0');
  await assert.rejects(app.set('x', '1'), /NOREPLICAS/);
  await adapter.setFence('p3', null);
});

test('every acknowledged write is journaled with its value; the journal outlives REPLICAOF', { skip }, async () => {
  const adapter = await adapterFor(other.url, 'node-2');
  const app = client(other.port);
  const startedAt = hlcFloor(Date.now());
  for (let index = 0; index < 200; index += 1) await app.set(`k${index}`, `v${index}`);
  await app.del('k0');
  await app.hset('h', 'field', 'value');
  await waitFor('journal filled', () => adapter.state().journal.recorded >= 202);
  const changes = await adapter.changedSince(startedAt);
  const latest = new Map(changes.map((entry) => [entry.key, entry.value]));
  assert.equal(latest.get('k0'), null, 'a delete is a tombstone');
  assert.equal(latest.get('k199'), 'v199');
  assert.ok(latest.get('h')?.startsWith(dumpValuePrefix), 'a hash travels as DUMP');
  assert.ok(changes.every((entry) => entry.hlc.nodeId === 'node-2'));
  // REPLICAOF flushes the data; what was collected stays collectable.
  await app.replicaof('127.0.0.1', String(primary.port));
  await waitFor('became a replica', () => adapter.state().role === 'replica');
  await waitFor('synced', async () => (await app.get('k199')) === null);
  const after = await adapter.changedSince(startedAt);
  assert.equal(after.length, changes.length, 'nothing collected is lost when Redis throws its data away');
  await app.replicaof('NO', 'ONE');
});

test('apply writes resolved values on a primary, even a fenced one, and skips keys with newer local writes', { skip }, async () => {
  const adapter = await adapterFor(primary.url);
  const app = client(primary.port);
  await app.set('newer-here', 'local');
  await waitFor('journaled', () => adapter.state().journal.recorded >= 1 && adapter.changedSince(hlcFloor(0)).then((entries) => entries.some((entry) => entry.key === 'newer-here')));
  const old: Hlc = { wallMs: 1000, logical: 0, nodeId: 'node-9' };
  await adapter.setFence('p4', 'read-only');
  const reply = await executeDataPlaneCommand(adapter, 'node-1', {
    type: 'apply-resolved',
    runId: 'r1',
    last: true,
    entries: [
      { key: 'from-other-side', value: 'kept', hlc: '0000000000001000-00000000-node-9', supersedes: '0000000000001000-00000000-node-9' },
      { key: 'newer-here', value: 'stale', hlc: '0000000000001000-00000000-node-9', supersedes: '0000000000001000-00000000-node-9' },
    ],
  });
  assert.deepEqual(reply, { ok: true, data: { type: 'applied', runId: 'r1', nodeId: 'node-1', applied: 1, skipped: 1 } });
  assert.equal(await app.get('from-other-side'), 'kept');
  assert.equal(await app.get('newer-here'), 'local');
  await assert.rejects(app.set('y', '1'), /NOREPLICAS/, 'the fence is back after the apply');
  await adapter.setFence('p4', null);
  const journaled = await waitFor('applied entry journaled at its own HLC', async () =>
    (await adapter.changedSince(hlcFloor(0))).find((entry) => entry.key === 'from-other-side'));
  assert.deepEqual(journaled.hlc, old);
  const [a, b] = [await adapter.digest(64), await (await adapterFor(primary.url, 'node-3')).digest(64)];
  assert.equal(a.root, b.root, 'two views of the same data digest alike');
});

test('a Redis that dies mid-reconcile: apply fails with a clear error, the journal stays collectable', { skip }, async () => {
  const doomed = await startRedisServer({ dir: scratch.dir });
  try {
    const adapter = await adapterFor(doomed.url, 'node-4');
    const app = client(doomed.port);
    for (let index = 0; index < 20; index += 1) await app.set(`d${index}`, 'v');
    await waitFor('journaled', () => adapter.state().journal.recorded >= 20);
    await doomed.kill();
    await waitFor('death noticed', () => adapter.state().error?.includes('cannot reach redis'));
    const applied = await executeDataPlaneCommand(adapter, 'node-4', {
      type: 'apply-resolved', runId: 'r', last: true,
      entries: [{ key: 'x', value: 'y', hlc: '0000000000001000-00000000-node-9', supersedes: '0000000000001000-00000000-node-9' }],
    });
    assert.equal(applied.ok, false);
    assert.match(applied.ok ? '' : applied.message, /cannot reach redis|not connected/);
    const collected = await executeDataPlaneCommand(adapter, 'node-4', { type: 'collect-changes', runId: 'r', since: '0000000000000000-00000000--' });
    assert.equal(collected.ok && collected.data?.type === 'changes' ? collected.data.entries.length : -1, 20, 'the journal answers without Redis');
  } finally {
    await doomed.kill();
  }
});

test('bad input: a malformed URL, an unreachable Redis, a Sentinel are named', { skip }, async () => {
  assert.throws(() => parseRedisUrl('http://127.0.0.1:6379'), /unsupported scheme/);
  assert.throws(() => parseRedisUrl('redis://127.0.0.1:6379/3'), /only database 0/);
  assert.throws(() => parseRedisUrl('not a url'), /not a URL/);
  const flags = (dataPlane: string) => ['--id', 'n1', '--listen', '127.0.0.1:7946', '--peers', 'n2=127.0.0.1:7947', '--server', 'http://127.0.0.1:3000', '--data-plane', dataPlane];
  const env = { NODE_ENV: 'test' as const, FAULTLINE_AGENT_TOKEN: 'a-token-of-16-chars', FAULTLINE_CLUSTER_KEY: 'a-cluster-key-of-16' };
  assert.throws(() => loadAgentConfig(flags('mysql://db:3306'), env), /dataPlane: unsupported store \("mysql:"\): expected redis:\/\/HOST:PORT, postgresql:\/\/USER@HOST:PORT\/DB, or "reference"/);
  assert.throws(() => loadAgentConfig(flags('redis://db:6379/2'), env), /dataPlane: only database 0 is supported/);
  assert.deepEqual(loadAgentConfig(flags('redis://user:secret@10.0.0.5:6380'), env).dataPlane, { kind: 'redis', host: '10.0.0.5', port: 6380, username: 'user', password: 'secret', endpoint: '10.0.0.5:6380' });
  assert.deepEqual(loadAgentConfig(flags('reference'), env).dataPlane, { kind: 'reference' });
  const unreachable = await adapterFor('redis://127.0.0.1:1');
  await waitFor('error shown', () => unreachable.state().error);
  assert.match(unreachable.state().error!, /cannot reach redis at 127\.0\.0\.1:1/);
  assert.equal(unreachable.state().role, 'unknown');
  const reply = await executeDataPlaneCommand(unreachable, 'node-1', { type: 'collect-changes', runId: 'r', since: null });
  assert.equal(reply.ok, false);
  assert.match(reply.ok ? '' : reply.message, /cannot reach redis/);
  const sentinel = await startSentinel(scratch.dir, { masterName: 'm', master: { host: '127.0.0.1', port: primary.port }, quorum: 1, downAfterMs: 5000, failoverTimeoutMs: 10_000 });
  try {
    const wrong = await adapterFor(sentinel.url);
    await waitFor('sentinel named', () => wrong.state().error?.includes('Sentinel'));
    const refused = await executeDataPlaneCommand(wrong, 'node-1', { type: 'collect-changes', runId: 'r', since: null });
    assert.match(refused.ok ? '' : refused.message, /is a Redis Sentinel, not a redis-server/);
  } finally {
    await sentinel.kill();
  }
});
