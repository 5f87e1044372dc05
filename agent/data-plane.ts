/**
 * The agent's data plane: the reference replicated store of this node, replication to
 * peers over the agent's cluster socket, the store's HTTP API (when asked for), the
 * demo write load, the executor of the server's data-plane commands, and the status
 * line each report carries. agent.ts calls `startDataPlane` and routes to it.
 */
import type { DataPlaneStatus, Evidence, NodeId, Reply } from '../core/protocol';
import { reportCounterMax } from '../core/protocol';
import type { DataPlaneReply } from '../core/reconcile/data-plane-commands';
import { type CollectPageLimits, executeDataPlaneCommand } from './data-plane-executor';
import { Replicator } from './replication';
import { replicationPacketType } from './replication-codec';
import { replicationFragmentPacketType } from './replication-fragments';
import type { PostgresAdapter } from './adapters/postgres/postgres-adapter';
import type { DataPlaneTarget } from './config';
import type { DataPlaneAdapter } from './store/data-plane-adapter';
import { KvStore, createStoreAdapter } from './store/kv-store';
import { type StoreHttpHandle, startStoreHttp } from './store/store-http';
import type { Endpoint, Transport } from './transport/transport';
import { type WriteLoad, startWriteLoad } from './write-load';

/** Settings of the data plane. */
export interface DataPlaneOptions {
  clusterId: string;
  selfId: NodeId;
  incarnation: number;
  clusterKey: string;
  peers: readonly { id: NodeId; endpoint: Endpoint }[];
  /** The agent's (fault-injecting) cluster transport; replication sends through it. */
  transport: Pick<Transport, 'send'>;
  nowMs: () => number;
  /** Where the store's HTTP API listens, or null for none. */
  storeListen: Endpoint | null;
  /** Demo writes per second (0: none). */
  writeRatePerSecond: number;
  /** Size of the demo key space. */
  writeKeyCount: number;
  /** Collect-changes page limits (tests make them small). */
  collectLimits?: CollectPageLimits;
  /** The store to fence and reconcile (default: the reference store). */
  target?: DataPlaneTarget;
  /** The agent's log, for the store's errors. */
  log?: (level: 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>) => void;
}

/** What the agent needs of any data plane (the reference store's, or a real store's). */
export interface AgentDataPlane {
  /** Which store: the reference one, or a real Redis. */
  kind: 'reference' | 'redis';
  adapter: DataPlaneAdapter;
  /** Whether a datagram belongs to replication (by its type tag); others go to membership. */
  accepts(bytes: Uint8Array): boolean;
  /** Handles one replication datagram. */
  receive(bytes: Uint8Array, from: Endpoint, nowMs: number): void;
  /** Carries out a data-plane command from the server. */
  execute(command: unknown): Promise<Reply<DataPlaneReply | null>>;
  /** The status line of a report. */
  status(): DataPlaneStatus;
  /** Replication evidence gathered since the last call. */
  takeEvidence(): Evidence[];
  close(): Promise<void>;
}

/** The reference store's data plane. */
export interface DataPlane extends AgentDataPlane {
  kind: 'reference';
  store: KvStore;
  replicator: Replicator;
  /** The store API, or null when not listening. */
  http: StoreHttpHandle | null;
}

const capped = (value: number) => Math.min(reportCounterMax, value);

/**
 * Loads the PostgreSQL adapter (and `pg`) only when the agent uses it. On Node 20, which
 * has no `navigator`, `pg` asks `new Response()` at load whether it runs on Cloudflare
 * Workers; that loads undici, whose WebAssembly the deployed agent's lite mode lacks, and
 * the process dies. Node 21+ answers with its own `navigator`; Node 20 gets the same one.
 */
async function loadPostgresAdapter(): Promise<typeof PostgresAdapter> {
  const global = globalThis as { navigator?: unknown };
  if (global.navigator === undefined) Object.defineProperty(globalThis, 'navigator', { value: { userAgent: `Node.js/${process.versions.node}` }, configurable: true });
  return (await import('./adapters/postgres/postgres-adapter')).PostgresAdapter;
}

/** Starts the store, replication, the optional HTTP API and the optional write load. */
export async function startDataPlane(options: DataPlaneOptions): Promise<DataPlane> {
  const store = new KvStore({ nodeId: options.selfId, nowMs: options.nowMs });
  const replicator = new Replicator({
    clusterId: options.clusterId,
    selfId: options.selfId,
    incarnation: options.incarnation,
    clusterKey: options.clusterKey,
    peers: options.peers,
    transport: options.transport,
    store,
    nowMs: options.nowMs,
  });
  store.setTransport(replicator);
  const target = options.target ?? { kind: 'reference' };
  // A real store replaces the reference store behind the seam; the reference store then only idles.
  const postgres = target.kind === 'postgres'
    ? await (await loadPostgresAdapter()).start({ url: target.url, dataDir: target.dataDir, peers: target.peers, log: options.log ?? (() => undefined) })
    : null;
  const adapter: DataPlaneAdapter = postgres ?? createStoreAdapter(store);
  const http = options.storeListen === null ? null : await startStoreHttp(store, { host: options.storeListen.host, port: options.storeListen.port });
  const load: WriteLoad = startWriteLoad({ store, ratePerSecond: options.writeRatePerSecond, keyCount: options.writeKeyCount, nowMs: options.nowMs });
  return {
    kind: 'reference',
    store,
    adapter,
    replicator,
    http,
    accepts: (bytes) => bytes.length > 0 && (bytes[0] === replicationPacketType || bytes[0] === replicationFragmentPacketType),
    receive: (bytes, from, nowMs) => replicator.receive(bytes, from, nowMs),
    execute: (command) => executeDataPlaneCommand(adapter, options.selfId, command, options.collectLimits),
    status() {
      if (postgres) {
        const counters = postgres.counters();
        return { keyCount: capped(counters.keyCount), writesAccepted: capped(counters.writesAccepted), writesRefused: 0, fence: postgres.activeFence(), digestRoot: counters.digestRoot, store: postgres.status() };
      }
      const stats = store.stats();
      return {
        keyCount: capped(stats.keys),
        writesAccepted: capped(stats.writesAccepted),
        writesRefused: capped(stats.writesRefused),
        fence: store.activeFence(),
        digestRoot: store.digest().root,
        store: { kind: 'reference', role: 'primary', endpoint: http ? http.url.replace(/^https?:\/\//, '') : 'in-agent', lagBytes: null, error: null },
      };
    },
    takeEvidence: () => replicator.takeEvidence(),
    async close() {
      load.stop();
      replicator.close();
      await http?.close();
      await postgres?.close();
    },
  };
}
