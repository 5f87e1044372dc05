/**
 * Who belongs to a cluster. A report names peers, but naming is not proof: a
 * credentialed agent that names fifty peers that do not exist must not add fifty
 * nodes (and a complete partition) to its cluster. A cluster's members are
 * - the agents holding a live (unrevoked) credential for it,
 * - the agents of a declared member list (the demo cluster's node-1..node-N),
 * - an agent that authenticated in this process (it proved a credential).
 * The view answers from memory; the credential list is read when a cluster is
 * loaded and again, at most every `membershipRefreshMinMs`, when a report names a
 * peer that is not a member (a credential issued since, or by another instance).
 */
import type { PrismaClient } from '../generated/prisma/client';
import type { Logger } from './logger';

/** Least time between two reads of one cluster's credentials (ms); bounds what unknown names can cost the database. */
export const membershipRefreshMinMs = 2000;
/** Most members remembered per cluster (the view holds at most as many nodes anyway). */
export const membersPerClusterMax = 1000;

interface ClusterMembers {
  /** Agents with a live credential as of `readAtMs`. */
  credentialed: Set<string>;
  /** Agents that authenticated in this process. */
  admitted: Set<string>;
  /** When the credentials were last read (ms), or null before the first read. */
  readAtMs: number | null;
  /** A read in flight, so concurrent asks share it. */
  reading: Promise<void> | null;
}

export class ClusterMembership {
  private readonly clusters = new Map<string, ClusterMembers>();

  constructor(
    private readonly prisma: PrismaClient,
    private readonly options: {
      /** Declared member lists by cluster id (the demo cluster's own list). */
      declared: ReadonlyMap<string, readonly string[]>;
      nowMs: () => number;
      logger: Logger;
    },
  ) {}

  private members(clusterId: string): ClusterMembers {
    let members = this.clusters.get(clusterId);
    if (!members) {
      members = { credentialed: new Set(), admitted: new Set(), readAtMs: null, reading: null };
      this.clusters.set(clusterId, members);
    }
    return members;
  }

  /** Reads the cluster's live credentials; a failed read keeps what was known and is logged. */
  load(clusterId: string): Promise<void> {
    const members = this.members(clusterId);
    members.reading ??= this.read(clusterId, members).finally(() => {
      members.reading = null;
    });
    return members.reading;
  }

  private async read(clusterId: string, members: ClusterMembers): Promise<void> {
    members.readAtMs = this.options.nowMs();
    try {
      const rows = await this.prisma.agentCredential.findMany({
        where: { clusterId, revokedAt: null },
        select: { agentId: true },
        distinct: ['agentId'],
        take: membersPerClusterMax,
      });
      members.credentialed = new Set(rows.map((row) => row.agentId));
    } catch (error) {
      this.options.logger.warn({ err: error, clusterId }, 'cluster members not read; keeping the last known list');
    }
  }

  /** Records an agent that proved its credential (hello), so it is a member at once. */
  admit(clusterId: string, agentId: string): void {
    const members = this.members(clusterId);
    if (members.admitted.size < membersPerClusterMax) members.admitted.add(agentId);
  }

  /** Whether `agentId` is a member of `clusterId`, from memory. */
  isMember(clusterId: string, agentId: string): boolean {
    const members = this.clusters.get(clusterId);
    if (this.options.declared.get(clusterId)?.includes(agentId)) return true;
    return members !== undefined && (members.credentialed.has(agentId) || members.admitted.has(agentId));
  }

  /** A report named a non-member: read the credentials again, unless they were read recently. */
  noteUnknown(clusterId: string): void {
    const members = this.members(clusterId);
    if (members.readAtMs !== null && this.options.nowMs() - members.readAtMs < membershipRefreshMinMs) return;
    void this.load(clusterId);
  }
}
