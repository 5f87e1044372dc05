/**
 * Where an agent's injected faults act, and the safety around them. The agent asks
 * for a layer (`--network-faults kernel|transport`, transport by default); `kernel`
 * is used only when the probe finds nftables usable by this process, and the log
 * and every report say which layer is in use and why. The transport layer is the
 * agent's own UDP transport, as before.
 *
 * Safety, as Chaos Mesh, Toxiproxy and Pumba do it:
 * - refusal: rules for peers the agent does not know, twice for one peer, or more
 *   rules than it has peers are refused, and nothing changes (fault-scope.ts);
 * - deadline: every rule set is a lease (`ttlMs` of the command, or `--fault-ttl-ms`);
 *   when it passes unrenewed the agent heals by itself (and the kernel forgets the
 *   nft map elements at the same moment, even if the agent is gone);
 * - dead man's switch: when the link to the server has been down for
 *   `--server-loss-heal-ms`, the agent heals everything;
 * - start-up cleanup: in kernel mode, Faultline rules a killed earlier run left are
 *   removed before anything else;
 * - abort: `heal-all` (or an empty `set-faults`) heals at once, before the reply;
 * - stop: a graceful agent stop heals too.
 * Commands are applied one at a time, in order.
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { FaultInjectionStatus, FaultRule, Reply } from '../../core/protocol';
import type { FaultInjectingTransport } from '../transport/fault-injecting-transport';
import type { Endpoint } from '../transport/transport';
import { clusterPorts, refusalOf } from './fault-scope';
import { type CommandRunner, KernelFaults, devicesOf, probeKernelFaults, runCommand } from './kernel-faults';
import type { ClusterPort, PeerAddress } from './nft-script';

type Log = (level: 'info' | 'warn', message: string, fields?: Record<string, unknown>) => void;
type SelfHealReason = NonNullable<FaultInjectionStatus['lastSelfHeal']>['reason'];

/** Settings of the fault layer, from the agent's configuration. */
export interface FaultLayerOptions {
  /** The layer asked for (`--network-faults`). */
  mode: 'kernel' | 'transport';
  transport: FaultInjectingTransport;
  peers: readonly { id: string; endpoint: Endpoint }[];
  /** The agent's own heartbeat port (a cluster port). */
  listenPort: number;
  /** More cluster ports (`--fault-ports`). */
  extraPorts: readonly ClusterPort[];
  /** Lease of a command that carries none (`--fault-ttl-ms`). */
  defaultTtlMs: number;
  /** How long the server may be gone before the agent heals (`--server-loss-heal-ms`). */
  serverLossHealMs: number;
  log: Log;
  nowMs: () => number;
  /** Runs nft, tc and ip (tests may watch it); execFile by default. */
  run?: CommandRunner;
}

/** A set of rules to hold: the agent's part of a `set-faults` command. */
export interface FaultOrder {
  rules: readonly FaultRule[];
  ttlMs?: number;
  tag?: string;
}

/** Resolves each peer's host to one IP literal (names through the resolver); null with the reason when one cannot be. */
async function peerAddresses(peers: FaultLayerOptions['peers']): Promise<{ peers: Map<string, PeerAddress> } | { reason: string }> {
  const resolved = new Map<string, PeerAddress>();
  for (const peer of peers) {
    let address = peer.endpoint.host;
    if (isIP(address) === 0) {
      try {
        address = (await lookup(address)).address;
      } catch (error) {
        return { reason: `peer ${peer.id}'s host ${peer.endpoint.host} does not resolve (${(error as Error).message.slice(0, 80)})` };
      }
    }
    resolved.set(peer.id, { peerId: peer.id, address, family: isIP(address) === 6 ? 'ip6' : 'ip' });
  }
  return { peers: resolved };
}

export class FaultLayer {
  private rules: readonly FaultRule[] = [];
  private tag: string | null = null;
  private expiresAtMs: number | null = null;
  private deadline: NodeJS.Timeout | null = null;
  private serverLoss: NodeJS.Timeout | null = null;
  private lastSelfHeal: FaultInjectionStatus['lastSelfHeal'] = null;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly peerIds: Set<string>;

  private constructor(
    private readonly options: FaultLayerOptions,
    private readonly kernel: KernelFaults | null,
    private readonly layer: Pick<FaultInjectionStatus, 'layer' | 'delayLayer' | 'reason'>,
  ) {
    this.peerIds = new Set(options.peers.map((peer) => peer.id));
  }

  /** Picks the layer (probing the kernel when asked to), cleans up a killed run's rules, and says which layer is in use. */
  static async start(options: FaultLayerOptions): Promise<FaultLayer> {
    const layer = await FaultLayer.pick(options);
    options.log('info', 'fault injection layer', { layer: layer.layer.layer, delayLayer: layer.layer.delayLayer, reason: layer.layer.reason });
    if (layer.kernel) {
      const leftover = await layer.kernel.heal();
      if (leftover) {
        layer.lastSelfHeal = { atMs: options.nowMs(), reason: 'startup-cleanup' };
        options.log('warn', 'removed Faultline kernel rules left by an earlier run');
      }
    }
    return layer;
  }

