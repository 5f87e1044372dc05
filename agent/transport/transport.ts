/**
 * The datagram boundary of an agent. The real one is UDP; the in-memory twin
 * delivers between transports of one process, for deterministic tests.
 */

/** Where a datagram goes or came from. */
export interface Endpoint {
  host: string;
  port: number;
}

/** Sends and receives datagrams. */
export interface Transport {
  /** The local endpoint datagrams arrive at. */
  readonly local: Endpoint;
  /** Sends one datagram; never throws for an unreachable destination (that is what partitions are). */
  send(to: Endpoint, bytes: Uint8Array): void;
  /** Registers the receiver (one per transport). */
  onMessage(handler: (bytes: Uint8Array, from: Endpoint) => void): void;
  close(): Promise<void>;
}

/** Formats an endpoint as "host:port". */
export const endpointKey = (endpoint: Endpoint) => `${endpoint.host}:${endpoint.port}`;

/** Parses "host:port" (IPv4, name, or [IPv6]); throws RangeError naming the problem. */
export function parseEndpoint(text: string): Endpoint {
  const match = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(text.trim());
  if (!match) throw new RangeError(`"${text}" is not host:port`);
  const port = Number(match[2]);
  if (port < 1 || port > 65535) throw new RangeError(`port of "${text}" must be 1..65535`);
  return { host: match[1]!.replace(/^\[|\]$/g, ''), port };
}

/** A shared in-memory network for `MemoryTransport`s. */
export class MemoryNetwork {
  private readonly handlers = new Map<string, (bytes: Uint8Array, from: Endpoint) => void>();

  attach(local: Endpoint, handler: (bytes: Uint8Array, from: Endpoint) => void): void {
    this.handlers.set(endpointKey(local), handler);
  }

  detach(local: Endpoint): void {
    this.handlers.delete(endpointKey(local));
  }

  deliver(from: Endpoint, to: Endpoint, bytes: Uint8Array): void {
    const handler = this.handlers.get(endpointKey(to));
    if (handler) queueMicrotask(() => handler(bytes.slice(), from));
  }
}

/** In-memory twin of the UDP transport. */
export class MemoryTransport implements Transport {
  private handler: (bytes: Uint8Array, from: Endpoint) => void = () => undefined;

  constructor(
    private readonly network: MemoryNetwork,
    readonly local: Endpoint,
  ) {
    network.attach(local, (bytes, from) => this.handler(bytes, from));
  }

  send(to: Endpoint, bytes: Uint8Array): void {
    this.network.deliver(this.local, to, bytes);
  }

  onMessage(handler: (bytes: Uint8Array, from: Endpoint) => void): void {
    this.handler = handler;
  }

  async close(): Promise<void> {
    this.network.detach(this.local);
  }
}
