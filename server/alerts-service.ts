/**
 * Alerts, as operators and the lifecycle see them: each alert is an incident of
 * core/lifecycle/incident.ts (firing → acknowledged → resolved, refired after
 * resolution, re-escalated when an acknowledgement times out), kept in an
 * `AlertStore`. Every change is decided by the pure step, saved with a
 * compare-and-set (so of two concurrent acknowledgements exactly one wins, the
 * other gets `conflict`), then pushed to dashboards and the webhook.
 */
import { type IncidentEvent, type IncidentSeverity, incidentNoteLengthMax, stepIncident } from '../core/lifecycle/incident';
import type { AlertView } from '../core/realtime-contract';
import type { Clock } from './clock';
import { AppError } from './app-error';
import { type AlertExpectation, type AlertQuery, type AlertStore, incidentOf } from './alerts/alert-store';
import { afterCommit } from './db/transaction-scope';

export { alertPageMax, type AlertQuery } from './alerts/alert-store';
export { toAlertView } from './alerts/prisma-alert-store';

/** Longest note an operator may write, in characters. */
export const alertNoteLengthMax = incidentNoteLengthMax;

/** The rule a partition's one incident is stored under; what the partition causes are its entries. */
export const partitionIncidentRule = 'partition';

/** Attempts to save a partition's incident when an operator's change or another insert won the race. */
const raiseAttemptsMax = 3;

/** One thing to add to a partition's incident. */
export interface IncidentEntryInput {
  rule: string;
  severity: IncidentSeverity;
  title: string;
  /** Console path with more (the pending recovery), if any. */
  link?: string | null;
}

/** Alert statuses. */
export const alertStatuses = ['firing', 'acknowledged', 'resolved'] as const;

/** Where alert changes are pushed; the Socket.IO adapter (and the webhook) implement it. */
export interface AlertBroadcaster {
  alertChanged(alert: AlertView): void;
}

export class AlertsService {
  constructor(
    private readonly store: AlertStore,
    private readonly broadcaster: AlertBroadcaster,
    private readonly clock: Clock,
  ) {}

  /** Pushes a saved change once it is committed (at once outside an audited action). */
  private emit(view: AlertView): AlertView {
    afterCommit(() => this.broadcaster.alertChanged(view));
    return view;
  }

  /**
   * Steps an existing alert and saves it if nothing changed it meanwhile. Returns
   * the saved alert, the unchanged one, or null when it was changed under us.
   * A refusal throws `conflict`.
   */
  private async apply(current: AlertView, event: IncidentEvent, expect: AlertExpectation): Promise<AlertView | null> {
    const step = stepIncident(incidentOf(current), event, this.clock.nowMs());
    if (step.refused !== null) throw new AppError('conflict', step.refused);
    if (step.change === null) return current;
    const saved = await this.store.update(current.id, expect, step.incident);
    return saved ? this.emit(saved) : null;
  }

  /** Applies an operator's event; when another change won the race, the event is decided again on what is saved now. */
  private async decide(id: string, event: IncidentEvent): Promise<AlertView> {
    const current = await this.getOrThrow(id);
    const saved = await this.apply(current, event, { status: [current.status] });
    if (saved) return saved;
    const now = await this.getOrThrow(id);
    const step = stepIncident(incidentOf(now), event, this.clock.nowMs());
    throw new AppError('conflict', step.refused ?? `alert changed meanwhile; it is ${now.status}`);
  }

  /** Alerts newest first, filtered. */
  list(query: AlertQuery): Promise<AlertView[]> {
    return this.store.list(query);
  }

  /** One alert, or throws `not_found`. */
  async getOrThrow(id: string): Promise<AlertView> {
    const alert = await this.store.find(id);
    if (!alert) throw new AppError('not_found', `no alert with id ${id}`);
    return alert;
  }

  /**
   * Fires an alert (for the lifecycle). A partition has one incident (rule
   * `partition`): what it causes becomes an entry on it (one entry per rule while
   * open), so one acknowledgement covers it; firing after it was resolved reopens it.
   */
  async raise(input: { clusterId: string; partitionId: string | null; rule: string; severity: IncidentSeverity; title: string; link?: string | null; atMs?: number }): Promise<AlertView> {
    const { clusterId, partitionId, atMs, ...entry } = input;
    if (partitionId === null) return this.create(clusterId, null, entry.rule, { type: 'fire', ...entry }, atMs ?? this.clock.nowMs());
    return this.raiseForPartition(clusterId, partitionId, [entry], atMs);
  }