  private static async pick(options: FaultLayerOptions): Promise<FaultLayer> {
    if (options.mode === 'transport') {
      return new FaultLayer(options, null, { layer: 'transport', delayLayer: 'transport', reason: '--network-faults transport (the default): faults act in the agent\'s own transport only' });
    }
    const fallBack = (why: string) => new FaultLayer(options, null, { layer: 'transport', delayLayer: 'transport', reason: `kernel faults asked for, but ${why}: faults act in the agent's transport` });
    const addresses = await peerAddresses(options.peers);
    if ('reason' in addresses) return fallBack(addresses.reason);
    const run = options.run ?? runCommand;
    const probe = await probeKernelFaults(run);
    if (!probe.usable) return fallBack(probe.reason);
    const ports = clusterPorts(options.listenPort, options.peers.map((peer) => peer.endpoint.port), options.extraPorts);
    const devices = probe.netem ? await devicesOf(addresses.peers, run) : null;
    const kernel = new KernelFaults(addresses.peers, ports, devices, run);
    return new FaultLayer(options, kernel, { layer: 'kernel', delayLayer: probe.netem ? 'kernel' : 'transport', reason: probe.reason });
  }

  /** Holds `order` from now on (an empty rule set heals); refuses it, changing nothing, when its rules are out of scope. */
  apply(order: FaultOrder): Promise<Reply<null>> {
    return this.serially(async () => {
      const refusal = refusalOf(order.rules, this.peerIds);
      if (refusal) {
        this.options.log('warn', 'fault rules refused', { reason: refusal, rules: order.rules.length });
        return { ok: false, code: 'invalid_input', message: refusal };
      }
      if (order.rules.length === 0) {
        await this.healNow();
        return { ok: true, data: null };
      }
      const ttlMs = order.ttlMs ?? this.options.defaultTtlMs;
      const expiresAtMs = this.options.nowMs() + ttlMs;
      try {
        const delayedInKernel = this.kernel ? await this.kernel.apply(order.rules, { ttlMs, tag: order.tag ?? null, expiresAtMs }) : new Set<string>();
        this.options.transport.setRules(this.kernel ? transportShare(order.rules, delayedInKernel) : order.rules);
      } catch (error) {
        this.options.log('warn', 'kernel fault rules not applied; healing', { error: (error as Error).message });
        await this.healNow().catch(() => undefined);
        return { ok: false, code: 'internal', message: `kernel rules not applied: ${(error as Error).message}` };
      }
      this.rules = order.rules;
      this.tag = order.tag ?? null;
      this.expiresAtMs = expiresAtMs;
      if (this.deadline) clearTimeout(this.deadline);
      this.deadline = setTimeout(() => void this.selfHeal('deadline'), ttlMs);
      this.deadline.unref();
      return { ok: true, data: null };
    });
  }

  /** The link to the server went down or came back: arms or disarms the dead man's switch. */
  serverLinkChanged(up: boolean): void {
    if (up) {
      if (this.serverLoss) clearTimeout(this.serverLoss);
      this.serverLoss = null;
      return;
    }
    if (this.serverLoss) return;
    this.serverLoss = setTimeout(() => {
      this.serverLoss = null;
      void this.selfHeal('server-lost');
    }, this.options.serverLossHealMs);
    this.serverLoss.unref();
  }

  /** What the agent reports about its faults. */
  status(): FaultInjectionStatus {
    return { ...this.layer, rules: this.rules.length, expiresAtMs: this.expiresAtMs, tag: this.tag, lastSelfHeal: this.lastSelfHeal };
  }

  /** Heals (a graceful stop leaves no rule behind) and stops the timers. */
  async close(): Promise<void> {
    if (this.serverLoss) clearTimeout(this.serverLoss);
    await this.serially(() => this.healNow()).catch((error: unknown) => this.options.log('warn', 'fault rules not removed at stop', { error: (error as Error).message }));
  }

  private selfHeal(reason: SelfHealReason): Promise<void> {
    return this.serially(async () => {
      if (this.rules.length === 0) return;
      this.options.log('warn', 'healing by itself', { reason, rules: this.rules.length, tag: this.tag });
      this.lastSelfHeal = { atMs: this.options.nowMs(), reason };
      await this.healNow();
    }).catch((error: unknown) => this.options.log('warn', 'self-heal failed', { reason, error: (error as Error).message }));
  }

  private async healNow(): Promise<void> {
    if (this.deadline) clearTimeout(this.deadline);
    this.deadline = null;
    this.options.transport.setRules([]);
    this.rules = [];
    this.tag = null;
    this.expiresAtMs = null;
    await this.kernel?.heal();
  }

  private serially<T>(work: () => Promise<T>): Promise<T> {
    const next = this.queue.then(work, work);
    this.queue = next.catch(() => undefined);
    return next;
  }
}

/** What the transport keeps when the kernel holds the rules: the delays netem did not take. */
export function transportShare(rules: readonly FaultRule[], delayedInKernel: ReadonlySet<string>): FaultRule[] {
  return rules
    .filter((rule) => (rule.delayMs ?? 0) > 0 && !delayedInKernel.has(rule.peerId))
    .map((rule) => ({ peerId: rule.peerId, dropOutbound: false, dropInbound: false, delayMs: rule.delayMs, ...(rule.jitterMs !== undefined && { jitterMs: rule.jitterMs }) }));
}
