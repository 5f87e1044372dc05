/**
 * Carries out core/reconcile's reconciliation run against real agents: it turns
 * the run's effects into data-plane commands (collect changes, apply resolved
 * values, report digests), feeds the replies back into the pure step function,
 * and returns the final run. Verification quiesces writes for a moment (every
 * replica fenced critical-only under a fence of its own) so that digests taken
 * on different nodes describe the same data.
 */
import { type Hlc, decodeHlc, encodeHlc } from '../../core/hlc';
import type { Digest } from '../../core/digest';
import type { NodeId, Reply } from '../../core/protocol';
import type { ConflictResolver, VersionedEntry } from '../../core/reconcile/resolver';
import type { ReplicaChanges } from '../../core/reconcile/plan-reconciliation';
import {
  type DataPlaneCommand,
  type DataPlaneReply,
  syncBatchEntriesMax,
} from '../../core/reconcile/data-plane-commands';
import {
  type ReconciliationEffect,
  type ReconciliationEvent,
  type ReconciliationRun,
  startReconciliation,
  stepReconciliation,
} from '../../core/reconcile/reconciliation-run';
import type { Logger } from '../logger';

/** Sends one data-plane command to one agent and returns its reply. */
export type AgentRequester = (clusterId: string, agentId: NodeId, command: DataPlaneCommand) => Promise<Reply<DataPlaneReply | null>>;

/** Pages of changes one replica may return in one collection (bounds a misbehaving agent). */
export const collectPagesMax = 1000;
/** Effects one run may carry out before it is declared runaway. */
export const driverEffectsMax = 10_000;
/** Buckets of the digests used for verification and divergence sampling. */
export const verifyBucketCount = 256;
/** How long writes are held before digests are taken, so replication in flight lands (ms). */
export const quiesceSettleMs = 250;

/**
 * Wait before attempt `attempt` (2, 3, …) of a run: 1 s, 2 s, 4 s, … up to 10 s. A
 * replica that fails right after a heal is often busy becoming what the heal makes of
 * it (an old Redis primary that Sentinel is demoting refuses, then drops its clients
 * as it turns replica); retried at once, the attempts were spent within a second and
 * the run escalated to an operator although the store was fine a moment later.
 */
export function reconcileRetryDelayMs(attempt: number): number {
  return Math.min(10_000, 1000 * 2 ** Math.max(0, attempt - 2));
}

/** What one reconciliation needs. */
export interface DriveInput {
  clusterId: string;
  partitionId: string;
  /** A unique id for this run (recovery run id and attempt). */
  runId: string;
  nodeIds: NodeId[];
  majorityNodes: NodeId[] | null;
  since: Hlc | null;
  resolver: ConflictResolver;
  attemptsMax: number;
  /** Called after every phase change, for progress on the console. */
  onProgress?: (run: ReconciliationRun) => void;
  /** Set to true to stop the run at its next step (operator abort). */
  cancelled?: () => boolean;
}

function toVersioned(entries: { key: string; value: string | null; hlc: string }[]): VersionedEntry[] {
  return entries.flatMap((entry) => {
    const hlc = decodeHlc(entry.hlc);
    return hlc ? [{ key: entry.key, value: entry.value, hlc }] : [];
  });
}

export class ReconciliationDriver {
  constructor(
    private readonly request: AgentRequester,
    private readonly logger: Logger,
    private readonly nowMs: () => number = Date.now,
    private readonly retryDelayMs: (attempt: number) => number = reconcileRetryDelayMs,
  ) {}

  private async ask(clusterId: string, nodeId: NodeId, command: DataPlaneCommand): Promise<DataPlaneReply | null> {
    const reply = await this.request(clusterId, nodeId, command);
    if (!reply.ok) throw new Error(`${nodeId}: ${reply.code}: ${reply.message}`);
    return reply.data;
  }

  /** Every version a replica wrote at or after `since`, page by page. */
  async collectChanges(clusterId: string, nodeId: NodeId, runId: string, since: Hlc | null): Promise<VersionedEntry[]> {
    const collected: VersionedEntry[] = [];
    let cursor = since === null ? null : encodeHlc(since);
    for (let page = 0; page < collectPagesMax; page += 1) {
      const reply = await this.ask(clusterId, nodeId, { type: 'collect-changes', runId, since: cursor });
      if (reply?.type !== 'changes') throw new Error(`${nodeId}: expected changes, got ${reply?.type ?? 'nothing'}`);
      collected.push(...toVersioned(reply.entries));
      if (reply.last || reply.entries.length === 0) return collected;
      cursor = reply.entries.at(-1)!.hlc;
    }
    throw new Error(`${nodeId}: more than ${collectPagesMax} pages of changes`);
  }

  /** Changes of every replica (for dry runs); replicas that fail are left out and named. */
  async collectAll(clusterId: string, nodeIds: NodeId[], runId: string, since: Hlc | null): Promise<{ replicas: ReplicaChanges[]; failed: NodeId[] }> {
    const results = await Promise.allSettled(nodeIds.map((nodeId) => this.collectChanges(clusterId, nodeId, runId, since)));
    const replicas: ReplicaChanges[] = [];
    const failed: NodeId[] = [];
    results.forEach((result, index) => {
      if (result.status === 'fulfilled') replicas.push({ nodeId: nodeIds[index]!, changes: result.value });
      else failed.push(nodeIds[index]!);
    });
    return { replicas, failed };
  }

