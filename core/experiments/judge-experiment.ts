/**
 * The validators of an experiment: each reads what the run saw (observation.ts)
 * and gives a verdict with its evidence. Detection: recorded in time and
 * classified as expected. Consistency: no acknowledged write lost, replicas agree
 * (core/consistency-checker.ts on the client's keys). Availability per side against
 * what the handling policy promises (a fenced side refuses, a serving side serves).
 * Recovery: heal → Normal in time. Tripwires: two sides accepting writes at once
 * where the policy allows one; a stale read served by a fenced side.
 */
import { decodeHlc } from '../hlc';
import type { AcknowledgedWrite, ReplicaContents } from '../consistency-checker';
import { checkConsistency } from '../consistency-checker';
import { type ClusterPolicy, decideHandling } from '../policy/cluster-policy';
import type { NodeId } from '../protocol';
import type { VersionedEntry } from '../reconcile/resolver';
import type { ExperimentBlock, ExpectedClassification } from './experiment-spec';
import type { ClusterSample, ClientOperation, ExperimentObservation, ExperimentVerdict, SeenPartition } from './observation';

/** A read older than an acknowledged write counts as stale only when the write was acknowledged at least this long before (ms). */
export const staleReadGraceMs = 1_000;
/** Items listed in evidence; counts keep growing past it. */
export const evidenceItemsMax = 20;

const sortedSides = (sides: readonly (readonly NodeId[])[]) => sides.map((side) => [...side].sort()).map((side) => side.join(',')).sort();
const sameSet = (a: readonly string[], b: readonly string[]) => a.length === b.length && [...a].sort().join('\u0000') === [...b].sort().join('\u0000');

/** Why a sample does not match the expected classification; empty when it does. */
export function classificationMismatches(expected: ExpectedClassification, sample: ClusterSample): string[] {
  const partition = sample.partition;
  if (!partition) return ['no partition recorded'];
  const problems: string[] = [];
  if (partition.type !== expected.type) problems.push(`type ${partition.type}, expected ${expected.type}`);
  if (expected.components && sortedSides(partition.components).join('|') !== sortedSides(expected.components).join('|')) {
    problems.push(`sides ${JSON.stringify(partition.components)}, expected ${JSON.stringify(expected.components)}`);
  }
  const sizes = partition.components.map((side) => side.length).sort((a, b) => b - a);
  if (expected.sides && sizes.join(',') !== expected.sides.join(',')) problems.push(`side sizes ${sizes.join('+')}, expected ${expected.sides.join('+')}`);
  const total = sizes.reduce((sum, size) => sum + size, 0);
  const hasMajority = sizes.some((size) => size * 2 > total);
  if (expected.hasMajority !== undefined && hasMajority !== expected.hasMajority) problems.push(hasMajority ? 'a side holds a majority, expected none' : 'no side holds a majority, expected one');
  if (expected.bridgeNodes && !sameSet(sample.verdict.bridgeNodes, expected.bridgeNodes)) problems.push(`bridges [${sample.verdict.bridgeNodes.join(', ')}], expected [${expected.bridgeNodes.join(', ')}]`);
  const links = (list: readonly { from: NodeId; to: NodeId }[]) => list.map((link) => `${link.from}->${link.to}`);
  if (expected.oneWayLinks && !sameSet(links(sample.verdict.oneWayLinks), links(expected.oneWayLinks))) {
    problems.push(`one-way links [${links(sample.verdict.oneWayLinks).join(', ')}], expected [${links(expected.oneWayLinks).join(', ')}]`);
  }
  if (expected.isolatedNodes && !sameSet(sample.verdict.isolatedNodes, expected.isolatedNodes)) problems.push(`isolated [${sample.verdict.isolatedNodes.join(', ')}], expected [${expected.isolatedNodes.join(', ')}]`);
  return problems;
}

/**
 * The sample as the scenario's nodes see it: live nodes no scenario node plays
 * (a cluster larger than the file) are left out of the sides and of the verdict's
 * lists, so an expectation written in the file's nodes can match.
 */
