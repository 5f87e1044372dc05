/**
 * Keeps open dashboard sockets in step with access as it is now, not as it was at
 * their handshake. HTTP asks the database on every request, so it refuses at once
 * when a user is disabled or demoted, a token revoked or a session ended; a socket
 * would otherwise keep receiving live data, with its old role, for as long as it
 * stays open. Three paths:
 * - the auth service's access events (this process's changes) end the sockets of
 *   a revoked token or ended session at once, and re-check a changed user's;
 * - each session socket is ended when its session expires;
 * - a bounded periodic re-check of every socket's principal catches changes made
 *   by another server instance, and anything an event missed.
 * A re-check that finds the principal gone ends the socket; one that finds another
 * role re-derives the socket's permissions and leaves the rooms it may not see.
 */
import type { Server, Socket } from 'socket.io';
import type { ClientToServerEvents, ServerToClientEvents } from '../../core/realtime-contract';
import { type AccessChange, type AuthService, type Principal, principalKey, principalRefreshBatchMax } from '../auth/auth-service';
import { can } from '../../core/permissions';
import type { Logger } from '../logger';

/** How often every dashboard socket's principal is asked of the database again (ms); bounds the lag of changes made elsewhere. */
export const principalRecheckIntervalMs = 5000;
/** Longest delay `setTimeout` accepts (ms); a session expiring later is caught by the periodic re-check first. */
const timerDelayMaxMs = 2_147_483_647;

type DashboardServer = Server<ClientToServerEvents, ServerToClientEvents>;
/** A dashboard's socket, typed by the realtime contract. */
export type DashboardSocket = Socket<ClientToServerEvents, ServerToClientEvents>;

/** The principal a dashboard socket acts as now (set at the handshake, replaced by re-checks). */
export function socketPrincipal(socket: DashboardSocket): Principal | null {
  return (socket.data as { principal?: Principal }).principal ?? null;
}

function setSocketPrincipal(socket: DashboardSocket, principal: Principal): void {
  (socket.data as { principal?: Principal }).principal = principal;
}

/** Installs the three paths on the default namespace; returns how to stop the periodic re-check. */
export function enforceDashboardAccess(io: DashboardServer, options: { auth: AuthService; logger: Logger; recheckIntervalMs?: number }) {
  const { auth, logger } = options;
  const sockets = new Set<DashboardSocket>();

  const end = (socket: DashboardSocket, reason: string) => {
    if (!sockets.delete(socket)) return;
    logger.info({ who: socketPrincipal(socket)?.name, reason }, 'dashboard socket ended: access changed');
    socket.disconnect(true);
  };

  /** Applies what the database says of a socket's principal now. */
  const apply = (socket: DashboardSocket, fresh: Principal | null) => {
    const current = socketPrincipal(socket);
    if (!fresh) return end(socket, 'session or token no longer valid');
    if (current && fresh.role !== current.role) {
      logger.info({ who: fresh.name, from: current.role, to: fresh.role }, 'dashboard socket role re-derived');
      // Every room a dashboard joins today is a cluster room, which needs `read`.
      if (!can(fresh.role, 'read')) for (const room of socket.rooms) if (room.startsWith('cluster:')) void socket.leave(room);
    }
    setSocketPrincipal(socket, fresh);
  };

  const recheck = async (targets: DashboardSocket[]) => {
    for (let start = 0; start < targets.length; start += principalRefreshBatchMax) {
      const batch = targets.slice(start, start + principalRefreshBatchMax).filter((socket) => socketPrincipal(socket));
      const fresh = await auth.refreshPrincipals(batch.map((socket) => socketPrincipal(socket)!));
      for (const socket of batch) if (sockets.has(socket)) apply(socket, fresh.get(principalKey(socketPrincipal(socket)!)) ?? null);
    }
  };
  const recheckLogged = (targets: DashboardSocket[]) =>
    recheck(targets).catch((error: unknown) => logger.warn({ err: error, sockets: targets.length }, 'dashboard principals not re-checked; will retry'));

  auth.onAccessChanged((change: AccessChange) => {
    for (const socket of sockets) {
      const principal = socketPrincipal(socket);
      if (!principal) continue;
      if (change.type === 'token-revoked' && principal.kind === 'token' && principal.id === change.tokenId) end(socket, 'token revoked');
      if (change.type === 'session-ended' && principal.sessionIdHash === change.sessionIdHash) end(socket, 'signed out');
    }
    if (change.type === 'user-changed') {
      void recheckLogged([...sockets].filter((socket) => socketPrincipal(socket)?.kind === 'session' && socketPrincipal(socket)?.id === change.userId));
    }
  });

  io.on('connection', (socket) => {
    const principal = socketPrincipal(socket);
    if (!principal) return;
    sockets.add(socket);
    const expiry =
      principal.expiresAtMs === null
        ? null
        : setTimeout(() => end(socket, 'session expired'), Math.min(Math.max(0, principal.expiresAtMs - Date.now()), timerDelayMaxMs));
    socket.on('disconnect', () => {
      if (expiry) clearTimeout(expiry);
      sockets.delete(socket);
    });
  });

  let running: Promise<void> | null = null;
  const timer = setInterval(() => {
    // One re-check at a time: a slow database must not pile them up. With no socket
    // open (after shutdown too) there is nothing to ask.
    if (sockets.size === 0) return;
    running ??= recheckLogged([...sockets]).finally(() => {
      running = null;
    });
  }, options.recheckIntervalMs ?? principalRecheckIntervalMs);
  timer.unref();
  return {
    /** Stops the periodic re-check. */
    stop: () => clearInterval(timer),
  };
}
