/**
 * Data divergence, measured: the exact fraction of keys that differ between replicas
 * (from their key sets), and the divergence ledger kept per partition.
 */
import { type Hlc, compareHlc } from '../hlc';
import type { NodeId } from '../protocol';
import type { ReconciliationRun } from './reconciliation-run';

/** Divergence samples kept per ledger; older ones are dropped first (the database keeps the series). */
export const ledgerSamplesMax = 512;

/** What a replica holds for a key, as far as divergence is concerned. */
export interface VersionOnly {
  /** The version's timestamp; equal timestamps mean the same write. */
  hlc: Hlc;
}

/**
 * The fraction of keys (over the union of all replicas' keys) on which replicas do
 * not all hold the same version; a key missing from a replica counts as differing.
 * 0 when replicas agree or hold nothing; 1 when no key agrees.
 */
export function divergenceRatio(replicas: readonly ReadonlyMap<string, VersionOnly>[]): number {
  if (replicas.length < 2) return 0;
  const union = new Set<string>();
  for (const replica of replicas) for (const key of replica.keys()) union.add(key);
  if (union.size === 0) return 0;
  let differing = 0;
  for (const key of union) {
    const first = replicas[0]?.get(key);
    const agree =
      first !== undefined &&
      replicas.every((replica) => {
        const version = replica.get(key);
        return version !== undefined && compareHlc(version.hlc, first.hlc) === 0;
      });
    if (!agree) differing++;
  }
  return differing / union.size;
}

/**
 * The exact fraction of keys that differ between replicas, from what each replica
 * changed since the partition began (`changes`) and the size of the key space
 * (`totalKeys`, the largest replica's key count). A key no replica changed is the
 * same everywhere; a key some replica changed differs unless every replica holds
 * the same latest version of it. Cheaper than comparing whole key sets, and exact,
 * unlike a digest-bucket estimate.
 */
export function divergenceSinceRatio(
  changes: readonly { nodeId: NodeId; changes: readonly { key: string; hlc: Hlc }[] }[],
  totalKeys: number,
): { ratio: number; differingKeys: number } {
  if (changes.length < 2 || totalKeys <= 0) return { ratio: 0, differingKeys: 0 };
  const latest = changes.map((replica) => {
    const byKey = new Map<string, Hlc>();
    for (const entry of replica.changes) {
      const seen = byKey.get(entry.key);
      if (seen === undefined || compareHlc(entry.hlc, seen) > 0) byKey.set(entry.key, entry.hlc);
    }
    return byKey;
  });
  const keys = new Set<string>();
  for (const replica of latest) for (const key of replica.keys()) keys.add(key);
  let differingKeys = 0;
  for (const key of keys) {
    const first = latest[0]!.get(key);
    const agree = first !== undefined && latest.every((replica) => {
      const version = replica.get(key);
      return version !== undefined && compareHlc(version, first) === 0;
    });
    if (!agree) differingKeys += 1;
  }
  return { ratio: Math.min(1, differingKeys / Math.max(totalKeys, keys.size)), differingKeys };
}

/** The running account of one partition's data: what was written where, what conflicts, how far reconciliation got. */
export interface DivergenceLedger {
  /** The partition the ledger belongs to. */
  partitionId: string;
  /** The sides of the partition, as the classifier saw them at detection. */
  sides: NodeId[][];
  /** Writes accepted on each side since the partition began, indexed like `sides`. */
  writesAcceptedBySide: number[];
  /** Keys on which sides hold conflicting versions (known once reconciliation has compared them). */
  conflictingKeys: number;
  /** Divergence ratio samples (fraction of keys differing), oldest first, at most `ledgerSamplesMax`. */
  divergenceSamples: { atMs: number; ratio: number }[];
  /** Reconciliation progress: keys to bring up to date, keys done, and the run's phase. */
  reconciliation: { keysTotal: number; keysSynced: number; phase: ReconciliationRun['phase'] | 'not-started' };
}

/** A fresh ledger for a partition with the given sides. */
export function createDivergenceLedger(partitionId: string, sides: readonly (readonly NodeId[])[]): DivergenceLedger {
  return {
    partitionId,
    sides: sides.map((side) => [...side]),
    writesAcceptedBySide: sides.map(() => 0),
    conflictingKeys: 0,
    divergenceSamples: [],
    reconciliation: { keysTotal: 0, keysSynced: 0, phase: 'not-started' },
  };
}

/** Adds `count` writes accepted by `nodeId` to its side's tally; unknown nodes are ignored. */
export function recordWrites(ledger: DivergenceLedger, nodeId: NodeId, count: number): DivergenceLedger {
  const sideIndex = ledger.sides.findIndex((side) => side.includes(nodeId));
  if (sideIndex === -1 || count <= 0) return ledger;
  const writesAcceptedBySide = ledger.writesAcceptedBySide.map((value, index) => (index === sideIndex ? value + count : value));
  return { ...ledger, writesAcceptedBySide };
}

/** Appends a divergence sample, dropping the oldest beyond `ledgerSamplesMax`. */
export function recordDivergence(ledger: DivergenceLedger, atMs: number, ratio: number): DivergenceLedger {
  const clamped = Math.min(1, Math.max(0, ratio));
  const divergenceSamples = [...ledger.divergenceSamples, { atMs, ratio: clamped }].slice(-ledgerSamplesMax);
  return { ...ledger, divergenceSamples };
}

/** Copies a reconciliation run's progress into the ledger. */
export function recordReconciliation(ledger: DivergenceLedger, run: ReconciliationRun): DivergenceLedger {
  const plan = run.plan;
  const keysTotal = plan === null ? 0 : plan.syncSets.reduce((sum, set) => sum + set.entries.length, 0);
  const pendingKeys =
    plan === null || run.phase !== 'syncing'
      ? 0
      : plan.syncSets.filter((set) => run.awaiting.includes(set.nodeId)).reduce((sum, set) => sum + set.entries.length, 0);
  const keysSynced = run.phase === 'collecting' ? 0 : keysTotal - pendingKeys;
  return {
    ...ledger,
    conflictingKeys: plan === null ? ledger.conflictingKeys : plan.conflicts.length,
    reconciliation: { keysTotal, keysSynced, phase: run.phase },
  };
}