export function withoutNodes(sample: ClusterSample, nodes: ReadonlySet<NodeId>): ClusterSample {
  if (nodes.size === 0) return sample;
  const keep = (node: NodeId) => !nodes.has(node);
  const sides = (components: NodeId[][]) => components.map((side) => side.filter(keep)).filter((side) => side.length > 0);
  return {
    ...sample,
    partition: sample.partition ? { ...sample.partition, components: sides(sample.partition.components) } : null,
    verdict: {
      ...sample.verdict,
      components: sides(sample.verdict.components),
      bridgeNodes: sample.verdict.bridgeNodes.filter(keep),
      isolatedNodes: sample.verdict.isolatedNodes.filter(keep),
      oneWayLinks: sample.verdict.oneWayLinks.filter((link) => keep(link.from) && keep(link.to)),
    },
  };
}

const describe = (partition: SeenPartition | null) => (partition ? { id: partition.id, type: partition.type, components: partition.components } : null);

/** The first sample, from the first fault on, with a recorded partition. */
function firstDetection(observation: ExperimentObservation): ClusterSample | null {
  const from = observation.faultStartMs ?? Number.POSITIVE_INFINITY;
  return observation.samples.find((sample) => sample.atMs >= from && sample.partition !== null) ?? null;
}

/** Detection: recorded within the limit and classified as expected. */
export function judgeDetection(observation: ExperimentObservation, expected: ExpectedClassification | null, withinMs: number): ExperimentVerdict {
  const start = observation.faultStartMs;
  const unplayed = new Set(observation.unplayedNodes ?? []);
  if (start === null) return { validator: 'detection', outcome: 'skipped', summary: 'the scenario injects no fault', evidence: {} };
  const inRun = observation.samples.filter((sample) => sample.atMs >= start && sample.atMs <= observation.healAtMs);
  const first = firstDetection(observation);
  if (expected === null || expected.type === null) {
    const seen = inRun.find((sample) => sample.partition !== null);
    const quiet = !seen;
    return {
      validator: 'detection',
      outcome: expected === null ? 'skipped' : quiet ? 'pass' : 'fail',
      summary: expected === null ? 'no classification expected' : quiet ? 'no partition recorded, as expected' : `a ${seen!.partition!.type} partition was recorded ${seen!.atMs - start} ms after the fault; none expected`,
      evidence: { expected, firstRecorded: seen ? { afterMs: seen.atMs - start, partition: describe(seen.partition) } : null },
    };
  }
  const window = inRun.filter((sample) => sample.atMs <= start + withinMs).map((sample) => withoutNodes(sample, unplayed));
  const matched = window.find((sample) => classificationMismatches(expected, sample).length === 0);
  const last = [...window].reverse().find((sample) => sample.partition !== null) ?? window.at(-1);
  const evidence = {
    expected,
    withinMs,
    ...(unplayed.size > 0 ? { comparedWithout: [...unplayed] } : {}),
    detectedAfterMs: first ? first.atMs - start : null,
    matchedAfterMs: matched ? matched.atMs - start : null,
    firstRecorded: first ? describe(first.partition) : null,
    lastSeenInWindow: last ? { partition: describe(last.partition), verdict: last.verdict, mismatches: classificationMismatches(expected, last) } : null,
  };
  if (matched) return { validator: 'detection', outcome: 'pass', summary: `recorded as expected (${matched.partition!.type}) ${matched.atMs - start} ms after the fault (limit ${withinMs} ms)`, evidence };
  const why = last ? classificationMismatches(expected, last).join('; ') : 'no sample in the window';
  return { validator: 'detection', outcome: 'fail', summary: `not recorded as expected within ${withinMs} ms: ${why}`, evidence };
}

/** Recovery: from the heal to Normal within the limit. */
export function judgeRecovery(observation: ExperimentObservation, withinMs: number): ExperimentVerdict {
  if (observation.partitionIds.length === 0 && !observation.samples.some((sample) => sample.partition)) {
    return { validator: 'recovery', outcome: 'skipped', summary: 'no partition was recorded: nothing to recover', evidence: { withinMs } };
  }
  if (observation.normalAtMs === null) {
    return { validator: 'recovery', outcome: 'fail', summary: `not back to Normal within ${withinMs} ms of the heal`, evidence: { withinMs, healAtMs: observation.healAtMs } };
  }
  const recoveryMs = Math.max(0, observation.normalAtMs - observation.healAtMs);
  const ok = recoveryMs <= withinMs;
  return { validator: 'recovery', outcome: ok ? 'pass' : 'fail', summary: `Normal ${recoveryMs} ms after the heal (limit ${withinMs} ms)`, evidence: { withinMs, recoveryMs, healAtMs: observation.healAtMs, normalAtMs: observation.normalAtMs } };
}

