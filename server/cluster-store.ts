/**
 * Clusters and their nodes as saved: the `ClusterStore` interface, its Prisma
 * implementation (the server) and an in-memory twin (unit tests);
 * `cluster-store-contract.ts` holds both to one contract.
 */
import type { PrismaClient } from '../generated/prisma/client';

/** A cluster as saved. */
export interface StoredCluster {
  id: string;
  name: string;
  demo: boolean;
}

/** A node as saved. */
export interface StoredNode {
  id: string;
  /** Heartbeat address "host:port". */
  address: string;
}

/** What an agent's hello saves about its node. */
export interface NodeHello {
  clusterId: string;
  id: string;
  address: string;
  incarnation: number;
  seenAtMs: number;
}

export interface ClusterStore {
  /** Creates the cluster (named `name`, its id by default) or returns the saved one, setting `demo` when given. */
  upsertCluster(id: string, options: { name?: string; demo?: boolean }): Promise<StoredCluster>;
  /** Ids of the saved clusters, oldest first, at most `limit`. */
  clusterIds(limit: number): Promise<string[]>;
  /** Creates or updates a node of a saved cluster (rejects when the cluster is not saved). */
  upsertNode(node: NodeHello): Promise<void>;
  /** The saved nodes of a cluster, by id. */
  nodes(clusterId: string): Promise<StoredNode[]>;
}

export class PrismaClusterStore implements ClusterStore {
  constructor(private readonly prisma: PrismaClient) {}

  async upsertCluster(id: string, options: { name?: string; demo?: boolean }): Promise<StoredCluster> {
    const row = await this.prisma.cluster.upsert({
      where: { id },
      create: { id, name: options.name ?? id, demo: options.demo ?? false },
      update: options.demo !== undefined ? { demo: options.demo } : {},
    });
    return { id: row.id, name: row.name, demo: row.demo };
  }

  async clusterIds(limit: number): Promise<string[]> {
    const rows = await this.prisma.cluster.findMany({ select: { id: true }, orderBy: { createdAt: 'asc' }, take: limit });
    return rows.map((row) => row.id);
  }

  async upsertNode(node: NodeHello): Promise<void> {
    await this.prisma.node.upsert({
      where: { clusterId_id: { clusterId: node.clusterId, id: node.id } },
      create: { clusterId: node.clusterId, id: node.id, address: node.address, incarnation: BigInt(node.incarnation) },
      update: { address: node.address, incarnation: BigInt(node.incarnation), lastSeenAt: new Date(node.seenAtMs) },
    });
  }

  async nodes(clusterId: string): Promise<StoredNode[]> {
    const rows = await this.prisma.node.findMany({ where: { clusterId }, select: { id: true, address: true }, orderBy: { id: 'asc' } });
    return rows.map((row) => ({ id: row.id, address: row.address }));
  }
}

/** The in-memory twin: clusters in creation order, nodes by cluster. */
export class MemoryClusterStore implements ClusterStore {
  private readonly clusters = new Map<string, StoredCluster>();
  private readonly nodesByCluster = new Map<string, Map<string, StoredNode & { incarnation: number; seenAtMs: number }>>();

  async upsertCluster(id: string, options: { name?: string; demo?: boolean }): Promise<StoredCluster> {
    const saved = this.clusters.get(id);
    const next = saved ? { ...saved, ...(options.demo !== undefined ? { demo: options.demo } : {}) } : { id, name: options.name ?? id, demo: options.demo ?? false };
    this.clusters.set(id, next);
    if (!this.nodesByCluster.has(id)) this.nodesByCluster.set(id, new Map());
    return { ...next };
  }

  async clusterIds(limit: number): Promise<string[]> {
    return [...this.clusters.keys()].slice(0, limit);
  }

  async upsertNode(node: NodeHello): Promise<void> {
    const nodes = this.nodesByCluster.get(node.clusterId);
    if (!nodes) throw new Error(`no cluster named ${node.clusterId}`);
    nodes.set(node.id, { id: node.id, address: node.address, incarnation: node.incarnation, seenAtMs: node.seenAtMs });
  }

  async nodes(clusterId: string): Promise<StoredNode[]> {
    return [...(this.nodesByCluster.get(clusterId)?.values() ?? [])]
      .map((node) => ({ id: node.id, address: node.address }))
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }
}
