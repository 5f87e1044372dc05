/**
 * A transport wrapper for tests that holds back datagrams sent to chosen endpoints
 * and sends them later, from the same socket, when told: a datagram sent before a
 * heal that arrives after it, on a real network path. Bounded: it holds at most
 * `heldDatagramsMax`, past which it drops (and counts) the rest.
 */
import { type Endpoint, type Transport, endpointKey } from '../transport/transport';

/** Datagrams held at most; a test that holds more is a bug. */
export const heldDatagramsMax = 10_000;

export class HoldingTransport implements Transport {
  private readonly holding = new Set<string>();
  private held: { to: Endpoint; bytes: Uint8Array }[] = [];
  /** Datagrams dropped because the hold was full. */
  overflowed = 0;

  constructor(private readonly inner: Transport) {}

  get local(): Endpoint {
    return this.inner.local;
  }

  /** From now on, datagrams to these endpoints are held instead of sent. */
  hold(...endpoints: Endpoint[]): void {
    for (const endpoint of endpoints) this.holding.add(endpointKey(endpoint));
  }

  /** Datagrams waiting. */
  heldCount(): number {
    return this.held.length;
  }

  /** Stops holding and sends everything held, in order; returns how many. */
  release(): number {
    const held = this.held;
    this.held = [];
    this.holding.clear();
    for (const datagram of held) this.inner.send(datagram.to, datagram.bytes);
    return held.length;
  }

  send(to: Endpoint, bytes: Uint8Array): void {
    if (!this.holding.has(endpointKey(to))) return this.inner.send(to, bytes);
    if (this.held.length >= heldDatagramsMax) this.overflowed += 1;
    else this.held.push({ to, bytes: Uint8Array.from(bytes) });
  }

  onMessage(handler: (bytes: Uint8Array, from: Endpoint) => void): void {
    this.inner.onMessage(handler);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
