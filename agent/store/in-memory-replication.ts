/**
 * The in-memory twin of the replication transport: stores on one simulated network,
 * messages queued and delivered in order when the test says so, links that can be cut
 * to make partitions, and links that can be slowed so that their messages arrive late
 * (after a heal, after a reconciliation). Deterministic: no timers, no randomness.
 */
import type { NodeId } from '../../core/protocol';
import type { VersionedEntry } from '../../core/reconcile/resolver';
import type { KvStore, ReplicationTransport } from './kv-store';

/** Messages one network holds before it refuses more (a test that never delivers is a bug). */
export const networkQueueMax = 1_000_000;

interface Message {
  from: NodeId;
  to: NodeId;
  entries: readonly VersionedEntry[];
}

/** A simulated network connecting stores. */
export class InMemoryReplicationNetwork {
  private readonly stores = new Map<NodeId, KvStore>();
  private readonly cutLinks = new Set<string>();
  private readonly slowLinks = new Set<string>();
  private queue: Message[] = [];
  /** Messages sent on a slow link, held back until `releaseDelayed`. */
  private delayed: Message[] = [];
  private queueHead = 0;
  private dropped = 0;

  /** Adds a store and wires its transport to this network. */
  join(store: KvStore): void {
    this.stores.set(store.nodeId, store);
    store.setTransport(this.transportFor(store.nodeId));
  }

  /** The transport of one node. Sends across cut links are dropped, as a real partition would. */
  transportFor(nodeId: NodeId): ReplicationTransport {
    return {
      broadcast: (from, entries) => {
        for (const to of this.stores.keys()) {
          if (to === nodeId) continue;
          if (this.cutLinks.has(`${from}>${to}`)) {
            this.dropped++;
            continue;
          }
          if (this.queue.length - this.queueHead + this.delayed.length >= networkQueueMax) throw new Error('in-memory network queue full');
          if (this.slowLinks.has(`${from}>${to}`)) this.delayed.push({ from, to, entries });
          else this.queue.push({ from, to, entries });
        }
      },
    };
  }

  /** Cuts every link between nodes of different sides (both directions). */
  partition(sides: readonly (readonly NodeId[])[]): void {
    this.cutLinks.clear();
    sides.forEach((side, index) => {
      for (const other of sides.slice(index + 1)) {
        for (const a of side) {
          for (const b of other) {
            this.cutOneWay(a, b);
            this.cutOneWay(b, a);
          }
        }
      }
    });
  }

  /** Cuts one direction only (asymmetric partitions). */
  cutOneWay(from: NodeId, to: NodeId): void {
    this.cutLinks.add(`${from}>${to}`);
  }

  /**
   * Slows one direction: messages sent on it from now on are held back (not lost) until
   * `releaseDelayed`, like a datagram stuck in a queue that arrives after the heal.
   */
  delayLink(from: NodeId, to: NodeId): void {
    this.slowLinks.add(`${from}>${to}`);
  }

  /** Ends every slow link and queues the held messages behind the others; returns how many. */
  releaseDelayed(): number {
    const released = this.delayed.length;
    this.queue.push(...this.delayed);
    this.delayed = [];
    this.slowLinks.clear();
    return released;
  }

  /** Restores every link. Messages dropped while cut stay lost. */
  heal(): void {
    this.cutLinks.clear();
  }

  /** Delivers queued messages in order (at most `messagesMax`), dropping those whose link is now cut. */
  deliverAll(messagesMax: number = networkQueueMax): number {
    let delivered = 0;
    while (this.queueHead < this.queue.length && delivered < messagesMax) {
      const message = this.queue[this.queueHead++];
      if (message === undefined) break;
      if (this.cutLinks.has(`${message.from}>${message.to}`)) {
        this.dropped++;
        continue;
      }
      this.stores.get(message.to)?.receive(message.entries);
      delivered++;
    }
    this.queue = this.queue.slice(this.queueHead);
    this.queueHead = 0;
    return delivered;
  }

  /** Messages dropped by cut links so far. */
  droppedCount(): number {
    return this.dropped;
  }
}
