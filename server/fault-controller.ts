/**
 * Fault injection on demand: keeps the desired rules of every agent and pushes
 * them to the agent (its transport, or its node's kernel when the agent is allowed
 * to: see agent/network-faults). Rules are re-sent when an agent reconnects, so a
 * cut outlives a reconnect; heal removes them.
 *
 * Every push carries a lease (`ttlMs`): the agent removes the rules by itself when
 * it passes without a newer push. While an agent holds rules, the controller
 * renews its lease every third of it, so a fault lasts as long as the server wants
 * it and at most `ttlMs` after the server is gone.
 */
import { type AgentCommand, type FaultRule, type NodeId, faultRuleActive } from '../core/protocol';
import { AppError } from './app-error';
import type { ClusterState } from './cluster-view';

/**
 * Sends a command to one agent: true when it applied it, false when the agent is
 * not connected (or did not answer), `{ refused }` when it answered no (an agent
 * refuses rules for peers it does not know, or more rules than it has peers).
 */
export type CommandSender = (clusterId: string, agentId: NodeId, command: AgentCommand) => Promise<boolean | { refused: string }>;

/** Default lease of pushed rules (ms): `FAULTLINE_FAULT_TTL_MS`. */
export const faultTtlMsDefault = 60_000;

/** What a push says about its rules besides the rules: their lease and the tag of whoever set them. */
export interface FaultLease {
  /** Lease length (ms); the agent heals by itself when it passes unrenewed. */
  ttlMs: number;
  /** Label of the experiment (or console action) that set the rules, written into the agent's kernel rules. */
  tag?: string;
}

/** A requested cut. `oneWay` cuts only datagrams from `from` to `to`. */
export interface CutRequest {
  from: NodeId;
  to: NodeId;
  oneWay: boolean;
}

export class FaultController {
  /** Clusters whose agents hold rules, with the lease their pushes carry. */
  private readonly held = new Map<string, { cluster: ClusterState; lease: FaultLease }>();
  private readonly renewal: NodeJS.Timeout;

  constructor(
    private readonly send: CommandSender,
    /** `rulesChanged` hears of every change before it is pushed (other server instances keep the same rules). */
    private readonly options: { ttlMs?: number; rulesChanged?: (cluster: ClusterState) => void } = {},
  ) {
    const ttlMs = options.ttlMs ?? faultTtlMsDefault;
    this.renewal = setInterval(() => void this.renewLeases(), Math.max(500, Math.floor(ttlMs / 3)));
    this.renewal.unref();
  }

  /** The lease a push to `clusterId` carries now. */
  leaseOf(clusterId: string): FaultLease {
    return this.held.get(clusterId)?.lease ?? { ttlMs: this.options.ttlMs ?? faultTtlMsDefault };
  }

  /** Stops renewing leases (shutdown): agents heal by themselves when the last ones run out. */
  close(): void {
    clearInterval(this.renewal);
  }

  private requireNode(cluster: ClusterState, node: NodeId): void {
    if (!cluster.nodes.has(node)) throw new AppError('not_found', `no node ${node} in cluster ${cluster.clusterId}`);
  }

  private upsertRule(cluster: ClusterState, owner: NodeId, peerId: NodeId, change: Partial<FaultRule>): void {
    const state = cluster.node(owner);
    const current = state.faults.find((rule) => rule.peerId === peerId) ?? { peerId, dropOutbound: false, dropInbound: false };
    const next = { ...current, ...change };
    state.faults = [...state.faults.filter((rule) => rule.peerId !== peerId), next]
      .filter(faultRuleActive)
      .sort((a, b) => a.peerId.localeCompare(b.peerId));
  }

