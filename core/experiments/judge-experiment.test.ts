/**
 * The validators, on hand-made observations: detection in time and as expected
 * (and failing on the wrong type, sides or lateness), recovery within its limit,
 * consistency from the client's acknowledged writes and the final reads, availability
 * per side against the policy's promise, and the tripwires (two writing sides where
 * one is allowed; stale reads from a fenced side).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeHlc } from '../hlc';
import { defaultClusterPolicy } from '../policy/cluster-policy';
import { defaultExperimentBlock } from './experiment-spec';
import { judgeAvailability, judgeConsistency, judgeDetection, judgeRecovery, judgeTripwires, runStatusOf } from './judge-experiment';
import type { ClientOperation, ClusterSample, ExperimentObservation, NodeSample } from './observation';

const t0 = 1_700_000_000_000;
const nodes = ['a', 'b', 'c', 'd', 'e'];

function sample(atMs: number, options: { partition?: { type: 'complete' | 'partial'; components: string[][] }; accepted?: Record<string, number>; fence?: Record<string, 'read-only'> } = {}): ClusterSample {
  const node = (id: string): NodeSample => ({ id, connected: true, writesAccepted: options.accepted?.[id] ?? 0, writesRefused: 0, fence: options.fence?.[id] ?? null, digestRoot: '0000000000000000' });
  return {
    atMs: t0 + atMs,
    nodes: nodes.map(node),
    partition: options.partition ? { id: 'p1', type: options.partition.type, components: options.partition.components, startedAtMs: t0 + atMs, state: 'DegradedOperation', divergenceMax: 0 } : null,
    verdict: { type: options.partition?.type ?? null, components: options.partition?.components ?? [nodes], majorityIndex: 0, bridgeNodes: [], oneWayLinks: [], isolatedNodes: [] },
  };
}

const split = { type: 'complete' as const, components: [['a', 'b', 'c'], ['d', 'e']] };

function observation(overrides: Partial<ExperimentObservation> = {}): ExperimentObservation {
  return {
    startedAtMs: t0,
    faultStartMs: t0 + 5000,
    healAtMs: t0 + 15_000,
    normalAtMs: t0 + 20_000,
    samples: [sample(4000), sample(6000), sample(7000, { partition: split }), sample(14_000, { partition: split }), sample(20_000)],
    client: [],
    finalReads: [],
    partitionIds: ['p1'],
    ...overrides,
  };
}

describe('detection', () => {
  it('passes when the partition is recorded in time and as expected, naming when', () => {
    const verdict = judgeDetection(observation(), { type: 'complete', components: [['d', 'e'], ['c', 'b', 'a']], hasMajority: true }, 30_000);
    assert.equal(verdict.outcome, 'pass');
    assert.equal(verdict.evidence.matchedAfterMs, 2000);
  });
  it('fails on the wrong type, the wrong sides, or too late, saying why', () => {
    assert.match(judgeDetection(observation(), { type: 'partial' }, 30_000).summary, /type complete, expected partial/);
    assert.match(judgeDetection(observation(), { type: 'complete', sides: [4, 1] }, 30_000).summary, /side sizes 3\+2, expected 4\+1/);
    assert.equal(judgeDetection(observation(), { type: 'complete' }, 1000).outcome, 'fail');
  });
  it('compares without the live nodes no scenario node plays', () => {
    const isolateOnSix = observation({ samples: [sample(7000, { partition: { type: 'complete', components: [['b', 'c', 'd', 'e', 'f'], ['a']] } })], unplayedNodes: ['f'] });
    const verdict = judgeDetection(isolateOnSix, { type: 'complete', components: [['b', 'c', 'd', 'e'], ['a']], sides: [4, 1] }, 30_000);
    assert.equal(verdict.outcome, 'pass', verdict.summary);
    assert.equal(judgeDetection({ ...isolateOnSix, unplayedNodes: [] }, { type: 'complete', sides: [4, 1] }, 30_000).outcome, 'fail');
  });
  it('expects quiet when the type is null, and skips a run without faults', () => {
    assert.equal(judgeDetection(observation(), { type: null }, 30_000).outcome, 'fail');
    assert.equal(judgeDetection(observation({ samples: [sample(6000)] }), { type: null }, 30_000).outcome, 'pass');
    assert.equal(judgeDetection(observation({ faultStartMs: null }), { type: 'complete' }, 30_000).outcome, 'skipped');
  });
});

describe('recovery', () => {
  it('measures heal to Normal against the limit', () => {
    assert.deepEqual([judgeRecovery(observation(), 600_000).outcome, judgeRecovery(observation(), 600_000).evidence.recoveryMs], ['pass', 5000]);
    assert.equal(judgeRecovery(observation(), 4000).outcome, 'fail');
    assert.equal(judgeRecovery(observation({ normalAtMs: null }), 600_000).outcome, 'fail');
    assert.equal(judgeRecovery(observation({ partitionIds: [], samples: [sample(1000)] }), 600_000).outcome, 'skipped');
  });
});

const write = (atMs: number, nodeId: string, key: string, ok = true): ClientOperation => ({ atMs: t0 + atMs, nodeId, kind: 'write', key, value: `${nodeId}#${key}`, ok, hlc: ok ? encodeHlc({ wallMs: t0 + atMs, logical: 0, nodeId }) : null });
const read = (atMs: number, nodeId: string, key: string, value: string | null): ClientOperation => ({ atMs: t0 + atMs, nodeId, kind: 'read', key, value, ok: true, hlc: null });

describe('consistency', () => {
  const client = [write(1000, 'a', 'k1'), write(2000, 'd', 'k2'), write(3000, 'b', 'k3', false)];
  const everywhere = (except: { node: string; key: string } | null = null) =>
    nodes.flatMap((nodeId) => client.filter((op) => op.ok && !(except && except.node === nodeId && except.key === op.key)).map((op) => ({ nodeId, key: op.key, value: op.value, hlc: op.hlc })));
  it('passes when every acknowledged write is on every replica', () => {
    const verdict = judgeConsistency(observation({ client, finalReads: everywhere() }));
    assert.equal(verdict.outcome, 'pass');
    assert.equal(verdict.evidence.acknowledged, 2);
  });
  it('fails when a replica lacks an acknowledged write (it diverges), or all lack it (lost)', () => {
    const diverged = judgeConsistency(observation({ client, finalReads: everywhere({ node: 'e', key: 'k2' }) }));
    assert.equal(diverged.outcome, 'fail');
    assert.deepEqual(diverged.evidence.divergentKeys, ['k2']);
    const lost = judgeConsistency(observation({ client, finalReads: everywhere().filter((entry) => entry.key !== 'k1') }));
    assert.equal(lost.evidence.lostWriteCount, 1);
  });
  it('is skipped without a client', () => assert.equal(judgeConsistency(observation()).outcome, 'skipped'));
});

describe('availability and tripwires', () => {
  const block = defaultExperimentBlock();
  const windowed = (ops: ClientOperation[]) => observation({ client: ops });
  it('holds the majority to serving and the fenced minority to refusing', () => {
    const kept = windowed([write(11_000, 'a', 'x1'), write(11_100, 'b', 'x2'), write(11_200, 'd', 'x3', false), write(11_300, 'e', 'x4', false)]);
    const verdict = judgeAvailability(kept, block, defaultClusterPolicy);
    assert.equal(verdict.outcome, 'pass', verdict.summary);
    const broken = windowed([write(11_000, 'a', 'x1'), write(11_200, 'd', 'x3'), write(11_300, 'e', 'x4', false)]);
    assert.match(judgeAvailability(broken, block, defaultClusterPolicy).summary, /\[d, e\] should refuse, served 50 % of 2/);
  });
  it('judges the sides as the partition settled, with the divergence the server measured', () => {
    const partialFirst = [sample(7000, { partition: { type: 'partial', components: [nodes] } }), sample(12_000, { partition: split }), sample(20_000)];
    const refusedEverywhere = [write(12_500, 'a', 'x1', false), write(12_600, 'd', 'x2', false)];
    const calm = judgeAvailability(observation({ samples: partialFirst, client: refusedEverywhere }), block, defaultClusterPolicy);
    assert.match(calm.summary, /\[a, b, c\] should serve, served 0 %/);
    const diverged = partialFirst.map((entry) => (entry.partition ? { ...entry, partition: { ...entry.partition, divergenceMax: 0.4 } } : entry));
    const emergency = judgeAvailability(observation({ samples: diverged, client: refusedEverywhere }), block, defaultClusterPolicy);
    assert.equal(emergency.outcome, 'pass', 'past the divergence limit every side keeps only critical writes');
  });
  it('ignores operations before the fences settle, and skips without any', () => {
    assert.equal(judgeAvailability(windowed([write(8000, 'd', 'x3')]), block, defaultClusterPolicy).outcome, 'skipped');
  });
  it('trips on two sides accepting writes in the same interval where one is allowed', () => {
    const samples = [sample(7000, { partition: split }), sample(11_000, { partition: split, accepted: { a: 1 } }), sample(12_000, { partition: split, accepted: { a: 2, d: 1 } }), sample(20_000)];
    const verdict = judgeTripwires(observation({ samples }), block, defaultClusterPolicy);
    assert.equal(verdict.outcome, 'fail');
    assert.equal(verdict.evidence.concurrentWriterIntervals, 1);
  });
  it('trips on a stale read served by a fenced side, unless the experiment allows it', () => {
    const fenced = { d: 'read-only' as const, e: 'read-only' as const };
    const samples = [sample(7000, { partition: split }), sample(10_500, { partition: split, fence: fenced }), sample(20_000)];
    const client = [write(10_600, 'a', 'k9'), read(12_000, 'd', 'k9', null), read(12_100, 'b', 'k9', 'a#k9')];
    const verdict = judgeTripwires(observation({ samples, client }), block, defaultClusterPolicy);
    assert.equal(verdict.outcome, 'fail');
    assert.equal(verdict.evidence.staleReadCount, 1);
    assert.equal(judgeTripwires(observation({ samples, client }), { ...block, staleReads: 'allowed' }, defaultClusterPolicy).outcome, 'pass');
  });
  it('a run fails when any verdict fails', () => {
    assert.equal(runStatusOf([{ validator: 'detection', outcome: 'pass', summary: '', evidence: {} }, { validator: 'recovery', outcome: 'skipped', summary: '', evidence: {} }]), 'passed');
    assert.equal(runStatusOf([{ validator: 'detection', outcome: 'fail', summary: '', evidence: {} }]), 'failed');
  });
});
