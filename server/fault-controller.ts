/**
 * Fault injection on demand: keeps the desired drop rules of every agent and
 * pushes them to the agent's transport. Rules are re-sent when an agent
 * reconnects, so a cut outlives a reconnect; heal removes them.
 */
import { type AgentCommand, type FaultRule, type NodeId, faultRuleActive } from '../core/protocol';
import { AppError } from './app-error';
import type { ClusterState } from './cluster-view';

/** Sends a command to one agent; resolves false when the agent is not connected. */
export type CommandSender = (clusterId: string, agentId: NodeId, command: AgentCommand) => Promise<boolean>;

/** A requested cut. `oneWay` cuts only datagrams from `from` to `to`. */
export interface CutRequest {
  from: NodeId;
  to: NodeId;
  oneWay: boolean;
}

export class FaultController {
  /** `rulesChanged` hears of every change before it is pushed (other server instances keep the same rules). */
  constructor(
    private readonly send: CommandSender,
    private readonly rulesChanged: (cluster: ClusterState) => void = () => undefined,
  ) {}

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
   * untrusted traffic, which accuses no node); `delayMs` and `jitterMs` slow the link
   * both ways (every datagram still arrives). Zero lifts any of them.
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
    const slow = { ...(request.delayMs !== undefined && { delayMs: request.delayMs }), ...(request.jitterMs !== undefined && { jitterMs: request.jitterMs }) };
    if (Object.keys(slow).length > 0) {
      this.upsertRule(cluster, request.from, request.to, slow);
      this.upsertRule(cluster, request.to, request.from, slow);
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
   * A scenario step: the whole network at once, not a change to it.
   */
  async replaceAll(cluster: ClusterState, rules: ReadonlyMap<NodeId, FaultRule[]>, controlPlaneCut: readonly NodeId[]): Promise<void> {
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

  private async push(cluster: ClusterState, agents: NodeId[]): Promise<void> {
    this.rulesChanged(cluster);
    const unique = [...new Set(agents)];
    const results = await Promise.all(
      unique.map((agentId) =>
        this.send(cluster.clusterId, agentId, { type: 'set-faults', rules: cluster.node(agentId).faults }),
      ),
    );
    const missed = unique.filter((_, index) => !results[index]);
    if (missed.length > 0) {
      throw new AppError('unavailable', `rules saved but not delivered to ${missed.join(', ')} (not connected); they apply on reconnect`);
    }
  }
}
