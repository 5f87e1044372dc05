/**
 * The heart of reconciliation: from what each replica changed since the partition
 * began, decide every key's final version and what each replica must receive.
 * Pure: the caller collects the changes (data-plane adapters) and applies the sync sets.
 */
import { type Hlc, compareHlc } from '../hlc';
import type { NodeId } from '../protocol';
import type { Candidate, ConflictResolver, Resolution, VersionedEntry } from './resolver';

/** Largest number of changed entries one plan accepts across all replicas; bounds memory. */
export const reconcileEntriesMax = 10_000_000;
/** Conflicts listed one by one in a report; beyond this only the count grows. */
export const reportConflictsListedMax = 200;

/** What one replica changed since the partition began. */
export interface ReplicaChanges {
  /** The replica. */
  nodeId: NodeId;
  /** Its versions written (locally or by replication) after the partition start. */
  changes: readonly VersionedEntry[];
}

/** A resolved version to apply, guarded so that a newer write made meanwhile is kept. */
export interface ResolvedEntry extends VersionedEntry {
  /**
   * The latest version that took part in the decision. A replica applies this entry
   * only if its own version is not newer than `supersedes`; a write accepted after the
   * changes were collected therefore survives, and the next verification sees it.
   * It is also the key's floor: once applied, the decision is final, so a replicated
   * version at or before `supersedes` that arrives late (a datagram sent before the
   * heal) is refused instead of bringing a discarded version back (see `settlesFloor`).
   */
  supersedes: Hlc;
}

/**
 * Whether applying `entry` must leave a floor behind: the kept version is older than
 * a version it discarded (prefer-majority-side keeping the majority's earlier write),
 * so last-writer-wins alone would let a late copy of the discarded one win again. When
 * the kept version is the latest, last-writer-wins already refuses every older copy.
 */
export function settlesFloor(entry: ResolvedEntry): boolean {
  return compareHlc(entry.hlc, entry.supersedes) < 0;
}

/** The versions one replica must receive. */
export interface SyncSet {
  /** The replica. */
  nodeId: NodeId;
  /** Entries to apply, in key order. */
  entries: ResolvedEntry[];
  /** Approximate UTF-8 payload size of `entries` (bytes). */
  bytes: number;
}

/** One key on which replicas held different versions, and how it was decided. */
export interface ConflictRecord {
  /** The key. */
  key: string;
  /** The resolver's rule that decided (for example `latest-hlc`). */
  rule: string;
  /** The kept version and who held it. */
  winner: Candidate;
  /** The discarded versions and who held them. */
  losers: Candidate[];
}

/** A version the resolver deliberately discarded, for reports and the consistency checker. */
export interface OverwrittenVersion {
  /** The key. */
  key: string;
  /** The discarded version. */
  lost: VersionedEntry;
  /** The replicas that held it. */
  holders: NodeId[];
  /** The version that replaced it. */
  keptHlc: Hlc;
}

/** Everything reconciliation decided, ready to apply. */
export interface ReconciliationPlan {
  /** Distinct keys that changed on at least one replica. */
  keysCompared: number;
  /**
   * Distinct keys on which replicas do not all hold the resolved version: the keys
   * that will move. The same count as the numerator of the divergence ratio
   * (`divergenceSinceRatio`): a changed key that every replica already holds in the
   * same version is compared but does not differ.
   */
  keysDiffering: number;
  /** Keys where replicas held two or more distinct versions. */
  conflicts: ConflictRecord[];
  /** Final version per changed key. */
  resolved: Map<string, ResolvedEntry>;
  /**
   * Per replica, what it must receive; replicas already up to date get an empty set,
   * except that an entry that `settlesFloor` goes to every replica, holders included,
   * so that each records the floor and moves its clock past it (a later write of any
   * replica then orders after the floor and is not refused).
   */
  syncSets: SyncSet[];
  /** Every version discarded by the resolver. */
  overwritten: OverwrittenVersion[];
  /** Sum of sync-set sizes (bytes). */
  bytesToMove: number;
}

/** Keys listed per replica that a plan changes there; the rest are counted. */
export const planChangeSamplesMax = 20;

