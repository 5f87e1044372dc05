/**
 * Incident alerts over the Alert table: the lifecycle runner raises and resolves
 * them (`raise`, `resolveForPartition`); operators list, acknowledge with a note
 * and resolve them. Every change is saved, then pushed to dashboards. Status moves
 * only forward (firing → acknowledged → resolved), except that a resolved alert
 * that fires again starts over as firing. Conditional updates make concurrent
 * acknowledgements safe: exactly one wins, the other gets `conflict`.
 */
import type { Prisma, PrismaClient } from '../generated/prisma/client';
import type { AlertView } from '../core/realtime-contract';
import { AppError } from './app-error';
import { afterCommit, clientOf } from './db/transaction-scope';

/** Largest page of alerts one request may read. */
export const alertPageMax = 200;
/** Longest note an operator may write, in characters. */
export const alertNoteLengthMax = 2000;

/** Alert statuses. */
export const alertStatuses = ['firing', 'acknowledged', 'resolved'] as const;

/** Where alert changes are pushed; the Socket.IO adapter implements it. */
export interface AlertBroadcaster {
  alertChanged(alert: AlertView): void;
}

type AlertRow = Prisma.AlertGetPayload<object>;

/** Maps a stored row to the operator's view. */
export function toAlertView(row: AlertRow): AlertView {
  return {
    id: row.id,
    clusterId: row.clusterId,
    partitionId: row.partitionId,
    rule: row.rule,
    severity: row.severity,
    status: row.status as AlertView['status'],
    title: row.title,
    firedAtMs: row.firedAt.getTime(),
    acknowledgedAtMs: row.acknowledgedAt?.getTime() ?? null,
    acknowledgedBy: row.acknowledgedBy,
    note: row.note,
    resolvedAtMs: row.resolvedAt?.getTime() ?? null,
    resolvedBy: row.resolvedBy,
  };
}

/** Filters for listing alerts. */
export interface AlertQuery {
  clusterId?: string;
  status?: AlertView['status'][];
  /** Case-insensitive text found in the title, rule or note. */
  search?: string;
  partitionId?: string;
  limit: number;
  /** Page backwards: alerts fired before this time (ms). */
  beforeMs?: number;
}

