/**
 * The audit entries of API requests: every state-changing request, allowed or
 * refused, is written to the audit log. An accepted action's entry commits with
 * the action, so an action that cannot be recorded is not carried out.
 */
import type { Principal } from '../auth/auth-service';
import { AppError } from '../app-error';
import type { ApiContext } from './api';
import type { Route } from './route';

/** What one audit entry of a request says. */
export interface RequestEntry {
  route: Route | undefined;
  path: string;
  principal: Principal | null;
  /** Who acted when the principal does not say (sign-in names the user who signed in). */
  actor: string | null;
  origin: string;
  params: string[];
  body: unknown;
  outcome: string;
}

/** The entry's target: the id in the path, else what the route reads from the body. */
function targetOf(context: ApiContext, entry: RequestEntry): string | null {
  if (entry.params[0]) return entry.params[0];
  try {
    return entry.route?.auditTarget?.(entry.body, context) ?? null;
  } catch {
    return null;
  }
}

function toAuditRecord(context: ApiContext, entry: RequestEntry) {
  return {
    actor: entry.actor ?? entry.principal?.name ?? 'anonymous',
    action: entry.route?.audit ?? `refused ${entry.path}`,
    target: targetOf(context, entry),
    origin: entry.origin,
    data: { outcome: entry.outcome, ...(entry.body !== undefined ? { request: entry.body } : {}), ...(entry.principal ? { role: entry.principal.role, via: entry.principal.kind } : {}) },
  };
}

/** Writes the entry of an accepted action inside its transaction; when that fails the action is refused (and rolled back). */
async function auditAction(context: ApiContext, entry: RequestEntry): Promise<void> {
  try {
    await context.audit.record(toAuditRecord(context, entry));
  } catch (error) {
    context.logger.error({ err: error, action: entry.route?.audit }, 'audit entry not written; action refused');
    throw new AppError('unavailable', 'the action could not be recorded in the audit log, so it was not carried out; retry later');
  }
}

/** Writes the entry of a refused request; a failed write is logged, never hidden. */
export async function auditRefusal(context: ApiContext, entry: RequestEntry): Promise<void> {
  try {
    await context.audit.record(toAuditRecord(context, entry));
  } catch (error) {
    context.logger.error({ err: error, action: entry.route?.audit }, 'audit entry not written');
  }
}

/**
 * Runs a state-changing handler and its audit entry in one transaction. Routes
 * whose effects live outside the database (fault injection) write the entry
 * first, so that an entry that cannot be written stops the action before it acts.
 */
export async function runAudited(context: ApiContext, route: Route, run: () => Promise<unknown>, entryOf: () => RequestEntry): Promise<unknown> {
  return context.audit.transaction(async () => {
    if (route.auditBeforeAction) await auditAction(context, entryOf());
    const data = await run();
    if (!route.auditBeforeAction) await auditAction(context, entryOf());
    return data;
  });
}