  /** Cuts the link between two nodes (or one direction of it) and pushes the rules. */
  async cut(cluster: ClusterState, request: CutRequest): Promise<void> {
    this.requireNode(cluster, request.from);
    this.requireNode(cluster, request.to);
    if (request.from === request.to) throw new AppError('invalid_input', 'from and to must differ');
    if (request.oneWay) {
      this.upsertRule(cluster, request.from, request.to, { dropOutbound: true });
      this.upsertRule(cluster, request.to, request.from, { dropInbound: true });
    } else {
      this.upsertRule(cluster, request.from, request.to, { dropOutbound: true, dropInbound: true });
      this.upsertRule(cluster, request.to, request.from, { dropOutbound: true, dropInbound: true });
    }
    await this.push(cluster, [request.from, request.to]);
  }

  /**
   * Degrades a link without cutting it: `lossRatio` of the datagrams in both
   * directions are lost (a flaky link); `corruptRatio` of those `from` sends to
   * `to` get a flipped byte (`to` sees the link from `from` failing integrity:
   * untrusted traffic, which accuses no node); `delayMs` (± `jitterMs`) is added
   * to each direction (a slow link: the round trip grows by twice the delay).
   * Zero lifts any of them.
   */
  async degrade(
    cluster: ClusterState,
    request: { from: NodeId; to: NodeId; lossRatio?: number; corruptRatio?: number; delayMs?: number; jitterMs?: number },
  ): Promise<void> {
    this.requireNode(cluster, request.from);
    this.requireNode(cluster, request.to);
    if (request.from === request.to) throw new AppError('invalid_input', 'from and to must differ');
    if (request.lossRatio !== undefined) {
      this.upsertRule(cluster, request.from, request.to, { lossRatio: request.lossRatio });
      this.upsertRule(cluster, request.to, request.from, { lossRatio: request.lossRatio });
    }
    if (request.corruptRatio !== undefined) this.upsertRule(cluster, request.from, request.to, { corruptRatio: request.corruptRatio });
    if (request.delayMs !== undefined) {
      const delay = { delayMs: request.delayMs, jitterMs: request.delayMs > 0 ? (request.jitterMs ?? 0) : 0 };
      this.upsertRule(cluster, request.from, request.to, delay);
      this.upsertRule(cluster, request.to, request.from, delay);
    }
    await this.push(cluster, [request.from, request.to]);
  }

  /** Cuts every link of `node`. */
  async isolate(cluster: ClusterState, node: NodeId): Promise<void> {
    this.requireNode(cluster, node);
    const others = [...cluster.nodes.keys()].filter((id) => id !== node);
    for (const other of others) {
      this.upsertRule(cluster, node, other, { dropOutbound: true, dropInbound: true });
      this.upsertRule(cluster, other, node, { dropOutbound: true, dropInbound: true });
    }
    await this.push(cluster, [node, ...others]);
  }

  /** Splits the cluster into the given groups: every link between groups is cut. */
  async split(cluster: ClusterState, groups: NodeId[][]): Promise<void> {
    groups.flat().forEach((node) => this.requireNode(cluster, node));
    for (let i = 0; i < groups.length; i += 1) {
      for (let j = i + 1; j < groups.length; j += 1) {
        for (const a of groups[i]!) {
          for (const b of groups[j]!) {
            this.upsertRule(cluster, a, b, { dropOutbound: true, dropInbound: true });
            this.upsertRule(cluster, b, a, { dropOutbound: true, dropInbound: true });
          }
        }
      }
    }
    await this.push(cluster, groups.flat());
  }

  /**
   * Replaces every agent's rules with `rules` (agents not listed get none) and the
   * set of nodes cut from the control server; pushes to the agents whose rules changed.
   * A scenario step: the whole network at once, not a change to it. `lease` (tag,
   * and a lease other than the default) holds for the cluster's pushes until heal.
   */
  async replaceAll(
    cluster: ClusterState,
    rules: ReadonlyMap<NodeId, FaultRule[]>,
    controlPlaneCut: readonly NodeId[],
    lease?: Partial<FaultLease>,
  ): Promise<void> {
    if (lease) this.held.set(cluster.clusterId, { cluster, lease: { ...this.leaseOf(cluster.clusterId), ...lease } });
    const changed: NodeId[] = [];
    for (const [id, state] of cluster.nodes) {
      const next = (rules.get(id) ?? []).filter(faultRuleActive).sort((a, b) => a.peerId.localeCompare(b.peerId));
      if (JSON.stringify(next) !== JSON.stringify(state.faults)) changed.push(id);
      state.faults = next;
      state.controlPlaneCut = controlPlaneCut.includes(id);
    }
    await this.push(cluster, changed);
  }