/** The table (or key group) of a key: the part before its first `/` (a real store's `<schema>.<table>/<row>`), else "keys". */
export function keyGroupOf(key: string): string {
  const slash = key.indexOf('/');
  return slash > 0 ? key.slice(0, slash) : 'keys';
}

/** The real keys (rows) a plan changes: per table (key group), and the first keys each replica receives. */
export interface PlanChanges {
  byTable: { table: string; keys: number }[];
  toReceive: { nodeId: NodeId; keys: string[]; more: number }[];
}

/** What a plan changes, bounded for a dry run or a report (`planChangeSamplesMax` keys per replica). */
export function describePlanChanges(plan: Pick<ReconciliationPlan, 'resolved' | 'syncSets'>): PlanChanges {
  const byTable = new Map<string, number>();
  for (const key of plan.resolved.keys()) byTable.set(keyGroupOf(key), (byTable.get(keyGroupOf(key)) ?? 0) + 1);
  return {
    byTable: [...byTable].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([table, count]) => ({ table, keys: count })),
    toReceive: plan.syncSets.map((set) => ({
      nodeId: set.nodeId,
      keys: set.entries.slice(0, planChangeSamplesMax).map((entry) => entry.key),
      more: Math.max(0, set.entries.length - planChangeSamplesMax),
    })),
  };
}

/** Input of `planReconciliation`. */
export interface PlanReconciliationInput {
  /** Changes per replica; every replica of the key space must appear, even with no changes. */
  replicas: readonly ReplicaChanges[];
  /** How conflicts are decided. */
  resolver: ConflictResolver;
  /** Nodes on the side that held a majority during the partition, or null. */
  majorityNodes: readonly NodeId[] | null;
}

/** UTF-8 length of a string, without TextEncoder allocation. */
export function utf8Bytes(text: string): number {
  let bytes = 0;
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (code >= 0xd800 && code < 0xdc00) {
      bytes += 4;
      index++;
    } else bytes += 3;
  }
  return bytes;
}

/** Approximate wire size of one entry: key, value, encoded HLC (see `encodeHlc`). */
export function entryBytes(entry: VersionedEntry): number {
  return utf8Bytes(entry.key) + (entry.value === null ? 0 : utf8Bytes(entry.value)) + 26 + entry.hlc.nodeId.length;
}

/** Groups changes by key into distinct versions with their holders. */
function collectCandidates(replicas: readonly ReplicaChanges[]): Map<string, Candidate[]> {
  const byKey = new Map<string, Candidate[]>();
  let total = 0;
  for (const replica of replicas) {
    total += replica.changes.length;
    if (total > reconcileEntriesMax) throw new RangeError(`more than ${reconcileEntriesMax} changed entries`);
    for (const entry of replica.changes) {
      let candidates = byKey.get(entry.key);
      if (candidates === undefined) {
        candidates = [];
        byKey.set(entry.key, candidates);
      }
      const same = candidates.find((candidate) => compareHlc(candidate.entry.hlc, entry.hlc) === 0);
      if (same === undefined) candidates.push({ entry, holders: [replica.nodeId] });
      else same.holders.push(replica.nodeId);
    }
  }
  return byKey;
}

function resolveKey(
  key: string,
  candidates: Candidate[],
  resolver: ConflictResolver,
  majorityNodes: ReadonlySet<NodeId> | null,
): Resolution {
  if (candidates.length === 1) return { winner: candidates[0] as Candidate, losers: [], rule: 'single-version' };
  for (const candidate of candidates) candidate.holders.sort();
  return resolver.resolve(key, candidates, { majorityNodes });
}

function latestHlc(candidates: readonly Candidate[]): Hlc {
  let latest = (candidates[0] as Candidate).entry.hlc;
  for (const candidate of candidates) if (compareHlc(candidate.entry.hlc, latest) > 0) latest = candidate.entry.hlc;
  return latest;
}