const acknowledgedWrites = (client: readonly ClientOperation[]) => client.filter((op) => op.kind === 'write' && op.ok);

/** Consistency: every acknowledged write of the client on every replica, and the replicas agree on its keys. */
export function judgeConsistency(observation: ExperimentObservation): ExperimentVerdict {
  const last = observation.samples.at(-1);
  const roots = [...new Set((last?.nodes ?? []).filter((node) => node.connected && node.digestRoot).map((node) => node.digestRoot))];
  const digestEvidence = { digestRootsAtEnd: roots.length };
  const acknowledged: AcknowledgedWrite[] = [];
  for (const op of acknowledgedWrites(observation.client)) {
    const hlc = op.hlc ? decodeHlc(op.hlc) : null;
    if (hlc) acknowledged.push({ nodeId: op.nodeId, key: op.key, value: op.value, hlc });
  }
  if (acknowledged.length === 0 || observation.finalReads.length === 0) {
    return { validator: 'consistency', outcome: 'skipped', summary: 'no acknowledged client write to check (no client, or no store reachable)', evidence: digestEvidence };
  }
  const replicas = new Map<NodeId, Map<string, VersionedEntry>>();
  for (const read of observation.finalReads) {
    const replica = replicas.get(read.nodeId) ?? new Map<string, VersionedEntry>();
    replicas.set(read.nodeId, replica);
    const hlc = read.hlc ? decodeHlc(read.hlc) : null;
    if (hlc && read.value !== null) replica.set(read.key, { key: read.key, value: read.value, hlc });
  }
  const contents = replicas as ReadonlyMap<NodeId, ReplicaContents>;
  const verdict = checkConsistency({ acknowledged, replicas: contents, beforeReconciliation: contents, overwritten: [], since: null });
  const summary = verdict.ok
    ? `all ${acknowledged.length} acknowledged writes are on all ${replicas.size} replicas`
    : `${verdict.lostWriteCount} of ${acknowledged.length} acknowledged writes lost, ${verdict.divergentKeyCount} keys differ between replicas`;
  return {
    validator: 'consistency',
    outcome: verdict.ok ? 'pass' : 'fail',
    summary,
    evidence: {
      ...digestEvidence,
      acknowledged: acknowledged.length,
      replicas: replicas.size,
      lostWriteCount: verdict.lostWriteCount,
      lostWrites: verdict.lostWrites.slice(0, evidenceItemsMax).map((write) => ({ nodeId: write.nodeId, key: write.key, loss: write.loss })),
      divergentKeyCount: verdict.divergentKeyCount,
      divergentKeys: verdict.divergentKeys.slice(0, evidenceItemsMax),
    },
  };
}

/** What the policy promises each side of the detected partition. */
export interface SidePromise {
  nodes: NodeId[];
  promise: 'serve' | 'refuse';
}

/**
 * The sides of a recorded partition and what the policy promises each, with the
 * divergence the server measured (past its limit the policy declares emergency,
 * and every side keeps only critical writes).
 */
export function sidePromises(partition: SeenPartition, policy: ClusterPolicy): SidePromise[] {
  const total = partition.components.reduce((sum, side) => sum + side.length, 0);
  const majorityIndex = partition.components.findIndex((side) => side.length * 2 > total);
  const decision = decideHandling(
    { type: partition.type, sides: partition.components, majorityIndex: majorityIndex < 0 ? null : majorityIndex, byzantineEvidence: false, divergenceRatio: partition.divergenceMax, flapCount: 0 },
    policy,
  );
  const fenced = new Set(decision.fences.flatMap((fence) => fence.nodeIds));
  return partition.components.map((side) => ({ nodes: [...side], promise: side.some((node) => fenced.has(node)) ? 'refuse' : 'serve' }));
}

/**
 * The window availability and tripwires judge (from detection plus the settling
 * time to the heal) and the partition as it settled: the last one recorded in the
 * window (a partition is often first recorded partial, then complete).
 */