  /** Heals the link between two nodes, or every fault when no pair is given. */
  async heal(cluster: ClusterState, pair?: { from: NodeId; to: NodeId }): Promise<void> {
    if (!pair) {
      for (const state of cluster.nodes.values()) state.controlPlaneCut = false;
      const owners = [...cluster.nodes.entries()].filter(([, state]) => state.faults.length > 0).map(([id]) => id);
      for (const owner of owners) cluster.node(owner).faults = [];
      await this.push(cluster, owners);
      return;
    }
    this.requireNode(cluster, pair.from);
    this.requireNode(cluster, pair.to);
    const drop = (owner: NodeId, peer: NodeId) => {
      const state = cluster.node(owner);
      state.faults = state.faults.filter((rule) => rule.peerId !== peer);
    };
    drop(pair.from, pair.to);
    drop(pair.to, pair.from);
    await this.push(cluster, [pair.from, pair.to]);
  }

  /** Re-sends an agent's rules (after it reconnects). */
  async resend(cluster: ClusterState, agentId: NodeId): Promise<void> {
    await this.push(cluster, [agentId]);
  }

  /** The command that gives `agentId` its desired rules under the cluster's lease. */
  commandFor(cluster: ClusterState, agentId: NodeId): AgentCommand {
    const lease = this.leaseOf(cluster.clusterId);
    return { type: 'set-faults', rules: cluster.node(agentId).faults, ttlMs: lease.ttlMs, ...(lease.tag !== undefined && { tag: lease.tag }) };
  }

  private async push(cluster: ClusterState, agents: NodeId[]): Promise<void> {
    this.options.rulesChanged?.(cluster);
    const unique = [...new Set(agents)];
    const commands = unique.map((agentId) => this.commandFor(cluster, agentId));
    this.track(cluster);
    const results = await Promise.all(unique.map((agentId, index) => this.send(cluster.clusterId, agentId, commands[index]!)));
    const refused = unique.flatMap((agentId, index) => {
      const result = results[index];
      return typeof result === 'object' ? [`${agentId}: ${result.refused}`] : [];
    });
    if (refused.length > 0) throw new AppError('conflict', `rules refused by ${refused.join('; ')}`);
    const missed = unique.filter((_, index) => results[index] === false);
    if (missed.length > 0) {
      throw new AppError('unavailable', `rules saved but not delivered to ${missed.join(', ')} (not connected); they apply on reconnect`);
    }
  }

  /** Keeps renewing the cluster's leases while any of its agents holds rules; forgets its lease (tag included) once none does. */
  private track(cluster: ClusterState): void {
    const holding = [...cluster.nodes.values()].some((state) => state.faults.length > 0);
    if (!holding) this.held.delete(cluster.clusterId);
    else if (!this.held.has(cluster.clusterId)) this.held.set(cluster.clusterId, { cluster, lease: this.leaseOf(cluster.clusterId) });
  }

  /** Re-sends the rules of every agent that holds some, so their leases never run out while the server wants them. */
  private async renewLeases(): Promise<void> {
    for (const { cluster } of [...this.held.values()]) {
      const holders = [...cluster.nodes.entries()].filter(([, state]) => state.faults.length > 0).map(([id]) => id);
      // Undelivered renewals are not news: the agent gets its rules again when it reconnects.
      await Promise.all(holders.map((agentId) => this.send(cluster.clusterId, agentId, this.commandFor(cluster, agentId)).catch(() => false)));
    }
  }
}
