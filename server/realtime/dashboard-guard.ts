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
import { AppError, toErrorReply } from '../app-error';
import type { AuthService, Principal } from '../auth/auth-service';
import { type Action, can, requiredRoleByAction } from '../../core/permissions';
import { authenticate, checkOrigin } from '../auth/request-auth';
import type { Logger } from '../logger';
import type { RecoveryBroadcaster } from '../recovery/recovery-service';
import { type DashboardSocket, enforceDashboardAccess, socketPrincipal } from './dashboard-access';
import type { RefusalTally } from '../refusal-tally';

/** The action each dashboard event needs; an event not listed here is refused. */
export const requiredActionByEvent: Record<keyof ClientToServerEvents, Action> = {
  'cluster:subscribe': 'read',
};

/** Socket.IO room of one browser session's sockets. */
export const sessionRoom = (sessionIdHash: string) => `session:${sessionIdHash}`;

type DashboardServer = Server<ClientToServerEvents, ServerToClientEvents>;

/** The action `event` needs, or undefined for an event not in the table (own properties only: `__proto__` is not an event). */
export function requiredActionOf(event: unknown): Action | undefined {
  return typeof event === 'string' && Object.hasOwn(requiredActionByEvent, event) ? requiredActionByEvent[event as keyof ClientToServerEvents] : undefined;
}

/** Remote address and user agent of a handshake, for the audit log. */
function originOf(socket: DashboardSocket): string {
  const agent = socket.handshake.headers['user-agent'];
  return `${socket.handshake.address}${agent ? ` (${agent.slice(0, 120)})` : ''}`;
}

/** Installs the handshake check and the per-event guard; returns how to end a session's sockets. */
export function guardDashboards(io: DashboardServer, options: { auth: AuthService; allowedOrigins: readonly string[]; logger: Logger; refusals: Pick<RefusalTally, 'note'> }) {
  io.use((socket, next) => {
    const headers = socket.handshake.headers;
    const encrypted = socket.handshake.secure;
    const refuse = (error: unknown) => {
      const { code, message } = toErrorReply(error);
      options.refusals.note({ actor: 'anonymous', action: 'dashboard.handshake-refused', target: null, origin: originOf(socket), reason: code });
      next(new Error(`${code}: ${message}`));
    };
    try {
      checkOrigin(headers, encrypted, options.allowedOrigins);
    } catch (error) {
      return refuse(error);
    }
    authenticate(headers, options.auth, (socket.handshake.auth as { token?: unknown } | undefined)?.token).then(
      (principal) => {
        if (!principal) return refuse(new AppError('unauthorized', 'sign in first'));
        (socket.data as { principal?: Principal }).principal = principal;
        next();
      },
      refuse,
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
        options.refusals.note({ actor: principal?.name ?? 'anonymous', action: 'dashboard.event-refused', target: String(event).slice(0, 50), origin: originOf(socket), reason: `${code}: ${message}` });
        if (typeof reply === 'function') reply({ ok: false, code, message });
        if (code === 'unauthorized') socket.disconnect(true);
      };
      const action = requiredActionOf(event);
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
