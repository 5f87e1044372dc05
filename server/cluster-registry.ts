/**
 * The clusters this process holds in memory, by id. Built by the composition
 * root before the cluster service (which loads and updates them) and the
 * lifecycle orchestrator (which reads who is connected and what each node
 * accepted), so neither has to be handed the other later.
 */
import type { ClusterState } from './cluster-view';

export class ClusterRegistry {
  private readonly clusters = new Map<string, ClusterState>();

  /** The cluster, or null. */
  find(clusterId: string): ClusterState | null {
    return this.clusters.get(clusterId) ?? null;
  }

  /** Adds (or replaces) a loaded cluster. */
  add(cluster: ClusterState): void {
    this.clusters.set(cluster.clusterId, cluster);
  }

  /** Every held cluster, in load order. */
  list(): ClusterState[] {
    return [...this.clusters.values()];
  }

  /** Ids of every held cluster. */
  ids(): string[] {
    return [...this.clusters.keys()];
  }

  /** Nodes of a cluster whose agents are connected now. */
  connectedNodes(clusterId: string): string[] {
    const cluster = this.clusters.get(clusterId);
    return cluster ? [...cluster.nodes.entries()].filter(([, node]) => node.connected).map(([id]) => id) : [];
  }

  /** Writes each node's store accepted (cumulative, from the latest reports). */
  writesAccepted(clusterId: string): Map<string, number> {
    const counts = new Map<string, number>();
    for (const [id, node] of this.clusters.get(clusterId)?.nodes ?? []) if (node.dataPlane) counts.set(id, node.dataPlane.writesAccepted);
    return counts;
  }
}