export class AlertsService {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly broadcaster: AlertBroadcaster,
    private readonly nowMs: () => number = Date.now,
  ) {}

  /** The ambient transaction of an audited action, else the pool. */
  private get db() {
    return clientOf(this.prisma);
  }

  /** Pushes a saved change once it is committed (at once outside an audited action). */
  private emit(row: AlertRow): AlertView {
    const view = toAlertView(row);
    afterCommit(() => this.broadcaster.alertChanged(view));
    return view;
  }

  /** Alerts newest first, filtered. */
  async list(query: AlertQuery): Promise<AlertView[]> {
    const search = query.search?.trim();
    const rows = await this.db.alert.findMany({
      where: {
        ...(query.clusterId ? { clusterId: query.clusterId } : {}),
        ...(query.status && query.status.length > 0 ? { status: { in: query.status } } : {}),
        ...(query.partitionId ? { partitionId: query.partitionId } : {}),
        ...(query.beforeMs !== undefined ? { firedAt: { lt: new Date(query.beforeMs) } } : {}),
        ...(search
          ? {
              OR: [
                { title: { contains: search, mode: 'insensitive' as const } },
                { rule: { contains: search, mode: 'insensitive' as const } },
                { note: { contains: search, mode: 'insensitive' as const } },
              ],
            }
          : {}),
      },
      orderBy: { firedAt: 'desc' },
      take: Math.min(query.limit, alertPageMax),
    });
    return rows.map(toAlertView);
  }

  /** One alert, or throws `not_found`. */
  async getOrThrow(id: string): Promise<AlertView> {
    const row = await this.db.alert.findUnique({ where: { id } });
    if (!row) throw new AppError('not_found', `no alert with id ${id}`);
    return toAlertView(row);
  }

  /**
   * Fires an alert (for the lifecycle runner). One alert per partition and rule:
   * firing again while open changes nothing; firing after it was resolved reopens it.
   */
  async raise(input: { clusterId: string; partitionId: string | null; rule: string; severity: 'info' | 'warning' | 'critical'; title: string; atMs?: number }): Promise<AlertView> {
    const firedAt = new Date(input.atMs ?? this.nowMs());
    const existing = input.partitionId
      ? await this.db.alert.findUnique({ where: { partitionId_rule: { partitionId: input.partitionId, rule: input.rule } } })
      : null;
    if (existing && existing.status !== 'resolved') return toAlertView(existing);
    const fresh = { severity: input.severity, title: input.title, status: 'firing', firedAt, acknowledgedAt: null, acknowledgedBy: null, note: null, resolvedAt: null, resolvedBy: null };
    const row = existing
      ? await this.db.alert.update({ where: { id: existing.id }, data: fresh })
      : await this.db.alert.create({ data: { ...fresh, clusterId: input.clusterId, partitionId: input.partitionId, rule: input.rule } });
    return this.emit(row);
  }

  /**
   * Fires an alert that belongs to no partition (an agent missing, a duplicate
   * identity): at most one open alert per cluster and rule, so firing again while
   * it is open changes nothing. Callers serialise calls for one rule.
   */
  async raiseForRule(input: { clusterId: string; rule: string; severity: 'info' | 'warning' | 'critical'; title: string }): Promise<AlertView> {
    const open = await this.prisma.alert.findFirst({
      where: { clusterId: input.clusterId, rule: input.rule, partitionId: null, status: { in: ['firing', 'acknowledged'] } },
    });
    if (open) return toAlertView(open);
    const row = await this.prisma.alert.create({
      data: { clusterId: input.clusterId, partitionId: null, rule: input.rule, severity: input.severity, title: input.title, status: 'firing', firedAt: new Date(this.nowMs()) },
    });
    return this.emit(row);
  }

  /** Resolves the open partition-less alerts of a cluster and rule (the condition ended); returns them. */
  async resolveForRule(clusterId: string, rule: string, actor = 'system'): Promise<AlertView[]> {
    const open = await this.prisma.alert.findMany({ where: { clusterId, rule, partitionId: null, status: { in: ['firing', 'acknowledged'] } }, take: alertPageMax });
    const resolved: AlertView[] = [];
    for (const alert of open) resolved.push(await this.resolve(alert.id, actor).catch(() => toAlertView(alert)));
    return resolved;
  }

  /** Open partition-less alerts whose rule starts with `rulePrefix` (at most a page). */
  async findOpenByRulePrefix(rulePrefix: string): Promise<AlertView[]> {
    const rows = await this.prisma.alert.findMany({
      where: { partitionId: null, rule: { startsWith: rulePrefix }, status: { in: ['firing', 'acknowledged'] } },
      take: alertPageMax,
    });
    return rows.map(toAlertView);
  }

  /** Acknowledges a firing alert with a note; `conflict` when it is not firing. */
  async acknowledge(id: string, actor: string, note: string): Promise<AlertView> {
    const result = await this.db.alert.updateMany({
      where: { id, status: 'firing' },
      data: { status: 'acknowledged', acknowledgedAt: new Date(this.nowMs()), acknowledgedBy: actor, note: note.slice(0, alertNoteLengthMax) },
    });
    if (result.count === 0) {
      const current = await this.getOrThrow(id);
      throw new AppError('conflict', `alert is ${current.status}${current.acknowledgedBy ? ` (acknowledged by ${current.acknowledgedBy})` : ''}; only a firing alert can be acknowledged`);
    }
    return this.emit((await this.db.alert.findUnique({ where: { id } }))!);
  }

  /** Resolves an open alert; `conflict` when it is already resolved. */
  async resolve(id: string, actor: string): Promise<AlertView> {
    const result = await this.db.alert.updateMany({
      where: { id, status: { in: ['firing', 'acknowledged'] } },
      data: { status: 'resolved', resolvedAt: new Date(this.nowMs()), resolvedBy: actor },
    });
    if (result.count === 0) {
      await this.getOrThrow(id);
      throw new AppError('conflict', 'alert is already resolved');
    }
    return this.emit((await this.db.alert.findUnique({ where: { id } }))!);
  }

  /**
   * Re-escalates acknowledgements that timed out: an alert acknowledged longer than
   * `timeoutMs` ago and still open fires again, as critical, with the earlier
   * acknowledgement kept in its note, so that an incident nobody follows up does
   * not stay quiet. Returns the alerts that fired again.
   */
  async reescalateStale(timeoutMs: number): Promise<AlertView[]> {
    const before = new Date(this.nowMs() - timeoutMs);
    const stale = await this.db.alert.findMany({ where: { status: 'acknowledged', acknowledgedAt: { lt: before } }, take: alertPageMax });
    const fired: AlertView[] = [];
    for (const alert of stale) {
      const note = `acknowledged by ${alert.acknowledgedBy ?? 'someone'} (${alert.note ?? 'no note'}) but still open after ${Math.round(timeoutMs / 60_000)} min`;
      const result = await this.db.alert.updateMany({
        where: { id: alert.id, status: 'acknowledged', acknowledgedAt: alert.acknowledgedAt },
        data: { status: 'firing', severity: 'critical', acknowledgedAt: null, acknowledgedBy: null, note: note.slice(0, alertNoteLengthMax) },
      });
      if (result.count === 1) fired.push(this.emit((await this.db.alert.findUnique({ where: { id: alert.id } }))!));
    }
    return fired;
  }

  /** Resolves every open alert of a partition (for the lifecycle runner, when the partition ends). */
  async resolveForPartition(partitionId: string, actor = 'system'): Promise<AlertView[]> {
    const open = await this.db.alert.findMany({ where: { partitionId, status: { in: ['firing', 'acknowledged'] } }, take: alertPageMax });
    const resolved: AlertView[] = [];
    for (const alert of open) resolved.push(await this.resolve(alert.id, actor).catch(() => toAlertView(alert)));
    return resolved;
  }

  /** Count of alerts by status, for the header badge. */
  async countOpen(clusterId?: string): Promise<{ firing: number; acknowledged: number }> {
    const groups = await this.db.alert.groupBy({
      by: ['status'],
      where: { ...(clusterId ? { clusterId } : {}), status: { in: ['firing', 'acknowledged'] } },
      _count: { _all: true },
    });
    const count = (status: string) => groups.find((group) => group.status === status)?._count._all ?? 0;
    return { firing: count('firing'), acknowledged: count('acknowledged') };
  }
}
