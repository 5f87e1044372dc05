/**
 * Authentication and authorisation of dashboards on Socket.IO's default namespace
 * (agents use `/agents` and their own credentials, untouched here). The handshake
 * must come from an allowed origin and carry a valid session cookie or bearer
 * token; every incoming event is checked against the role table (unknown events
 * are refused) and the session's expiry, and refused events get an error reply.
 * Each socket joins its session's room, so signing out disconnects it at once;
 * `dashboard-access.ts` ends or downgrades sockets whose access changes later.
 */
import type { Server } from 'socket.io';
import { type AlertView, type ClientToServerEvents, type RecoveryRunView, type ServerToClientEvents, clusterRoom } from '../../core/realtime-contract';
import type { AlertBroadcaster } from '../alerts-service';
import { toErrorReply } from '../app-error';
import type { AuthService, Principal } from '../auth/auth-service';
import { type Action, can, requiredRoleByAction } from '../auth/permissions';
import { authenticate, checkOrigin } from '../auth/request-auth';
import type { Logger } from '../logger';
import type { RecoveryBroadcaster } from '../recovery-service';
import { enforceDashboardAccess, socketPrincipal } from './dashboard-access';

/** The action each dashboard event needs; an event not listed here is refused. */
export const requiredActionByEvent: Record<keyof ClientToServerEvents, Action> = {
  'cluster:subscribe': 'read',
};

/** Socket.IO room of one browser session's sockets. */
export const sessionRoom = (sessionIdHash: string) => `session:${sessionIdHash}`;

type DashboardServer = Server<ClientToServerEvents, ServerToClientEvents>;

/** Installs the handshake check and the per-event guard; returns how to end a session's sockets. */
export function guardDashboards(io: DashboardServer, options: { auth: AuthService; allowedOrigins: readonly string[]; logger: Logger }) {
  io.use((socket, next) => {
    const headers = socket.handshake.headers;
    const encrypted = socket.handshake.secure;
    try {
      checkOrigin(headers, encrypted, options.allowedOrigins);
    } catch (error) {
      return next(new Error(`${toErrorReply(error).code}: ${toErrorReply(error).message}`));
    }
    authenticate(headers, options.auth, (socket.handshake.auth as { token?: unknown } | undefined)?.token).then(
      (principal) => {
        if (!principal) return next(new Error('unauthorized: sign in first'));
        (socket.data as { principal?: Principal }).principal = principal;
        next();
      },
      (error: unknown) => next(new Error(`${toErrorReply(error).code}: ${toErrorReply(error).message}`)),
    );
  });

  enforceDashboardAccess(io, { auth: options.auth, logger: options.logger });
  io.on('connection', (socket) => {
    const handshakePrincipal = socketPrincipal(socket);
    if (handshakePrincipal?.sessionIdHash) void socket.join(sessionRoom(handshakePrincipal.sessionIdHash));
    socket.use((packet, next) => {
      // Read per event: a re-check may have given the socket another role since.
      const principal = socketPrincipal(socket);
      const [event, ...args] = packet as [string, ...unknown[]];
      const reply = args.at(-1);
      const refuse = (code: 'unauthorized' | 'forbidden', message: string) => {
        options.logger.warn({ event, who: principal?.name, code }, 'dashboard event refused');
        if (typeof reply === 'function') reply({ ok: false, code, message });
        if (code === 'unauthorized') socket.disconnect(true);
      };
      const action = requiredActionByEvent[event as keyof ClientToServerEvents];
      if (!principal || (principal.expiresAtMs !== null && principal.expiresAtMs <= Date.now())) return refuse('unauthorized', 'session expired; sign in again');
      if (!action) return refuse('forbidden', `unknown event ${String(event).slice(0, 50)}`);
      if (!can(principal.role, action)) return refuse('forbidden', `${event} needs the ${requiredRoleByAction[action]} role`);
      next();
    });
  });

  return {
    /** Disconnects every socket of a session (after sign-out). */
    endSession(sessionIdHash: string): void {
      io.in(sessionRoom(sessionIdHash)).disconnectSockets(true);
    },
  };
}

/** Pushes alert and recovery changes to the dashboards watching their cluster. */
export function consoleBroadcaster(io: DashboardServer): AlertBroadcaster & RecoveryBroadcaster {
  return {
    alertChanged: (alert: AlertView) => io.to(clusterRoom(alert.clusterId)).emit('alert:changed', alert),
    recoveryChanged: (run: RecoveryRunView) => {
      if (run.clusterId) io.to(clusterRoom(run.clusterId)).emit('recovery:changed', run);
    },
  };
}
