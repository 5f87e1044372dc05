/**
 * Wraps a transport and drops datagrams to or from chosen peers, on command.
 * This is how a partition is injected portably (no root, no kernel help).
 */
import type { FaultRule } from '../../core/protocol';
import { type Endpoint, type Transport, endpointKey } from './transport';

export class FaultInjectingTransport implements Transport {
  private dropOutbound = new Set<string>();
  private dropInbound = new Set<string>();
  /** Datagrams dropped on purpose, for the agent's own metrics. */
  droppedCount = 0;

  constructor(
    private readonly inner: Transport,
    /** Resolves a peer id to its endpoint; rules name peers, the network sees endpoints. */
    private readonly endpointOf: (peerId: string) => Endpoint | undefined,
  ) {}

  get local(): Endpoint {
    return this.inner.local;
  }

  /** Replaces every rule at once (the server sends the full desired set). */
  setRules(rules: readonly FaultRule[]): void {
    const outbound = new Set<string>();
    const inbound = new Set<string>();
    for (const rule of rules) {
      const endpoint = this.endpointOf(rule.peerId);
      if (!endpoint) continue;
      if (rule.dropOutbound) outbound.add(endpointKey(endpoint));
      if (rule.dropInbound) inbound.add(endpointKey(endpoint));
    }
    this.dropOutbound = outbound;
    this.dropInbound = inbound;
  }

  send(to: Endpoint, bytes: Uint8Array): void {
    if (this.dropOutbound.has(endpointKey(to))) {
      this.droppedCount += 1;
      return;
    }
    this.inner.send(to, bytes);
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
    return this.inner.close();
  }
}
