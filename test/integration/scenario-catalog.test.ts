/**
 * Proves that the whole scenario catalog reaches the live cluster: the API lists
 * exactly the files of `scenarios/` (one source of truth), every one of them starts
 * on a real server with five real agent processes, and two of them, played to the
 * end, do to the real agents what the file says: `one-way` makes the classifier
 * name node-1 → node-2 as the failing direction and heals by itself at 12 s;
 * `control-plane-cut` makes the server lose node-1's reports while its peers still
 * hear it (named, no partition), until "heal everything" ends the run.
 */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import type { ClusterSnapshot } from '../../core/realtime-contract';
import { type TestServer, callApi, startTestServer, waitFor } from '../helpers/server-harness';

const catalogNames = readdirSync('scenarios')
  .filter((name) => name.endsWith('.json') && !name.endsWith('.schema.json'))
  .map((file) => (JSON.parse(readFileSync(`scenarios/${file}`, 'utf8')) as { name: string }).name)
  .sort();

describe('scenario catalog on live agents', () => {
  let test_: TestServer;
  const snapshot = async () => {
    const answer = await callApi<ClusterSnapshot>(test_.url, '/api/cluster?clusterId=demo');
    assert.ok(answer.payload.ok);
    return answer.payload.data;
  };
  const faults = async () => {
    const answer = await callApi<{ faults: { node: string; rules: { peerId: string; dropOutbound: boolean; dropInbound: boolean }[] }[] }>(test_.url, '/api/faults?clusterId=demo');
    assert.ok(answer.payload.ok);
    return answer.payload.data.faults;
  };
  const start = (name: string) => callApi<{ scenario: string; mapping: Record<string, string>; stepsAtMs: number[]; notes: string[] }>(test_.url, `/api/scenarios/${name}/start`, { method: 'POST', body: { clusterId: 'demo' } });
  const heal = () => callApi(test_.url, '/api/faults/heal', { method: 'POST', body: { clusterId: 'demo' } });

  before(async () => {
    test_ = await startTestServer({ agents: 5 });
    await waitFor('five agents reporting', async () => {
      const cluster = await snapshot();
      return cluster.nodes.length === 5 && cluster.nodes.every((node) => !node.stale);
    });
  });
  after(async () => {
    await test_?.stop();
  });

  test('the API lists exactly the catalog files, and every one starts', async () => {
    const listed = await callApi<{ name: string }[]>(test_.url, '/api/scenarios');
    assert.ok(listed.payload.ok, JSON.stringify(listed.payload));
    assert.deepEqual(listed.payload.data.map((scenario) => scenario.name), catalogNames);
    assert.ok(catalogNames.length >= 13);
    for (const name of catalogNames) {
      const started = await start(name);
      assert.ok(started.payload.ok, `${name}: ${JSON.stringify(started.payload)}`);
      assert.equal(started.payload.data.scenario, name);
      assert.ok(Object.values(started.payload.data.mapping).every((node) => /^node-[1-5]$/.test(node)), `${name}: mapped onto the live nodes`);
      const running = await callApi<{ scenario: string } | null>(test_.url, '/api/scenarios/run?clusterId=demo');
      assert.ok(running.payload.ok && running.payload.data?.scenario === name, `${name} is the run going on`);
    }
    assert.equal((await start('no-such-scenario')).status, 404);
    assert.ok((await heal()).payload.ok);
    const after_ = await callApi(test_.url, '/api/scenarios/run?clusterId=demo');
    assert.ok(after_.payload.ok && after_.payload.data === null, 'heal everything ends the run');
    assert.deepEqual(await faults(), []);
  });

  test('one-way plays on the agents: the failing direction is named, then it heals by itself', async () => {
    await waitFor('a whole cluster', async () => !(await snapshot()).verdict.partitioned, 15_000);
    const startedAtMs = Date.now();
    assert.ok((await start('one-way')).payload.ok);
    assert.deepEqual(await faults(), [], 'nothing before the fault time (5 s)');
    const verdict = await waitFor('node-1 → node-2 named failing', async () => {
      const current = (await snapshot()).verdict;
      return current.type === 'asymmetric' && current.oneWayLinks.some((link) => link.from === 'node-1' && link.to === 'node-2') ? current : null;
    }, 15_000, 100);
    const seenAfterMs = Date.now() - startedAtMs;
    assert.ok(seenAfterMs >= 5000, `named at ${seenAfterMs} ms, before the fault time`);
    assert.deepEqual(verdict.oneWayLinks, [{ from: 'node-1', to: 'node-2' }]);
    await waitFor('the rules lifted at 12 s', async () => (await faults()).length === 0, 15_000, 100);
    assert.ok(Date.now() - startedAtMs >= 12_000);
    await waitFor('a whole cluster again', async () => !(await snapshot()).verdict.partitioned, 15_000);
  });

  test('control-plane-cut plays on the server: node-1 named, no partition, until healed', async () => {
    assert.ok((await start('control-plane-cut')).payload.ok);
    const verdict = await waitFor('node-1 cut from the server', async () => {
      const current = (await snapshot()).verdict;
      return current.controlPlaneCutNodes.includes('node-1') ? current : null;
    }, 15_000, 100);
    assert.equal(verdict.partitioned, false, 'a control-plane cut is not a cluster partition');
    assert.ok((await heal()).payload.ok);
    await waitFor('node-1 heard by the server again', async () => {
      const current = await snapshot();
      return current.verdict.controlPlaneCutNodes.length === 0 && current.nodes.every((node) => !node.stale);
    }, 15_000, 100);
  });
});
