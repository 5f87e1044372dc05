/**
 * Conflict resolution: given the distinct versions that replicas hold for one key
 * after a partition, choose the one every replica will keep. Pluggable; two built in.
 */
import { type Hlc, compareHlc } from '../hlc';
import type { NodeId } from '../protocol';

/** One version of one key: a value (or a tombstone) stamped with its hybrid logical time. */
export interface VersionedEntry {
  /** The key. */
  key: string;
  /** The value, or null for a delete (tombstones take part in resolution like values). */
  value: string | null;
  /** When the write happened, on the hybrid logical clock of the node that accepted it. */
  hlc: Hlc;
}

/** One distinct version of a key and the replicas that hold it. */
export interface Candidate {
  /** The version. */
  entry: VersionedEntry;
  /** Replicas that hold exactly this version, sorted. */
  holders: NodeId[];
}

/** What a resolver knows besides the candidates. */
export interface ResolveContext {
  /** Nodes of the side that held a strict majority during the partition, or null if none did. */
  majorityNodes: ReadonlySet<NodeId> | null;
}

/** A resolver's decision for one key. */
export interface Resolution {
  /** The version every replica keeps. */
  winner: Candidate;
  /** The versions discarded: writes the resolver deliberately overwrote. */
  losers: Candidate[];
  /** Short machine-readable rule that decided, shown in dry runs and reports. */
  rule: string;
}

/** Names of the built-in resolvers, as configured per cluster. */
export type ResolverName = 'last-writer-wins' | 'prefer-majority-side';

/** A conflict resolution rule. Must be deterministic: same candidates, same winner, in any order. */
export interface ConflictResolver {
  /** The configured name. */
  name: ResolverName;
  /** One sentence for operators explaining how conflicts are decided. */
  description: string;
  /** Chooses the winner among at least two distinct candidates. */
  resolve(key: string, candidates: readonly Candidate[], context: ResolveContext): Resolution;
}

/** Picks the latest candidate by HLC (total order, so ties cannot happen). */
function latest(candidates: readonly Candidate[]): Candidate {
  let best = candidates[0];
  if (best === undefined) throw new RangeError('resolve needs at least one candidate');
  for (const candidate of candidates) if (compareHlc(candidate.entry.hlc, best.entry.hlc) > 0) best = candidate;
  return best;
}

function decide(candidates: readonly Candidate[], winner: Candidate, rule: string): Resolution {
  return { winner, losers: candidates.filter((candidate) => candidate !== winner), rule };
}

/** Last-writer-wins on hybrid logical time: the default, commutative and convergent. */
export const lastWriterWins: ConflictResolver = {
  name: 'last-writer-wins',
  description: 'The version with the latest hybrid logical timestamp wins; node id breaks exact ties.',
  resolve(_key, candidates) {
    return decide(candidates, latest(candidates), 'latest-hlc');
  },
};

/**
 * Prefer the majority side: a version written on the side that kept a majority wins
 * over any minority-side version, whatever their clocks say; among several majority
 * versions, the latest wins. With no majority side this is last-writer-wins.
 */
export const preferMajoritySide: ConflictResolver = {
  name: 'prefer-majority-side',
  description: 'A version held by the majority side wins; otherwise, and among those, the latest timestamp wins.',
  resolve(_key, candidates, context) {
    const majority = context.majorityNodes;
    if (majority === null) return decide(candidates, latest(candidates), 'latest-hlc (no majority side)');
    const onMajority = candidates.filter((candidate) => candidate.holders.some((node) => majority.has(node)));
    if (onMajority.length === 0) return decide(candidates, latest(candidates), 'latest-hlc (no majority version)');
    return decide(candidates, latest(onMajority), 'majority-side');
  },
};

/** The built-in resolvers by configured name. */
export const resolvers: Readonly<Record<ResolverName, ConflictResolver>> = {
  'last-writer-wins': lastWriterWins,
  'prefer-majority-side': preferMajoritySide,
};