export function settledWindow(observation: ExperimentObservation, settleMs: number): { fromMs: number; untilMs: number; partition: SeenPartition } | null {
  const detected = firstDetection(observation);
  if (!detected) return null;
  const fromMs = detected.atMs + settleMs;
  const untilMs = observation.healAtMs;
  const settled = [...observation.samples].reverse().find((sample) => sample.partition !== null && sample.atMs >= fromMs && sample.atMs <= untilMs);
  return { fromMs, untilMs, partition: (settled ?? detected).partition! };
}

function writeTallies(observation: ExperimentObservation, side: readonly NodeId[], fromMs: number, untilMs: number): { ok: number; total: number; source: 'client' | 'store counters' } {
  const writes = observation.client.filter((op) => op.kind === 'write' && op.atMs >= fromMs && op.atMs <= untilMs && side.includes(op.nodeId));
  if (observation.client.length > 0) return { ok: writes.filter((op) => op.ok).length, total: writes.length, source: 'client' };
  const inWindow = observation.samples.filter((sample) => sample.atMs >= fromMs && sample.atMs <= untilMs);
  const first = inWindow[0];
  const last = inWindow.at(-1);
  let ok = 0;
  let total = 0;
  for (const node of side) {
    const a = first?.nodes.find((entry) => entry.id === node);
    const b = last?.nodes.find((entry) => entry.id === node);
    if (a?.writesAccepted == null || b?.writesAccepted == null || a.writesRefused == null || b.writesRefused == null) continue;
    ok += Math.max(0, b.writesAccepted - a.writesAccepted);
    total += Math.max(0, b.writesAccepted - a.writesAccepted) + Math.max(0, b.writesRefused - a.writesRefused);
  }
  return { ok, total, source: 'store counters' };
}

/** Availability per side against the policy's promise. */
export function judgeAvailability(observation: ExperimentObservation, block: ExperimentBlock, policy: ClusterPolicy): ExperimentVerdict {
  const window = settledWindow(observation, block.availability.settleMs);
  if (!window || window.fromMs >= window.untilMs) {
    return { validator: 'availability', outcome: 'skipped', summary: window ? 'the partition was detected too late to judge its sides' : 'no partition recorded: no sides to judge', evidence: {} };
  }
  const sides = sidePromises(window.partition, policy).map((side) => {
    const tally = writeTallies(observation, side.nodes, window.fromMs, window.untilMs);
    const servedRatio = tally.total === 0 ? null : tally.ok / tally.total;
    const kept = servedRatio === null ? null : side.promise === 'serve' ? servedRatio >= block.availability.serveMin : 1 - servedRatio >= block.availability.refuseMin;
    return { ...side, ...tally, servedRatio, kept };
  });
  const judged = sides.filter((side) => side.kept !== null);
  const broken = judged.filter((side) => !side.kept);
  const evidence = { fromMs: window.fromMs, untilMs: window.untilMs, partition: { type: window.partition.type, divergenceMax: window.partition.divergenceMax }, serveMin: block.availability.serveMin, refuseMin: block.availability.refuseMin, sides };
  if (judged.length === 0) return { validator: 'availability', outcome: 'skipped', summary: 'no client operation in the settled window', evidence };
  const text = (side: (typeof sides)[number]) => `[${side.nodes.join(', ')}] ${side.promise === 'serve' ? 'should serve' : 'should refuse'}, served ${Math.round((side.servedRatio ?? 0) * 100)} % of ${side.total}`;
  return {
    validator: 'availability',
    outcome: broken.length === 0 ? 'pass' : 'fail',
    summary: broken.length === 0 ? `every side kept its promise: ${judged.map(text).join('; ')}` : `promise broken: ${broken.map(text).join('; ')}`,
    evidence,
  };
}

function latestSampleBefore(samples: readonly ClusterSample[], atMs: number): ClusterSample | undefined {
  let found: ClusterSample | undefined;
  for (const sample of samples) if (sample.atMs <= atMs) found = sample;
  return found;
}

