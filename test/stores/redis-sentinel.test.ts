/**
 * Split brain on real Redis with Sentinel doing the failover (bench/split-brain/
 * redis-scenario.ts): 3 redis-servers, 3 Sentinels, a real control server and a
 * Faultline agent beside each Redis; two clients write unique keys all along; the old
 * primary is cut off (its Sentinel/replica links through a blocked TCP proxy, its
 * agent isolated by transport faults), Sentinel promotes a replica, the cut heals and
 * Sentinel demotes the old primary with REPLICAOF. With Faultline no acknowledged
 * write may be lost (the fence refuses writes on the old primary, the journal keeps
 * what it acknowledged before, reconciliation applies it to the new primary). The
 * same script without Faultline shows what Redis loses on its own: the old primary
 * acknowledges writes for the whole cut and REPLICAOF throws them away, so that
 * number is above 0 on every run.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { redisServerAvailable } from '../../local-stores/redis';
import { runRedisSplitBrain } from '../../bench/split-brain/redis-scenario';

const skip = redisServerAvailable() ? false : 'redis-server is not installed';

test('with Faultline no acknowledged write is lost; without it Redis loses some', { skip, timeout: 240_000 }, async () => {
  const log = (line: string) => void process.stdout.write(`# ${line}\n`);
  const faultline = await runRedisSplitBrain({ mode: 'faultline', log });
  const baseline = await runRedisSplitBrain({ mode: 'baseline', log });
  process.stdout.write(`# ${JSON.stringify({ faultline, baseline })}\n`);
  process.stdout.write(`# lost acknowledged writes: faultline ${faultline.lost} of ${faultline.acknowledged}, baseline ${baseline.lost} of ${baseline.acknowledged}\n`);
  assert.ok(faultline.acknowledged > 500, 'the clients wrote');
  assert.equal(faultline.lost, 0, 'Faultline lost an acknowledged write');
  assert.notEqual(faultline.cutToRefusalMs, null, 'the fence refused a real client write on the old primary during the cut');
  assert.equal(faultline.agentError, null);
  assert.ok(baseline.lost > 0, 'without Faultline the old primary acknowledges writes during the cut that REPLICAOF throws away');
});
