/**
 * Replication of the reference store between agents, over the agent's own cluster
 * socket: the store hands each accepted write to `broadcast`, which queues it for
 * every peer; a short moment later the queues are packed into signed datagrams of at
 * most `datagramBytesMax` bytes and sent through the fault-injecting transport, so an
 * injected partition cuts replication exactly as it cuts heartbeats. Arriving
 * datagrams are verified, checked against a per-sender replay window and merged into
 * the store; bad ones become evidence, counted as membership counts them. An entry
 * too large for one datagram (a value over about 1.2 KB) goes as several signed
 * fragments, each its own datagram and sequence number, reassembled by the receiver
 * within bounds of memory and time; the store refuses values past `valueBytesMax`, so
 * every accepted write is replicated. Fire and forget: what a cut, a lost fragment or a
 * full queue loses is what reconciliation repairs.
 */
import { EvidenceLedger } from '../core/evidence-ledger';
import type { Evidence, NodeId } from '../core/protocol';
import type { VersionedEntry } from '../core/reconcile/resolver';
import { type ReplayWindow, admitSequence, createReplayWindow } from '../core/replay-window';
import { type ReplicationEnvelope, decodeReplication, packReplication, replicationPacketType } from './replication-codec';
import { decodeEntryBlob, decodeReplicationFragment, packFragments } from './replication-fragments';
import { FragmentReassembly, type ReassemblyStats } from './replication-reassembly';
import type { KvStore, ReplicationTransport } from './store/kv-store';
import { type Endpoint, type Transport, endpointKey } from './transport/transport';

/** Entries waiting for one peer; past it the oldest are dropped (and counted), since the peer is probably cut off. */
export const replicationQueueEntriesMax = 10_000;
/** How long a write waits so that writes close together share a datagram (ms). */
export const replicationFlushDelayMs = 5;
/** Datagrams (fragments included) sent to one peer per flush; the rest wait for the next flush, so one flush is bounded work. */
export const replicationDatagramsPerFlushMax = 64;

/** One configured peer. */
export interface ReplicationPeer {
  id: NodeId;
  endpoint: Endpoint;
}

/** Settings of the replicator. */
export interface ReplicatorOptions {
  clusterId: string;
  selfId: NodeId;
  /** This process's incarnation; a restarted sender is not taken for a replayer. */
  incarnation: number;
  /** HMAC key shared by the cluster's agents. */
  clusterKey: string;
  peers: readonly ReplicationPeer[];
  /** Sends datagrams; the agent's fault-injecting transport. */
  transport: Pick<Transport, 'send'>;
  /** Store that receives peers' writes. */
  store: KvStore;
  nowMs: () => number;
  /** Per-peer queue bound (default `replicationQueueEntriesMax`). */
  queueEntriesMax?: number;
}

/** Cumulative counters, for logs, tests and benchmarks. */
export interface ReplicationStats {
  datagramsSent: number;
  entriesSent: number;
  datagramsReceived: number;
  entriesReceived: number;
  /** Received entries that were newer than the local version and so were stored. */
  entriesApplied: number;
  /** Received entries refused because a reconciliation had already discarded them (at or before their key's floor). */
  entriesBelowFloor: number;
  /** Entries dropped from a full peer queue. */
  queueDropped: number;
  /** Entries sent as fragments (each also counted once in `entriesSent`). */
  entriesFragmented: number;
  /** Fragment datagrams sent (also counted in `datagramsSent`). */
  fragmentsSent: number;
  /** Fragment datagrams admitted (also counted in `datagramsReceived`). */
  fragmentsReceived: number;
  /** Entries too large even for `fragmentsPerEntryMax` fragments (none while the store enforces `valueBytesMax`). */
  oversizeDropped: number;
  /** Datagrams refused (bad signature, malformed, forged sender, replay, contradiction). */
  datagramsRefused: number;
}

interface PeerQueue {
  peer: ReplicationPeer;
  entries: VersionedEntry[];
}