/** Intervals between samples in which more than one side accepted writes (store counters or the client). */
function concurrentWriters(observation: ExperimentObservation, sides: readonly SidePromise[], fromMs: number, untilMs: number) {
  const samples = observation.samples.filter((sample) => sample.atMs >= fromMs && sample.atMs <= untilMs);
  const found: { fromMs: number; untilMs: number; sides: NodeId[][] }[] = [];
  for (let index = 1; index < samples.length; index += 1) {
    const [a, b] = [samples[index - 1]!, samples[index]!];
    const writing = sides.filter((side) =>
      side.nodes.some((node) => {
        const before = a.nodes.find((entry) => entry.id === node)?.writesAccepted;
        const after = b.nodes.find((entry) => entry.id === node)?.writesAccepted;
        const counted = before != null && after != null && after > before;
        return counted || observation.client.some((op) => op.kind === 'write' && op.ok && op.nodeId === node && op.atMs > a.atMs && op.atMs <= b.atMs);
      }),
    );
    if (writing.length > 1) found.push({ fromMs: a.atMs, untilMs: b.atMs, sides: writing.map((side) => side.nodes) });
  }
  return found;
}

/** Reads served by a fenced node that miss a write acknowledged elsewhere well before. */
function staleFencedReads(observation: ExperimentObservation, fromMs: number, untilMs: number): ClientOperation[] {
  const writes = acknowledgedWrites(observation.client);
  return observation.client.filter((op) => {
    if (op.kind !== 'read' || !op.ok || op.atMs < fromMs || op.atMs > untilMs) return false;
    const fenced = latestSampleBefore(observation.samples, op.atMs)?.nodes.find((node) => node.id === op.nodeId)?.fence;
    if (!fenced) return false;
    return writes.some((write) => write.key === op.key && write.nodeId !== op.nodeId && write.atMs <= op.atMs - staleReadGraceMs && write.value !== op.value);
  });
}

/** Invariant tripwires: two writing sides where the policy allows one; stale reads from a fenced side. */
export function judgeTripwires(observation: ExperimentObservation, block: ExperimentBlock, policy: ClusterPolicy): ExperimentVerdict {
  const window = settledWindow(observation, block.availability.settleMs);
  if (!window) return { validator: 'tripwires', outcome: 'skipped', summary: 'no partition recorded: no sides to watch', evidence: {} };
  const sides = sidePromises(window.partition, policy);
  const oneWriterPromised = sides.filter((side) => side.promise === 'serve').length <= 1;
  const concurrent = oneWriterPromised ? concurrentWriters(observation, sides, window.fromMs, window.untilMs) : [];
  const stale = staleFencedReads(observation, window.fromMs, window.untilMs);
  const staleTrips = block.staleReads === 'forbidden' ? stale.length : 0;
  const tripped: string[] = [];
  if (concurrent.length > 0) tripped.push(`two sides accepted writes at once in ${concurrent.length} sample intervals`);
  if (staleTrips > 0) tripped.push(`${staleTrips} stale reads served by a fenced side`);
  return {
    validator: 'tripwires',
    outcome: tripped.length === 0 ? 'pass' : 'fail',
    summary: tripped.length === 0 ? `no tripwire (${oneWriterPromised ? 'one writing side allowed' : 'several writing sides allowed'}; ${stale.length} stale fenced reads, ${block.staleReads})` : tripped.join('; '),
    evidence: {
      oneWriterPromised,
      concurrentWriters: concurrent.slice(0, evidenceItemsMax),
      concurrentWriterIntervals: concurrent.length,
      staleReads: stale.slice(0, evidenceItemsMax).map((op) => ({ atMs: op.atMs, nodeId: op.nodeId, key: op.key, value: op.value })),
      staleReadCount: stale.length,
      staleReadsPolicy: block.staleReads,
    },
  };
}

/** Every validator, in report order. */
export function judgeExperiment(observation: ExperimentObservation, expected: ExpectedClassification | null, block: ExperimentBlock, policy: ClusterPolicy): ExperimentVerdict[] {
  return [
    judgeDetection(observation, expected, block.detectionWithinMs),
    judgeConsistency(observation),
    judgeAvailability(observation, block, policy),
    judgeRecovery(observation, block.recoveryWithinMs),
    judgeTripwires(observation, block, policy),
  ];
}

/** The run's status from its verdicts: failed when any failed. */
export const runStatusOf = (verdicts: readonly ExperimentVerdict[]): 'passed' | 'failed' => (verdicts.some((verdict) => verdict.outcome === 'fail') ? 'failed' : 'passed');
