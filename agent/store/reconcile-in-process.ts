/**
 * Runs the core reconciliation state machine against stores in the same process:
 * the reference driver used by tests, the benchmark and single-process simulations.
 * The control server does the same over the wire with data-plane commands.
 */
import type { Hlc } from '../../core/hlc';
import type { NodeId } from '../../core/protocol';
import type { OverwrittenVersion } from '../../core/reconcile/plan-reconciliation';
import {
  type ReconciliationEffect,
  type ReconciliationEvent,
  type ReconciliationRun,
  startReconciliation,
  stepReconciliation,
} from '../../core/reconcile/reconciliation-run';
import type { ConflictResolver } from '../../core/reconcile/resolver';
import type { KvStore } from './kv-store';

/** Effects handled per run before the driver gives up; a correct run needs a few per attempt. */
export const driverEffectsMax = 10_000;

/** Options of an in-process run. */
export interface InProcessOptions {
  /** Partition being reconciled. */
  partitionId: string;
  /** Collect changes at or after this; null for a full comparison. */
  since: Hlc | null;
  /** Conflict resolver. */
  resolver: ConflictResolver;
  /** Majority side during the partition, or null. */
  majorityNodes: readonly NodeId[] | null;
  /** Clock for the report's timing (ms). */
  nowMs: () => number;
  /** Attempts before escalation. */
  attemptsMax?: number;
}

/** The finished run and every version the resolver discarded over all attempts. */
export interface InProcessResult {
  /** The run in its final phase (`completed` or `escalated`). */
  run: ReconciliationRun;
  /** Versions discarded by the resolver. */
  overwritten: OverwrittenVersion[];
}

function eventsFor(effect: ReconciliationEffect, stores: ReadonlyMap<NodeId, KvStore>): ReconciliationEvent[] {
  switch (effect.kind) {
    case 'collect-changes':
      return effect.nodeIds.map((nodeId) => ({ type: 'changes-collected', nodeId, changes: storeOf(stores, nodeId).changedSince(effect.since) }));
    case 'send-sync':
      storeOf(stores, effect.nodeId).apply(effect.entries);
      return [{ type: 'sync-applied', nodeId: effect.nodeId }];
    case 'collect-digests':
      return effect.nodeIds.map((nodeId) => ({ type: 'digest-reported', nodeId, digest: storeOf(stores, nodeId).digest() }));
    default:
      return [];
  }
}

function storeOf(stores: ReadonlyMap<NodeId, KvStore>, nodeId: NodeId): KvStore {
  const store = stores.get(nodeId);
  if (store === undefined) throw new Error(`no store for ${nodeId}`);
  return store;
}

/** Reconciles `stores` to completion or escalation. */
export function reconcileInProcess(stores: readonly KvStore[], options: InProcessOptions): InProcessResult {
  const byId = new Map(stores.map((store) => [store.nodeId, store]));
  const rules = { resolver: options.resolver, majorityNodes: options.majorityNodes };
  const started = startReconciliation(
    { partitionId: options.partitionId, nodeIds: [...byId.keys()], since: options.since, attemptsMax: options.attemptsMax },
    options.nowMs(),
  );
  let run = started.run;
  const pending = [...started.effects];
  const overwritten: OverwrittenVersion[] = [];
  for (let handled = 0; pending.length > 0; handled++) {
    if (handled >= driverEffectsMax) throw new Error(`reconciliation driver exceeded ${driverEffectsMax} effects`);
    const effect = pending.shift() as ReconciliationEffect;
    for (const event of eventsFor(effect, byId)) {
      const planBefore = run.plan;
      const result = stepReconciliation(run, event, options.nowMs(), rules);
      run = result.run;
      if (run.plan !== null && run.plan !== planBefore) for (const version of run.plan.overwritten) overwritten.push(version);
      pending.push(...result.effects);
    }
  }
  return { run, overwritten };
}
