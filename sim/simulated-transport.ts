/**
 * The simulator's twin of the UDP transport (memberlist's way: the real membership
 * over a mock transport). A node's `Membership` sends through it; the simulated
 * network decides each datagram's fate and the cluster simulation delivers it on the
 * virtual clock by calling `Membership.receive` itself, so no handler is kept here.
 * Each node is addressed as `<node id>:7946`.
 */
import type { NodeId } from '../core/protocol';
import type { Endpoint, Transport } from '../agent/transport/transport';

/** The port every simulated node listens on (memberlist's default, for readable evidence sources). */
export const simulatedPort = 7946;

/** The endpoint of a simulated node. */
export const simulatedEndpoint = (node: NodeId): Endpoint => ({ host: node, port: simulatedPort });

/** Hands every datagram a node sends to the simulation, which knows the virtual time. */
export class SimulatedTransport implements Transport {
  readonly local: Endpoint;

  constructor(
    node: NodeId,
    private readonly sent: (to: NodeId, bytes: Uint8Array) => void,
  ) {
    this.local = simulatedEndpoint(node);
  }

  send(to: Endpoint, bytes: Uint8Array): void {
    this.sent(to.host, bytes);
  }

  /** Deliveries go straight to `Membership.receive` (see cluster-sim.ts); nothing to register. */
  onMessage(): void {}

  async close(): Promise<void> {}
}