  /** A digest of every replica that answers. */
  async digests(clusterId: string, nodeIds: NodeId[], runId: string): Promise<Map<NodeId, Digest>> {
    const results = await Promise.allSettled(
      nodeIds.map((nodeId) => this.ask(clusterId, nodeId, { type: 'report-digest', runId, bucketCount: verifyBucketCount })),
    );
    const digests = new Map<NodeId, Digest>();
    results.forEach((result, index) => {
      if (result.status === 'fulfilled' && result.value?.type === 'digest') digests.set(nodeIds[index]!, result.value.digest);
    });
    return digests;
  }

  /** Digests taken while writes are held, so that replicas are compared at rest. */
  async quiescedDigests(clusterId: string, nodeIds: NodeId[], runId: string): Promise<Map<NodeId, Digest>> {
    await this.quiesce(clusterId, nodeIds, runId, true);
    try {
      await new Promise((resolve) => setTimeout(resolve, quiesceSettleMs));
      return await this.digests(clusterId, nodeIds, runId);
    } finally {
      await this.quiesce(clusterId, nodeIds, runId, false);
    }
  }

  /** Fences (or lifts the fence of) every replica under the run's own fence id. */
  async quiesce(clusterId: string, nodeIds: NodeId[], runId: string, on: boolean): Promise<void> {
    const partitionId = `quiesce:${runId}`;
    const command: DataPlaneCommand = on ? { type: 'fence', partitionId, mode: 'critical-only' } : { type: 'unfence', partitionId };
    await Promise.allSettled(nodeIds.map((nodeId) => this.ask(clusterId, nodeId, command)));
  }

  private async sync(clusterId: string, nodeId: NodeId, runId: string, entries: Extract<ReconciliationEffect, { kind: 'send-sync' }>['entries']) {
    for (let offset = 0; offset < entries.length || offset === 0; offset += syncBatchEntriesMax) {
      const batch = entries.slice(offset, offset + syncBatchEntriesMax);
      const last = offset + syncBatchEntriesMax >= entries.length;
      await this.ask(clusterId, nodeId, {
        type: 'apply-resolved',
        runId,
        last,
        entries: batch.map((entry) => ({ key: entry.key, value: entry.value, hlc: encodeHlc(entry.hlc), supersedes: encodeHlc(entry.supersedes) })),
      });
      if (last) break;
    }
  }

  /** Turns one effect into the replies it produces, as run events. */
  private async perform(input: DriveInput, effect: ReconciliationEffect): Promise<ReconciliationEvent[]> {
    const attempt = (nodeId: NodeId, work: () => Promise<ReconciliationEvent>) =>
      work().catch((error: unknown): ReconciliationEvent => ({ type: 'node-failed', nodeId, reason: (error as Error).message }));
    if (effect.kind === 'collect-changes') {
      return Promise.all(effect.nodeIds.map((nodeId) => attempt(nodeId, async () => ({
        type: 'changes-collected', nodeId, changes: await this.collectChanges(input.clusterId, nodeId, input.runId, effect.since),
      }))));
    }
    if (effect.kind === 'send-sync') {
      return [await attempt(effect.nodeId, async () => {
        await this.sync(input.clusterId, effect.nodeId, input.runId, effect.entries);
        return { type: 'sync-applied', nodeId: effect.nodeId };
      })];
    }
    if (effect.kind === 'collect-digests') {
      const digests = await this.quiescedDigests(input.clusterId, effect.nodeIds, input.runId);
      return effect.nodeIds.map((nodeId): ReconciliationEvent => {
        const digest = digests.get(nodeId);
        return digest ? { type: 'digest-reported', nodeId, digest } : { type: 'node-failed', nodeId, reason: 'no digest' };
      });
    }
    if (effect.kind === 'reconciliation-retrying') {
      const delayMs = this.retryDelayMs(effect.attempt);
      this.logger.warn({ partition: input.partitionId, attempt: effect.attempt, reason: effect.reason, delayMs }, 'reconciliation retrying');
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
    return [];
  }

  /** Runs a reconciliation to completion, escalation or cancellation. */
  async drive(input: DriveInput): Promise<ReconciliationRun> {
    const rules = { resolver: input.resolver, majorityNodes: input.majorityNodes };
    const started = startReconciliation(
      { partitionId: input.partitionId, nodeIds: input.nodeIds, since: input.since, attemptsMax: input.attemptsMax },
      this.nowMs(),
    );
    let run = started.run;
    const pending: ReconciliationEffect[] = [...started.effects];
    input.onProgress?.(run);
    for (let handled = 0; pending.length > 0; handled += 1) {
      if (handled >= driverEffectsMax) throw new Error(`reconciliation exceeded ${driverEffectsMax} effects`);
      if (input.cancelled?.()) return { ...run, phase: 'escalated', failure: 'cancelled by operator' };
      const effect = pending.shift()!;
      const events = await this.perform(input, effect);
      for (const event of events) {
        const phaseBefore = run.phase;
        const result = stepReconciliation(run, event, this.nowMs(), rules);
        run = result.run;
        pending.push(...result.effects);
        if (run.phase !== phaseBefore) input.onProgress?.(run);
      }
    }
    return run;
  }
}
