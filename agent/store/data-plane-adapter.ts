/**
 * The seam between Faultline and a replicated data system. Reconciliation needs only
 * four things from it: what changed since a time, a digest of the whole key space,
 * applying resolved values, and fencing. The reference store (kv-store.ts) is the
 * first implementation; a real database plugs in by implementing this interface.
 */
import type { Digest } from '../../core/digest';
import type { Hlc } from '../../core/hlc';
import type { FenceMode } from '../../core/policy/cluster-policy';
import type { ResolvedEntry } from '../../core/reconcile/plan-reconciliation';
import type { VersionedEntry } from '../../core/reconcile/resolver';

/** How many resolved values an apply took, and how many it skipped because a newer write was already there. */
export interface ApplyOutcome {
  /** Entries written (or already identical). */
  applied: number;
  /** Entries skipped because the replica held a version newer than the entry's `supersedes`. */
  skipped: number;
}

/** A data plane that Faultline can reconcile and fence. Methods are async because real systems are remote. */
export interface DataPlaneAdapter {
  /** Every version written at or after `since` (null: every version), tombstones included. */
  changedSince(since: Hlc | null): Promise<VersionedEntry[]>;
  /** A bucketed digest of the whole key space (see core/digest.ts). */
  digest(bucketCount: number): Promise<Digest>;
  /**
   * Applies resolved values; each is skipped if the replica's version is newer than its
   * `supersedes`. Where an entry keeps a version older than its `supersedes`
   * (`settlesFloor`), the adapter must from then on refuse replicated versions of that
   * key at or before `supersedes`, and store that floor as durably as the entry.
   */
  apply(entries: readonly ResolvedEntry[]): Promise<ApplyOutcome>;
  /** Restricts client writes for a partition: `read-only`, `critical-only`, or null to lift that partition's fence. */
  setFence(partitionId: string, mode: FenceMode | null): Promise<void>;
}
