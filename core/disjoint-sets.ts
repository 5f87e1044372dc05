/**
 * Union-find over positions 0..count-1, the one implementation of "which nodes end up
 * together": the classifier's components and `connectedComponents` both use it.
 * Path halving on every lookup keeps chains short; memory is one Int32Array.
 */
import type { NodeId } from './protocol';

/** Disjoint sets of positions, merged by `union`. */
export class DisjointSets {
  private readonly parent: Int32Array;

  /** `count` singleton sets, one per position. */
  constructor(readonly count: number) {
    this.parent = new Int32Array(count).map((_, position) => position);
  }

  /** The representative of the set holding `position` (shortens the chain it walks). */
  find(position: number): number {
    const parent = this.parent;
    let root = position;
    while (parent[root] !== root) {
      parent[root] = parent[parent[root]!]!;
      root = parent[root]!;
    }
    return root;
  }

  /** Merges the sets of `a` and `b`; returns whether they were apart. */
  union(a: number, b: number): boolean {
    const rootA = this.find(a);
    const rootB = this.find(b);
    if (rootA === rootB) return false;
    this.parent[rootA] = rootB;
    return true;
  }

  /**
   * The sets as groups of `labels` (label of position i is `labels[i]`), each group
   * sorted, groups largest first, then by their first label: a stable order for verdicts.
   */
  components(labels: readonly NodeId[]): NodeId[][] {
    if (labels.length !== this.count) throw new RangeError(`${labels.length} labels for ${this.count} positions`);
    const groups = new Map<number, NodeId[]>();
    labels.forEach((label, position) => {
      const root = this.find(position);
      const group = groups.get(root);
      if (group) group.push(label);
      else groups.set(root, [label]);
    });
    return [...groups.values()].map((group) => group.sort()).sort((x, y) => y.length - x.length || x[0]!.localeCompare(y[0]!));
  }
}
