/**
 * Builds the operator console's services (auth, audit, alerts, recovery, history),
 * guards the dashboards' Socket.IO namespace, and creates the first admin. Kept out
 * of the composition root so that start-server.ts wires it with one call.
 */
import type { Server } from 'socket.io';
import type { ClientToServerEvents, ServerToClientEvents } from '../core/realtime-contract';
import type { PrismaClient } from '../generated/prisma/client';
import { AlertsService } from './alerts-service';
import { PrismaAlertStore } from './alerts/prisma-alert-store';
import { systemClock } from './clock';
import type { AlertView } from '../core/realtime-contract';
import { AuditLog } from './audit';
import { AuthService, firstAdminName } from './auth/auth-service';
import type { SessionPolicy } from './auth/session-policy';
import { HistoryExporter } from './history-export';
import { HistoryService } from './history-service';
import type { Logger } from './logger';
import { consoleBroadcaster, guardDashboards } from './realtime/dashboard-guard';
import type { Emitter } from './events';
import { type RecoveryEvents, RecoveryService } from './recovery/recovery-service';
import { PrismaRecoveryStore } from './recovery/recovery-store';
import type { RefusalTally } from './refusal-tally';

/** The console's services, as the API context and tests use them. */
export interface ConsoleServices {
  auth: AuthService;
  audit: AuditLog;
  alerts: AlertsService;
  recovery: RecoveryService;
  history: HistoryService;
  /** Streams history exports, a bounded number at once. */
  exports: HistoryExporter;
  allowedOrigins: readonly string[];
  endSession: (sessionIdHash: string) => void;
}

/** Creates the services and the first admin; prints a generated admin password once. */
export async function startConsoleServices(options: {
  prisma: PrismaClient;
  io: Server<ClientToServerEvents, ServerToClientEvents>;
  adminPassword: string | undefined;
  allowedOrigins: readonly string[];
  /** Session lifetime and idle timeout (defaults when absent). */
  sessionPolicy?: SessionPolicy;
  logger: Logger;
  /** Where a generated first-admin password is printed (stdout by default). */
  print?: (text: string) => void;
  /** Also told of every saved alert change (the webhook notifier). */
  onAlertChanged?: (alert: AlertView) => void;
  /** Where recovery decisions' effects are published (the orchestrator listens). */
  recoveryEvents: Emitter<RecoveryEvents>;
  /** Where refused dashboard handshakes and events are tallied for the audit log. */
  refusals: Pick<RefusalTally, 'note'>;
}): Promise<ConsoleServices> {
  const auth = new AuthService(options.prisma, Date.now, options.sessionPolicy);
  const audit = new AuditLog(options.prisma);
  const broadcaster = consoleBroadcaster(options.io);
  const guard = guardDashboards(options.io, { auth, allowedOrigins: options.allowedOrigins, logger: options.logger, refusals: options.refusals });
  const firstAdmin = await auth.ensureFirstAdmin(options.adminPassword);
  if (firstAdmin.created) {
    await audit.record({ actor: 'system', action: 'user.create-first-admin', target: firstAdminName, data: { generated: firstAdmin.generatedPassword !== null } });
    options.logger.info({ name: firstAdminName }, 'first admin created');
  }
  if (firstAdmin.generatedPassword) {
    (options.print ?? ((text) => process.stdout.write(text)))(
      `\n  First admin created. Sign in as "${firstAdminName}" with password:\n\n      ${firstAdmin.generatedPassword}\n\n  It is shown once and stored only as a hash. Set FAULTLINE_ADMIN_PASSWORD to choose it instead.\n\n`,
    );
  }
  return {
    auth,
    audit,
    alerts: new AlertsService(
      new PrismaAlertStore(options.prisma),
      {
        alertChanged: (alert) => {
          broadcaster.alertChanged(alert);
          options.onAlertChanged?.(alert);
        },
      },
      systemClock,
    ),
    recovery: new RecoveryService(new PrismaRecoveryStore(options.prisma), broadcaster, systemClock, options.recoveryEvents),
    history: new HistoryService(options.prisma),
    exports: new HistoryExporter(options.prisma, { logger: options.logger }),
    allowedOrigins: options.allowedOrigins,
    endSession: guard.endSession,
  };
}
