/**
 * Judges a run against the two promises reconciliation makes: no acknowledged write
 * is lost, except those the resolver deliberately overwrote (and listed), and every
 * replica converges to the same data. Used by tests and chaos scenarios.
 */
import { type Hlc, compareHlc } from './hlc';
import type { NodeId } from './protocol';
import type { OverwrittenVersion } from './reconcile/plan-reconciliation';
import type { VersionedEntry } from './reconcile/resolver';

/** Problems listed one by one in a verdict; beyond this only counts grow. */
export const checkerProblemsListedMax = 100;

/** A write a client was told succeeded. */
export interface AcknowledgedWrite {
  /** Node that acknowledged it. */
  nodeId: NodeId;
  /** Key. */
  key: string;
  /** Value written, or null for a delete. */
  value: string | null;
  /** Version returned with the acknowledgement. */
  hlc: Hlc;
}

/** A replica's whole contents. */
export type ReplicaContents = ReadonlyMap<string, VersionedEntry>;

/** Input of the checker. */
export interface ConsistencyInput {
  /** Every acknowledged write of the run. */
  acknowledged: readonly AcknowledgedWrite[];
  /** Final contents of every replica. */
  replicas: ReadonlyMap<NodeId, ReplicaContents>;
  /** Contents just before reconciliation: a version held then and discarded by it must be listed in `overwritten`. */
  beforeReconciliation: ReadonlyMap<NodeId, ReplicaContents>;
  /** The resolver's list of versions it deliberately discarded. */
  overwritten: readonly OverwrittenVersion[];
  /**
   * Start of the window reconciliation compared (its `since`; null: everything). A
   * version older than it was on every replica before the split, so any later write
   * to its key was made by a node that had seen it: a causal successor, not a conflict.
   */
  since: Hlc | null;
}

/** How an acknowledged write was lost. */
export type LossKind = 'missing' | 'rolled-back' | 'changed-in-place' | 'overwritten-unlisted';

/** The checker's verdict. */
export interface ConsistencyVerdict {
  /** True when replicas converged and no write was lost. */
  ok: boolean;
  /** Whether every replica holds exactly the same entries. */
  converged: boolean;
  /** Keys on which replicas differ (first `checkerProblemsListedMax`). */
  divergentKeys: string[];
  /** Number of keys on which replicas differ. */
  divergentKeyCount: number;
  /** Lost writes (first `checkerProblemsListedMax`), each with how. */
  lostWrites: (AcknowledgedWrite & { loss: LossKind })[];
  /** Number of lost writes. */
  lostWriteCount: number;
  /** Acknowledged writes the resolver overwrote and listed: allowed, and reported. */
  deliberatelyOverwritten: AcknowledgedWrite[];
  /** Listed overwrites whose version is in fact the final one (the report would be lying). */
  falselyListed: OverwrittenVersion[];
}

function sameVersion(a: VersionedEntry | undefined, b: VersionedEntry | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return compareHlc(a.hlc, b.hlc) === 0 && a.value === b.value;
}

function divergentKeysOf(replicas: readonly ReplicaContents[]): string[] {
  const keys = new Set<string>();
  for (const replica of replicas) for (const key of replica.keys()) keys.add(key);
  const first = replicas[0];
  return [...keys].filter((key) => replicas.some((replica) => !sameVersion(first?.get(key), replica.get(key)))).sort();
}

function versionKey(key: string, hlc: Hlc): string {
  return `${key}\u0000${hlc.wallMs}\u0000${hlc.logical}\u0000${hlc.nodeId}`;
}

function heldBefore(before: ReadonlyMap<NodeId, ReplicaContents>): Set<string> {
  const held = new Set<string>();
  for (const replica of before.values()) for (const entry of replica.values()) held.add(versionKey(entry.key, entry.hlc));
  return held;
}

/** The latest listed (deliberately discarded) version per key. */
function latestListed(overwritten: readonly OverwrittenVersion[]): Map<string, Hlc> {
  const latest = new Map<string, Hlc>();
  for (const version of overwritten) {
    const known = latest.get(version.key);
    if (known === undefined || compareHlc(version.lost.hlc, known) > 0) latest.set(version.key, version.lost.hlc);
  }
  return latest;
}

/** Context shared by every judgement of one check. */
interface JudgeContext {
  /** Versions held by some replica before reconciliation. */
  held: Set<string>;
  /** Versions the resolver listed as discarded. */
  listed: Set<string>;
  /** Latest listed version per key. */
  listedLatest: Map<string, Hlc>;
  /** Start of the compared window. */
  since: Hlc | null;
}

/**
 * The fate of one acknowledged write. A write the resolver listed is deliberately
 * overwritten; a write older than a listed one on its key was superseded by it (for
 * example an earlier write of the minority side, whose latest the majority beat).
 */
function judge(write: AcknowledgedWrite, final: VersionedEntry | undefined, context: JudgeContext): LossKind | 'kept' | 'superseded' | 'listed' {
  if (final === undefined) return 'missing';
  const order = compareHlc(final.hlc, write.hlc);
  if (order === 0) return final.value === write.value ? 'kept' : 'changed-in-place';
  if (context.listed.has(versionKey(write.key, write.hlc))) return 'listed';
  const listedLater = context.listedLatest.get(write.key);
  if (listedLater !== undefined && compareHlc(listedLater, write.hlc) > 0) return 'superseded';
  if (order < 0) return 'rolled-back';
  const compared = context.since === null || compareHlc(write.hlc, context.since) >= 0;
  const finalCameFromReconciliation = context.held.has(versionKey(final.key, final.hlc));
  const wasHeld = context.held.has(versionKey(write.key, write.hlc));
  return compared && wasHeld && finalCameFromReconciliation ? 'overwritten-unlisted' : 'superseded';
}

/** Checks convergence and the fate of every acknowledged write. */
export function checkConsistency(input: ConsistencyInput): ConsistencyVerdict {
  const replicas = [...input.replicas.values()];
  const divergent = divergentKeysOf(replicas);
  const reference = replicas[0] ?? new Map<string, VersionedEntry>();
  const context: JudgeContext = {
    held: heldBefore(input.beforeReconciliation),
    listed: new Set(input.overwritten.map((version) => versionKey(version.key, version.lost.hlc))),
    listedLatest: latestListed(input.overwritten),
    since: input.since,
  };
  const lost: (AcknowledgedWrite & { loss: LossKind })[] = [];
  const deliberatelyOverwritten: AcknowledgedWrite[] = [];
  for (const write of input.acknowledged) {
    const fate = judge(write, reference.get(write.key), context);
    if (fate === 'listed') deliberatelyOverwritten.push(write);
    else if (fate !== 'kept' && fate !== 'superseded') lost.push({ ...write, loss: fate });
  }
  const falselyListed = input.overwritten.filter((version) => {
    const final = reference.get(version.key);
    return final !== undefined && compareHlc(final.hlc, version.lost.hlc) === 0;
  });
  return {
    ok: divergent.length === 0 && lost.length === 0 && falselyListed.length === 0,
    converged: divergent.length === 0,
    divergentKeys: divergent.slice(0, checkerProblemsListedMax),
    divergentKeyCount: divergent.length,
    lostWrites: lost.slice(0, checkerProblemsListedMax),
    lostWriteCount: lost.length,
    deliberatelyOverwritten,
    falselyListed,
  };
}
