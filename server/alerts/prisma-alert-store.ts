/** The Alert table behind `AlertStore`; reads and writes join the ambient transaction of an audited action. */
import type { Incident, IncidentEntry } from '../../core/lifecycle/incident';
import type { AlertView } from '../../core/realtime-contract';
import type { Prisma, PrismaClient } from '../../generated/prisma/client';
import { clientOf } from '../db/transaction-scope';
import { type AlertExpectation, type AlertQuery, type AlertStore, type NewAlert, alertPageMax } from './alert-store';

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
    entries: Array.isArray(row.entries) ? (row.entries as unknown as IncidentEntry[]) : [],
  };
}

const date = (ms: number | null) => (ms === null ? null : new Date(ms));

function columnsOf(incident: Incident) {
  return {
    status: incident.status,
    severity: incident.severity,
    title: incident.title,
    firedAt: new Date(incident.firedAtMs),
    acknowledgedAt: date(incident.acknowledgedAtMs),
    acknowledgedBy: incident.acknowledgedBy,
    note: incident.note,
    resolvedAt: date(incident.resolvedAtMs),
    resolvedBy: incident.resolvedBy,
    entries: incident.entries as unknown as Prisma.InputJsonValue,
  };
}

const open = { in: ['firing', 'acknowledged'] };

export class PrismaAlertStore implements AlertStore {
  constructor(private readonly prisma: PrismaClient) {}

  private get db() {
    return clientOf(this.prisma);
  }

  async find(id: string): Promise<AlertView | null> {
    const row = await this.db.alert.findUnique({ where: { id } });
    return row ? toAlertView(row) : null;
  }

  async findForPartition(partitionId: string, rule: string): Promise<AlertView | null> {
    const row = await this.db.alert.findUnique({ where: { partitionId_rule: { partitionId, rule } } });
    return row ? toAlertView(row) : null;
  }

  async findOpenForRule(clusterId: string, rule: string): Promise<AlertView | null> {
    const row = await this.db.alert.findFirst({ where: { clusterId, rule, partitionId: null, status: open } });
    return row ? toAlertView(row) : null;
  }

  async list(query: AlertQuery): Promise<AlertView[]> {
    const search = query.search?.trim();
    const rows = await this.db.alert.findMany({
      where: {
        ...(query.clusterId ? { clusterId: query.clusterId } : {}),
        ...(query.status && query.status.length > 0 ? { status: { in: query.status } } : {}),
        ...(query.partitionId ? { partitionId: query.partitionId } : {}),
        ...(query.beforeMs !== undefined ? { firedAt: { lt: new Date(query.beforeMs) } } : {}),
        ...(search
          ? { OR: (['title', 'rule', 'note'] as const).map((column) => ({ [column]: { contains: search, mode: 'insensitive' as const } })) }
          : {}),
      },
      orderBy: { firedAt: 'desc' },
      take: Math.min(query.limit, alertPageMax),
    });
    return rows.map(toAlertView);
  }

  async listOpen(filter: Parameters<AlertStore['listOpen']>[0]): Promise<AlertView[]> {
    const rows = await this.db.alert.findMany({
      where: {
        ...(filter.acknowledgedBeforeMs === undefined ? { status: open } : { status: 'acknowledged', acknowledgedAt: { lt: new Date(filter.acknowledgedBeforeMs) } }),
        ...(filter.partitionId !== undefined ? { partitionId: filter.partitionId } : filter.partitionless ? { partitionId: null } : {}),
        ...(filter.clusterId !== undefined ? { clusterId: filter.clusterId } : {}),
        ...(filter.rule !== undefined ? { rule: filter.rule } : filter.rulePrefix !== undefined ? { rule: { startsWith: filter.rulePrefix } } : {}),
      },
      take: alertPageMax,
    });
    return rows.map(toAlertView);
  }

  async insert(alert: NewAlert): Promise<AlertView> {
    const { clusterId, partitionId, rule, ...incident } = alert;
    return toAlertView(await this.db.alert.create({ data: { clusterId, partitionId, rule, ...columnsOf(incident) } }));
  }

  async update(id: string, expect: AlertExpectation, incident: Incident): Promise<AlertView | null> {
    const result = await this.db.alert.updateMany({
      where: { id, status: { in: expect.status }, ...(expect.acknowledgedAtMs !== undefined ? { acknowledgedAt: date(expect.acknowledgedAtMs) } : {}) },
      data: columnsOf(incident),
    });
    if (result.count === 0) return null;
    return this.find(id);
  }

  async countOpen(clusterId?: string): Promise<{ firing: number; acknowledged: number }> {
    const groups = await this.db.alert.groupBy({ by: ['status'], where: { ...(clusterId ? { clusterId } : {}), status: open }, _count: { _all: true } });
    const count = (status: string) => groups.find((group) => group.status === status)?._count._all ?? 0;
    return { firing: count('firing'), acknowledged: count('acknowledged') };
  }
}
