/** The real transport: one UDP socket per agent. */
import { type Socket, createSocket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import type { Endpoint, Transport } from './transport';

/** Largest datagram the agent sends or accepts, in bytes. */
export const datagramBytesMax = 1400;

export class UdpTransport implements Transport {
  private handler: (bytes: Uint8Array, from: Endpoint) => void = () => undefined;
  /** Datagrams that failed to send (for example no route); counted, not thrown. */
  sendErrors = 0;

  private constructor(
    private readonly socket: Socket,
    readonly local: Endpoint,
  ) {
    socket.on('message', (bytes, remote) => {
      if (bytes.length > datagramBytesMax) return;
      this.handler(bytes, { host: remote.address, port: remote.port });
    });
    socket.on('error', () => {
      this.sendErrors += 1;
    });
  }

  /** Binds a UDP socket on `local` (port 0 picks a free one). */
  static async bind(local: Endpoint): Promise<UdpTransport> {
    const socket = createSocket({ type: isIPv6(local.host) ? 'udp6' : 'udp4' });
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(local.port, local.host, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    const address = socket.address();
    return new UdpTransport(socket, { host: address.address, port: address.port });
  }

  send(to: Endpoint, bytes: Uint8Array): void {
    if (bytes.length > datagramBytesMax) throw new RangeError(`datagram of ${bytes.length} bytes exceeds ${datagramBytesMax}`);
    this.socket.send(bytes, to.port, to.host, (error) => {
      if (error) this.sendErrors += 1;
    });
  }

  onMessage(handler: (bytes: Uint8Array, from: Endpoint) => void): void {
    this.handler = handler;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.socket.close(() => resolve()));
  }
}
