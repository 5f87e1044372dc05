/**
 * Wraps a transport and drops datagrams to or from chosen peers, on command, or
 * loses, corrupts or delays those sent to a peer (a flaky, corrupting or slow
 * link). This is how a partition is injected portably (no root, no kernel help);
 * with `--network-faults kernel` the kernel does it instead (agent/network-faults),
 * and this transport keeps only what the kernel cannot (delay without netem).
 */
import type { FaultRule } from '../../core/protocol';
import { type Endpoint, type Transport, endpointKey } from './transport';

/** Most datagrams held back by delay rules at once; beyond, new ones are sent undelayed rather than queued without bound. */
export const delayedDatagramsMax = 10_000;

export class FaultInjectingTransport implements Transport {
  private dropOutbound = new Set<string>();
  private dropInbound = new Set<string>();
  private lossRatio = new Map<string, number>();
  private corruptRatio = new Map<string, number>();
  private delay = new Map<string, { delayMs: number; jitterMs: number }>();
  /** Delayed datagrams not sent yet, so close can drop them. */
  private readonly pending = new Set<NodeJS.Timeout>();
  /** Datagrams corrupted on purpose. */
  corruptedCount = 0;
  /** Datagrams dropped on purpose, for the agent's own metrics. */
  droppedCount = 0;

  constructor(
    private readonly inner: Transport,
    /** Resolves a peer id to its endpoint; rules name peers, the network sees endpoints. */
    private readonly endpointOf: (peerId: string) => Endpoint | undefined,
    /** Uniform random numbers in [0, 1) for loss and corruption; seeded in tests. */
    private readonly random: () => number = Math.random,
  ) {}

  get local(): Endpoint {
    return this.inner.local;
  }

  /** Replaces every rule at once (the server sends the full desired set). */
  setRules(rules: readonly FaultRule[]): void {
    const outbound = new Set<string>();
    const inbound = new Set<string>();
    const loss = new Map<string, number>();
    const corrupt = new Map<string, number>();
    const delay = new Map<string, { delayMs: number; jitterMs: number }>();
    for (const rule of rules) {
      const endpoint = this.endpointOf(rule.peerId);
      if (!endpoint) continue;
      const key = endpointKey(endpoint);
      if (rule.dropOutbound) outbound.add(key);
      if (rule.dropInbound) inbound.add(key);
      if ((rule.lossRatio ?? 0) > 0) loss.set(key, rule.lossRatio!);
      if ((rule.corruptRatio ?? 0) > 0) corrupt.set(key, rule.corruptRatio!);
      if ((rule.delayMs ?? 0) > 0) delay.set(key, { delayMs: rule.delayMs!, jitterMs: rule.jitterMs ?? 0 });
    }
    this.dropOutbound = outbound;
    this.dropInbound = inbound;
    this.lossRatio = loss;
    this.corruptRatio = corrupt;
    this.delay = delay;
  }

  send(to: Endpoint, bytes: Uint8Array): void {
    const key = endpointKey(to);
    const lossRatio = this.lossRatio.get(key);
    if (this.dropOutbound.has(key) || (lossRatio !== undefined && this.random() < lossRatio)) {
      this.droppedCount += 1;
      return;
    }
    const corruptRatio = this.corruptRatio.get(key);
    if (bytes.length > 0 && corruptRatio !== undefined && this.random() < corruptRatio) {
      const corrupted = Uint8Array.from(bytes);
      const index = Math.floor(this.random() * corrupted.length);
      corrupted[index] = (corrupted[index] ?? 0) ^ 0xff;
      this.corruptedCount += 1;
      this.sendLater(key, to, corrupted);
      return;
    }
    this.sendLater(key, to, bytes);
  }

  /** Sends now, or after the link's delay (± its jitter, uniform) when it has one. */
  private sendLater(key: string, to: Endpoint, bytes: Uint8Array): void {
    const delay = this.delay.get(key);
    if (!delay || this.pending.size >= delayedDatagramsMax) return this.inner.send(to, bytes);
    const waitMs = Math.max(0, delay.delayMs + (this.random() * 2 - 1) * delay.jitterMs);
    const held = bytes.slice(); // The caller may reuse its buffer before the delay is over.
    const timer = setTimeout(() => {
      this.pending.delete(timer);
      this.inner.send(to, held);
    }, waitMs);
    this.pending.add(timer);
  }

  onMessage(handler: (bytes: Uint8Array, from: Endpoint) => void): void {
    this.inner.onMessage((bytes, from) => {
      if (this.dropInbound.has(endpointKey(from))) {
        this.droppedCount += 1;
        return;
      }
      handler(bytes, from);
    });
  }

  close(): Promise<void> {
    this.pending.forEach(clearTimeout);
    this.pending.clear();
    return this.inner.close();
  }
}
