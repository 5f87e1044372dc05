/**
 * One live connection per agent identity: a second connection claiming an agent
 * whose connection is alive is refused, a holder gone silent is replaced.
 */
import type { Socket } from 'socket.io';
import { duplicateDecision } from '../../core/agent-presence';
import type { AgentToServerEvents, ServerToAgentEvents } from '../../core/realtime-contract';
import type { AgentIdentity } from '../auth/agent-credentials';

/**
 * Default of how recently an agent's connection must have been heard from (any
 * packet, Socket.IO's pongs included) to count as alive when a second connection
 * claims the same agent (ms). Above Socket.IO's 25 s ping interval, so an idle but
 * live holder is never taken for dead.
 */
export const agentHolderSilenceDefaultMs = 30_000;

/** An agent's Socket.IO connection, carrying the identity its handshake proved. */
export type AgentSocket = Socket<AgentToServerEvents, ServerToAgentEvents, Record<string, never>, AgentIdentity>;
/**
 * Who holds each agent's identity, and when each holder was last heard from (any
 * packet on its connection). A second connection is refused while the holder is
 * alive; a holder silent past `holderSilenceMaxMs` (a half-open connection) is
 * replaced, so the real agent is never kept out by a dead copy of itself.
 */
export function agentHolders(agentSockets: Map<string, AgentSocket>, holderSilenceMaxMs: number) {
  const heardAtMs = new WeakMap<AgentSocket, number>();
  const keyOf = (identity: AgentIdentity) => `${identity.clusterId}/${identity.agentId}`;
  return {
    /** Why a connection for `identity` must be refused now, or null (no holder, or one evidently dead). */
    refusal(identity: AgentIdentity): string | null {
      const holder = agentSockets.get(keyOf(identity));
      if (!holder?.connected) return null;
      const nowMs = Date.now();
      const heard = heardAtMs.get(holder) ?? 0;
      if (duplicateDecision(heard, nowMs, holderSilenceMaxMs) === 'refuse-newcomer') return `its connection was heard from ${nowMs - heard} ms ago`;
      return null;
    },
    /** Makes `socket` the holder, ending a (dead) previous one; true when one was replaced. */
    take(socket: AgentSocket): boolean {
      const socketKey = keyOf(socket.data);
      const previous = agentSockets.get(socketKey);
      agentSockets.set(socketKey, socket);
      previous?.disconnect(true);
      heardAtMs.set(socket, Date.now());
      socket.conn.on('packet', () => heardAtMs.set(socket, Date.now()));
      return previous !== undefined;
    },
  };
}