  /**
   * Adds what one lifecycle step raised to the partition's incident as one change,
   * so the dashboards and the webhook hear of it once. Returns the incident.
   */
  async raiseForPartition(clusterId: string, partitionId: string, entries: IncidentEntryInput[], atMs?: number): Promise<AlertView> {
    const nowMs = atMs ?? this.clock.nowMs();
    for (let attempt = 1; ; attempt += 1) {
      const existing = await this.store.findForPartition(partitionId, partitionIncidentRule);
      let incident = existing ? incidentOf(existing) : null;
      let changed = false;
      for (const entry of entries) {
        const step = stepIncident(incident, { type: 'fire', ...entry }, nowMs);
        if (step.change !== null) [incident, changed] = [step.incident, true];
      }
      // Only `fire` on nothing creates an incident, and it always changes something.
      if (incident === null) throw new Error('an entry always creates an incident');
      if (!changed && existing) return existing;
      const saved = existing
        ? await this.store.update(existing.id, { status: [existing.status], acknowledgedAtMs: existing.acknowledgedAtMs }, incident)
        : await this.store.insert({ clusterId, partitionId, rule: partitionIncidentRule, ...incident }).catch((error: unknown) => {
            if (attempt >= raiseAttemptsMax) throw error;
            return null;
          });
      if (saved) return this.emit(saved);
      if (attempt >= raiseAttemptsMax) throw new AppError('conflict', `the incident of partition ${partitionId} kept changing; not saved`);
    }
  }

  /**
   * Fires a partition's alert unless one was ever raised for its rule: for a new
   * leader replaying what its lifecycle's saved state says was raised, when the old
   * leader may have died between saving the state and raising the alert. Never
   * re-fires one that exists (resolved by an operator included), so no alert goes out twice.
   */
  async ensureRaised(input: { clusterId: string; partitionId: string; rule: string; severity: IncidentSeverity; title: string }): Promise<AlertView> {
    const existing = await this.store.findForPartition(input.partitionId, input.rule);
    if (existing) return existing;
    return this.create(input.clusterId, input.partitionId, input.rule, { type: 'fire', severity: input.severity, title: input.title }, this.clock.nowMs()).catch(async (error: unknown) => {
      // Alert_partitionId_rule_key: raised meanwhile by another instance.
      const raced = await this.store.findForPartition(input.partitionId, input.rule);
      if (raced) return raced;
      throw error;
    });
  }

  private async create(clusterId: string, partitionId: string | null, rule: string, event: IncidentEvent, nowMs: number): Promise<AlertView> {
    const step = stepIncident(null, event, nowMs);
    if (step.change === null) throw new Error('an alert is created only by firing');
    return this.emit(await this.store.insert({ clusterId, partitionId, rule, ...step.incident }));
  }

  /**
   * Fires an alert that belongs to no partition (an agent missing, a duplicate
   * identity): at most one open alert per cluster and rule, so firing again while
   * it is open changes nothing. Callers serialise calls for one rule.
   */
  async raiseForRule(input: { clusterId: string; rule: string; severity: IncidentSeverity; title: string }): Promise<AlertView> {
    const open = await this.store.findOpenForRule(input.clusterId, input.rule);
    if (open) return open;
    return this.create(input.clusterId, null, input.rule, { type: 'fire', severity: input.severity, title: input.title }, this.clock.nowMs());
  }

  /** Resolves the open partition-less alerts of a cluster and rule (the condition ended); returns them. */
  async resolveForRule(clusterId: string, rule: string, actor = 'system'): Promise<AlertView[]> {
    return this.resolveAll(await this.store.listOpen({ clusterId, rule, partitionless: true }), actor);
  }

  /** Resolves every open alert of a partition (for the lifecycle, when the partition ends). */
  async resolveForPartition(partitionId: string, actor = 'system'): Promise<AlertView[]> {
    return this.resolveAll(await this.store.listOpen({ partitionId }), actor);
  }

  private async resolveAll(open: AlertView[], actor: string): Promise<AlertView[]> {
    const resolved: AlertView[] = [];
    for (const alert of open) resolved.push(await this.resolve(alert.id, actor).catch(() => alert));
    return resolved;
  }

  /** Open partition-less alerts whose rule starts with `rulePrefix` (at most a page). */
  findOpenByRulePrefix(rulePrefix: string): Promise<AlertView[]> {
    return this.store.listOpen({ rulePrefix, partitionless: true });
  }

  /** Acknowledges a firing alert with a note; `conflict` when it is not firing. */
  acknowledge(id: string, actor: string, note: string): Promise<AlertView> {
    return this.decide(id, { type: 'acknowledge', actor, note });
  }

  /** Resolves an open alert; `conflict` when it is already resolved. */
  resolve(id: string, actor: string): Promise<AlertView> {
    return this.decide(id, { type: 'resolve', actor });
  }

  /**
   * Re-escalates acknowledgements that timed out: an alert acknowledged longer than
   * `timeoutMs` ago and still open fires again, as critical, with the earlier
   * acknowledgement kept in its note, so that an incident nobody follows up does
   * not stay quiet. Returns the alerts that fired again.
   */
  async reescalateStale(timeoutMs: number): Promise<AlertView[]> {
    const stale = await this.store.listOpen({ acknowledgedBeforeMs: this.clock.nowMs() - timeoutMs });
    const fired: AlertView[] = [];
    for (const alert of stale) {
      const saved = await this.apply(alert, { type: 'tick', acknowledgementTimeoutMs: timeoutMs }, { status: ['acknowledged'], acknowledgedAtMs: alert.acknowledgedAtMs });
      if (saved && saved.status === 'firing') fired.push(saved);
    }
    return fired;
  }

  /** Count of alerts by status, for the header badge. */
  countOpen(clusterId?: string): Promise<{ firing: number; acknowledged: number }> {
    return this.store.countOpen(clusterId);
  }
}