export class Replicator implements ReplicationTransport {
  private readonly queues: PeerQueue[];
  private readonly peersById = new Map<string, ReplicationPeer>();
  private readonly peersByEndpoint = new Map<string, ReplicationPeer>();
  private readonly windows = new Map<string, ReplayWindow>();
  private readonly evidence = new EvidenceLedger();
  private readonly reassembly = new FragmentReassembly();
  private readonly queueEntriesMax: number;
  private sequence = 0;
  private flushTimer: ReturnType<typeof setTimeout> | null = null;
  private closed = false;
  private readonly counters: ReplicationStats = {
    datagramsSent: 0,
    entriesSent: 0,
    datagramsReceived: 0,
    entriesReceived: 0,
    entriesApplied: 0,
    entriesBelowFloor: 0,
    queueDropped: 0,
    entriesFragmented: 0,
    fragmentsSent: 0,
    fragmentsReceived: 0,
    oversizeDropped: 0,
    datagramsRefused: 0,
  };

  constructor(private readonly options: ReplicatorOptions) {
    this.queueEntriesMax = options.queueEntriesMax ?? replicationQueueEntriesMax;
    this.queues = options.peers.map((peer) => ({ peer, entries: [] }));
    for (const peer of options.peers) {
      this.peersById.set(peer.id, peer);
      this.peersByEndpoint.set(endpointKey(peer.endpoint), peer);
      this.windows.set(peer.id, createReplayWindow());
    }
  }

  /** Queues this node's accepted writes for every peer (the store's replication seam). */
  broadcast(_from: NodeId, entries: readonly VersionedEntry[]): void {
    if (this.closed) return;
    for (const queue of this.queues) {
      queue.entries.push(...entries);
      const excess = queue.entries.length - this.queueEntriesMax;
      if (excess > 0) {
        queue.entries.splice(0, excess);
        this.counters.queueDropped += excess;
      }
    }
    this.scheduleFlush(replicationFlushDelayMs);
  }

