/**
 * A whole cluster of reference stores in one process: one fake clock (with a fixed
 * skew per node, so hybrid clocks have something to correct), one in-memory network.
 * Deterministic; used by tests, the benchmark and in-process simulations.
 */
import type { NodeId } from '../../core/protocol';
import { InMemoryReplicationNetwork } from './in-memory-replication';
import { KvStore } from './kv-store';

/** A fake clock that only moves when told. */
export interface FakeClock {
  /** Current time (ms since epoch). */
  nowMs(): number;
  /** Moves time forward by `deltaMs`. */
  advance(deltaMs: number): void;
}

/** Creates a fake clock starting at `startMs`. */
export function createFakeClock(startMs: number): FakeClock {
  let currentMs = startMs;
  return {
    nowMs: () => currentMs,
    advance: (deltaMs) => {
      if (deltaMs < 0) throw new RangeError('a clock does not go back');
      currentMs += deltaMs;
    },
  };
}

/** The simulated cluster. */
export interface SimulatedCluster {
  /** Stores by node, in the order given. */
  stores: KvStore[];
  /** The network joining them. */
  network: InMemoryReplicationNetwork;
  /** The shared clock. */
  clock: FakeClock;
  /** The store of one node; throws for an unknown node. */
  storeOf(nodeId: NodeId): KvStore;
}

/** Builds a cluster; `skewMs[i]` is added to node i's view of the clock (default 0). */
export function createSimulatedCluster(nodeIds: readonly NodeId[], options: { startMs?: number; skewMs?: readonly number[]; bucketCount?: number } = {}): SimulatedCluster {
  const clock = createFakeClock(options.startMs ?? 1_700_000_000_000);
  const network = new InMemoryReplicationNetwork();
  const stores = nodeIds.map((nodeId, index) => {
    const skewMs = options.skewMs?.[index] ?? 0;
    const store = new KvStore({ nodeId, nowMs: () => clock.nowMs() + skewMs, bucketCount: options.bucketCount });
    network.join(store);
    return store;
  });
  const byId = new Map(stores.map((store) => [store.nodeId, store]));
  return {
    stores,
    network,
    clock,
    storeOf: (nodeId) => {
      const store = byId.get(nodeId);
      if (store === undefined) throw new Error(`no store ${nodeId}`);
      return store;
    },
  };
}
