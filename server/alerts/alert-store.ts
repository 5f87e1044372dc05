/**
 * Where alerts are kept: one interface, a Prisma implementation (the Alert table,
 * inside the ambient transaction of an audited action) and an in-memory twin for
 * unit tests. test/integration/store-contracts.test.ts holds both to one
 * contract. Updates are compare-and-set on the status (and acknowledgement time),
 * so two operators acting at once cannot both win.
 */
import type { Incident, IncidentStatus } from '../../core/lifecycle/incident';
import type { AlertView } from '../../core/realtime-contract';

/** Largest page of alerts one read returns. */
export const alertPageMax = 200;

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

/** What must still hold for an update to apply. */
export interface AlertExpectation {
  status: IncidentStatus[];
  acknowledgedAtMs?: number | null;
}

/** An alert's key and its incident. */
export type NewAlert = Pick<AlertView, 'clusterId' | 'partitionId' | 'rule'> & Incident;

export interface AlertStore {
  find(id: string): Promise<AlertView | null>;
  /** The alert of a partition and rule (one per pair), in any status. */
  findForPartition(partitionId: string, rule: string): Promise<AlertView | null>;
  /** The open partition-less alert of a cluster and rule, if any. */
  findOpenForRule(clusterId: string, rule: string): Promise<AlertView | null>;
  /** Newest first, at most `alertPageMax`. */
  list(query: AlertQuery): Promise<AlertView[]>;
  /** Open alerts matching the filter (at most a page). */
  listOpen(filter: { partitionId?: string; clusterId?: string; rule?: string; rulePrefix?: string; partitionless?: boolean; acknowledgedBeforeMs?: number }): Promise<AlertView[]>;
  insert(alert: NewAlert): Promise<AlertView>;
  /** Saves the incident if `expect` still holds; null when it no longer does. */
  update(id: string, expect: AlertExpectation, incident: Incident): Promise<AlertView | null>;
  countOpen(clusterId?: string): Promise<{ firing: number; acknowledged: number }>;
}

/** The incident part of an alert. */
export function incidentOf(alert: AlertView): Incident {
  return {
    status: alert.status,
    severity: alert.severity as Incident['severity'],
    title: alert.title,
    firedAtMs: alert.firedAtMs,
    acknowledgedAtMs: alert.acknowledgedAtMs,
    acknowledgedBy: alert.acknowledgedBy,
    note: alert.note,
    resolvedAtMs: alert.resolvedAtMs,
    resolvedBy: alert.resolvedBy,
    entries: alert.entries,
  };
}

const isOpen = (alert: AlertView) => alert.status !== 'resolved';

/** The in-memory twin. Ids are `alert-1`, `alert-2`, … in insertion order. */
export class MemoryAlertStore implements AlertStore {
  private readonly rows = new Map<string, AlertView>();
  private nextId = 1;

  async find(id: string): Promise<AlertView | null> {
    const row = this.rows.get(id);
    return row ? { ...row } : null;
  }

  async findForPartition(partitionId: string, rule: string): Promise<AlertView | null> {
    const row = [...this.rows.values()].find((alert) => alert.partitionId === partitionId && alert.rule === rule);
    return row ? { ...row } : null;
  }

  async findOpenForRule(clusterId: string, rule: string): Promise<AlertView | null> {
    const row = [...this.rows.values()].find((alert) => alert.clusterId === clusterId && alert.rule === rule && alert.partitionId === null && isOpen(alert));
    return row ? { ...row } : null;
  }

  async list(query: AlertQuery): Promise<AlertView[]> {
    const search = query.search?.trim().toLowerCase();
    return [...this.rows.values()]
      .filter((alert) =>
        (!query.clusterId || alert.clusterId === query.clusterId) &&
        (!query.status || query.status.length === 0 || query.status.includes(alert.status)) &&
        (!query.partitionId || alert.partitionId === query.partitionId) &&
        (query.beforeMs === undefined || alert.firedAtMs < query.beforeMs) &&
        (!search || [alert.title, alert.rule, alert.note ?? ''].some((text) => text.toLowerCase().includes(search))))
      .sort((a, b) => b.firedAtMs - a.firedAtMs)
      .slice(0, Math.min(query.limit, alertPageMax))
      .map((alert) => ({ ...alert }));
  }

  async listOpen(filter: Parameters<AlertStore['listOpen']>[0]): Promise<AlertView[]> {
    return [...this.rows.values()]
      .filter((alert) =>
        (filter.acknowledgedBeforeMs === undefined ? isOpen(alert) : alert.status === 'acknowledged' && alert.acknowledgedAtMs !== null && alert.acknowledgedAtMs < filter.acknowledgedBeforeMs) &&
        (filter.partitionId === undefined || alert.partitionId === filter.partitionId) &&
        (filter.clusterId === undefined || alert.clusterId === filter.clusterId) &&
        (filter.rule === undefined || alert.rule === filter.rule) &&
        (filter.rulePrefix === undefined || alert.rule.startsWith(filter.rulePrefix)) &&
        (!filter.partitionless || alert.partitionId === null))
      .slice(0, alertPageMax)
      .map((alert) => ({ ...alert }));
  }

  async insert(alert: NewAlert): Promise<AlertView> {
    if (alert.partitionId !== null && (await this.findForPartition(alert.partitionId, alert.rule))) {
      throw new Error(`an alert for partition ${alert.partitionId} and rule ${alert.rule} exists`);
    }
    const row: AlertView = { id: `alert-${this.nextId++}`, ...alert };
    this.rows.set(row.id, row);
    return { ...row };
  }

  async update(id: string, expect: AlertExpectation, incident: Incident): Promise<AlertView | null> {
    const row = this.rows.get(id);
    if (!row || !expect.status.includes(row.status)) return null;
    if (expect.acknowledgedAtMs !== undefined && row.acknowledgedAtMs !== expect.acknowledgedAtMs) return null;
    const next = { ...row, ...incident };
    this.rows.set(id, next);
    return { ...next };
  }

  async countOpen(clusterId?: string): Promise<{ firing: number; acknowledged: number }> {
    const open = [...this.rows.values()].filter((alert) => !clusterId || alert.clusterId === clusterId);
    return { firing: open.filter((alert) => alert.status === 'firing').length, acknowledged: open.filter((alert) => alert.status === 'acknowledged').length };
  }
}