  private scheduleFlush(delayMs: number): void {
    if (this.flushTimer !== null || this.closed) return;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = null;
      this.flush();
    }, delayMs);
    this.flushTimer.unref?.();
  }

  /** Packs and sends queued entries, at most `replicationDatagramsPerFlushMax` datagrams per peer; reschedules if more remain. */
  flush(): void {
    let remaining = false;
    for (const queue of this.queues) {
      for (let sent = 0; sent < replicationDatagramsPerFlushMax && queue.entries.length > 0; ) {
        const used = this.sendOne(queue, replicationDatagramsPerFlushMax - sent);
        if (used === null) break;
        sent += used;
      }
      if (queue.entries.length > 0) remaining = true;
    }
    if (remaining) this.scheduleFlush(0);
  }

  private head(): ReplicationEnvelope {
    return { clusterId: this.options.clusterId, from: this.options.selfId, incarnation: this.options.incarnation, sequence: this.sequence + 1, sentAtMs: this.options.nowMs() };
  }

  /** Sends the front of the queue: datagrams used, or null when the next entry needs more fragments than `budget` (it waits for the next flush). */
  private sendOne(queue: PeerQueue, budget: number): number | null {
    const packed = packReplication(this.options.clusterKey, this.head(), queue.entries);
    if (packed.packet === null) return this.sendFragmented(queue, budget);
    queue.entries.splice(0, packed.taken);
    this.sequence += 1;
    this.options.transport.send(queue.peer.endpoint, packed.packet);
    this.counters.datagramsSent += 1;
    this.counters.entriesSent += packed.taken;
    return 1;
  }

  private sendFragmented(queue: PeerQueue, budget: number): number | null {
    const entry = queue.entries[0] as VersionedEntry;
    const fragments = packFragments(this.options.clusterKey, this.head(), entry);
    if (fragments === null) {
      queue.entries.shift();
      this.counters.oversizeDropped += 1;
      return 0;
    }
    if (fragments.length > budget) return null;
    queue.entries.shift();
    this.sequence += fragments.length;
    for (const fragment of fragments) this.options.transport.send(queue.peer.endpoint, fragment);
    this.counters.datagramsSent += fragments.length;
    this.counters.fragmentsSent += fragments.length;
    this.counters.entriesFragmented += 1;
    this.counters.entriesSent += 1;
    return fragments.length;
  }

  /** Refuses a datagram, counting it against where it came from (a contradiction alone accuses the node it names); see Membership.receive. */
  private refuse(kind: Evidence['kind'], named: string | undefined, source: string, linkPeerId: string | undefined, nowMs: number): void {
    this.counters.datagramsRefused += 1;
    const namedId = named !== undefined && this.peersById.has(named) ? named : undefined;
    this.evidence.record({ kind, namedId, source, linkPeerId }, nowMs);
  }

  /**
   * Checks the sender of a verified datagram (a configured peer of this cluster, on its
   * own link) and its replay window; the peer when admitted, null when refused or an
   * exact duplicate. Refused datagrams never touch the named peer's replay window.
   */
  private admit(envelope: ReplicationEnvelope, digest: string, source: string, linkPeerId: string | undefined, nowMs: number): ReplicationPeer | null {
    const claimed = this.peersById.get(envelope.from);
    let refusal: { kind: Evidence['kind']; named: string } | null = null;
    if (!claimed || envelope.clusterId !== this.options.clusterId) refusal = { kind: 'forged-sender', named: envelope.from };
    else if (linkPeerId !== undefined && linkPeerId !== claimed.id) refusal = { kind: 'forged-sender', named: claimed.id };
    else {
      const admission = admitSequence(this.windows.get(claimed.id)!, envelope.incarnation, envelope.sequence, digest);
      if (admission === 'duplicate') return null;
      if (admission !== 'new') refusal = { kind: admission, named: claimed.id };
    }
    if (refusal !== null || !claimed) {
      if (refusal !== null) this.refuse(refusal.kind, refusal.named, source, linkPeerId, nowMs);
      return null;
    }
    this.counters.datagramsReceived += 1;
    return claimed;
  }

  private merge(entries: readonly VersionedEntry[]): void {
    this.counters.entriesReceived += entries.length;
    const merged = this.options.store.receive(entries);
    this.counters.entriesApplied += merged.applied;
    this.counters.entriesBelowFloor += merged.belowFloor;
  }

  /** Handles one replication datagram (whole or fragment, by its tag) from `from`: verify, admit, merge into the store. */
  receive(bytes: Uint8Array, from: Endpoint, nowMs: number): void {
    const source = endpointKey(from);
    const linkPeerId = this.peersByEndpoint.get(source)?.id;
    if (bytes[0] !== replicationPacketType) return this.receiveFragment(bytes, source, linkPeerId, nowMs);
    const decoded = decodeReplication(this.options.clusterKey, bytes);
    if (!decoded.ok) return this.refuse(decoded.reason, decoded.claimedFrom, source, linkPeerId, nowMs);
    if (this.admit(decoded.packet.envelope, decoded.packet.digest, source, linkPeerId, nowMs) === null) return;
    this.merge(decoded.packet.entries);
  }

  private receiveFragment(bytes: Uint8Array, source: string, linkPeerId: string | undefined, nowMs: number): void {
    const decoded = decodeReplicationFragment(this.options.clusterKey, bytes);
    if (!decoded.ok) return this.refuse(decoded.reason, decoded.claimedFrom, source, linkPeerId, nowMs);
    const { fragment } = decoded;
    const peer = this.admit(fragment.envelope, fragment.digest, source, linkPeerId, nowMs);
    if (peer === null) return;
    this.counters.fragmentsReceived += 1;
    const outcome = this.reassembly.add(peer.id, fragment, nowMs);
    if (outcome.kind === 'pending') return;
    const entry = outcome.kind === 'complete' ? decodeEntryBlob(outcome.blob, peer.id) : null;
    if (entry === null) return this.refuse('malformed', peer.id, source, linkPeerId, nowMs);
    this.merge([entry]);
  }

  /** Evidence gathered since the last call (and clears it). */
  takeEvidence(): Evidence[] {
    return this.evidence.drain();
  }

  /** Entries waiting, summed over peers. */
  queuedEntries(): number {
    return this.queues.reduce((sum, queue) => sum + queue.entries.length, 0);
  }

  /** Cumulative counters. */
  stats(): ReplicationStats {
    return { ...this.counters };
  }

  /** The reassembly buffer's counters and current use. */
  reassemblyStats(): ReassemblyStats {
    return this.reassembly.stats();
  }

  /** Stops sending; queued entries are discarded. */
  close(): void {
    this.closed = true;
    if (this.flushTimer !== null) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    for (const queue of this.queues) queue.entries = [];
    this.reassembly.clear();
  }
}
