/**
 * The agent's data plane when it sits beside a real Redis (`--data-plane
 * redis://host:port`): no reference store and no replicator of its own (Redis
 * replicates itself), the server's data-plane commands carried out against the
 * Redis adapter, and a status line naming the store, its role, lag and last error.
 */
import type { DataPlaneStatus } from '../../../core/protocol';
import { reportCounterMax } from '../../../core/protocol';
import { executeDataPlaneCommand } from '../../data-plane-executor';
import type { AgentDataPlane } from '../../data-plane';
import { RedisAdapter, type RedisAdapterLog } from './redis-adapter';
import type { RedisTarget } from './redis-url';

/** A running Redis data plane. */
export interface RedisDataPlane extends AgentDataPlane {
  kind: 'redis';
  adapter: RedisAdapter;
}

const capped = (value: number) => Math.min(reportCounterMax, Math.max(0, Math.floor(value)));

/** Connects to the Redis beside the agent; an unreachable one is reported and retried, never fatal. */
export async function startRedisDataPlane(options: { target: RedisTarget; selfId: string; nowMs: () => number; log: RedisAdapterLog }): Promise<RedisDataPlane> {
  const adapter = new RedisAdapter({ target: options.target, nodeId: options.selfId, nowMs: options.nowMs, log: options.log });
  await adapter.start();
  return {
    kind: 'redis',
    adapter,
    accepts: () => false,
    receive: () => undefined,
    execute: (command) => executeDataPlaneCommand(adapter, options.selfId, command),
    status(): DataPlaneStatus {
      const state = adapter.state();
      return {
        keyCount: capped(state.keyCount),
        writesAccepted: capped(state.journal.recorded),
        writesRefused: capped(state.writesRefused),
        fence: state.fence,
        digestRoot: state.digestRoot,
        store: {
          kind: 'redis',
          role: state.role,
          endpoint: state.endpoint.slice(0, 200),
          lagBytes: state.lagBytes === null ? null : capped(state.lagBytes),
          error: state.error === null ? null : state.error.slice(0, 300),
        },
      };
    },
    takeEvidence: () => [],
    close: () => adapter.close(),
  };
}