/** Decides every changed key and builds each replica's sync set. */
export function planReconciliation(input: PlanReconciliationInput): ReconciliationPlan {
  const majority = input.majorityNodes === null ? null : new Set(input.majorityNodes);
  const byKey = collectCandidates(input.replicas);
  const keys = [...byKey.keys()].sort();
  const resolved = new Map<string, ResolvedEntry>();
  const conflicts: ConflictRecord[] = [];
  const overwritten: OverwrittenVersion[] = [];
  const syncEntries = new Map<NodeId, ResolvedEntry[]>(input.replicas.map((replica) => [replica.nodeId, []]));
  const syncBytes = new Map<NodeId, number>(input.replicas.map((replica) => [replica.nodeId, 0]));
  let keysDiffering = 0;
  for (const key of keys) {
    const candidates = byKey.get(key) as Candidate[];
    const resolution = resolveKey(key, candidates, input.resolver, majority);
    if (resolution.winner.holders.length < input.replicas.length) keysDiffering += 1;
    const entry: ResolvedEntry = { ...resolution.winner.entry, supersedes: latestHlc(candidates) };
    resolved.set(key, entry);
    if (resolution.losers.length > 0) {
      conflicts.push({ key, rule: resolution.rule, winner: resolution.winner, losers: resolution.losers });
      for (const loser of resolution.losers) {
        overwritten.push({ key, lost: loser.entry, holders: loser.holders, keptHlc: entry.hlc });
      }
    }
    const size = entryBytes(entry);
    const toEveryReplica = settlesFloor(entry);
    for (const [nodeId, entries] of syncEntries) {
      if (!toEveryReplica && resolution.winner.holders.includes(nodeId)) continue;
      entries.push(entry);
      syncBytes.set(nodeId, (syncBytes.get(nodeId) ?? 0) + size);
    }
  }
  const syncSets = [...syncEntries].map(([nodeId, entries]) => ({ nodeId, entries, bytes: syncBytes.get(nodeId) ?? 0 }));
  const bytesToMove = syncSets.reduce((sum, set) => sum + set.bytes, 0);
  return { keysCompared: keys.length, keysDiffering, conflicts, resolved, syncSets, overwritten, bytesToMove };
}

/** The stored account of one reconciliation run. */
export interface ReconciliationReport {
  /** Distinct keys compared. */
  keysCompared: number;
  /** Number of conflicting keys. */
  conflictCount: number;
  /** The first conflicts, for operators (at most `reportConflictsListedMax`). */
  conflicts: { key: string; rule: string; keptHlc: Hlc; keptFrom: NodeId[]; discarded: { hlc: Hlc; from: NodeId[] }[] }[];
  /** Number of resolved values (one per changed key). */
  resolvedValues: number;
  /** Number of versions the resolver discarded. */
  overwrittenCount: number;
  /** Bytes sent to replicas to bring them up to date. */
  bytesMoved: number;
  /** Wall-clock duration of the run, from the times passed in (ms). */
  durationMs: number;
  /** Attempts made (1 when the first verification passed). */
  attempts: number;
  /** Whether every replica's digest agreed at the end. */
  verified: boolean;
  /** What was recovered: the keys (rows) changed, per table and per replica (bounded). */
  changes: PlanChanges;
}

/** Summarises a plan as a report; times are passed in because the core reads no clock. */
export function reportReconciliation(
  plan: ReconciliationPlan,
  outcome: { startedAtMs: number; finishedAtMs: number; attempts: number; verified: boolean },
): ReconciliationReport {
  return {
    keysCompared: plan.keysCompared,
    conflictCount: plan.conflicts.length,
    conflicts: plan.conflicts.slice(0, reportConflictsListedMax).map((conflict) => ({
      key: conflict.key,
      rule: conflict.rule,
      keptHlc: conflict.winner.entry.hlc,
      keptFrom: conflict.winner.holders,
      discarded: conflict.losers.map((loser) => ({ hlc: loser.entry.hlc, from: loser.holders })),
    })),
    resolvedValues: plan.resolved.size,
    overwrittenCount: plan.overwritten.length,
    bytesMoved: plan.bytesToMove,
    durationMs: Math.max(0, outcome.finishedAtMs - outcome.startedAtMs),
    attempts: outcome.attempts,
    verified: outcome.verified,
    changes: describePlanChanges(plan),
  };
}
