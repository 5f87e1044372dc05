/**
 * Alert grouping: one incident per partition, whatever the number of nodes or
 * reasons behind it. An incident goes firing → acknowledged (by whom, with a note)
 * → resolved; an acknowledgement that outlives its timeout while the partition is
 * still open fires the incident again (re-escalation). Notifications are effects.
 */

/** Reasons kept per incident; further distinct reasons are counted, not listed. */
export const incidentReasonsMax = 32;

/** Where an incident stands. */
export type IncidentStatus = 'firing' | 'acknowledged' | 'resolved';

/** One incident: all alerts of one partition. */
export interface Incident {
  /** The partition (also the grouping key). */
  partitionId: string;
  /** Status. */
  status: IncidentStatus;
  /** Highest severity seen. */
  severity: 'warning' | 'critical';
  /** Distinct reasons, oldest first (at most `incidentReasonsMax`). */
  reasons: string[];
  /** Alerts folded into this incident, including duplicates suppressed. */
  alertCount: number;
  /** When it first fired (ms since epoch). */
  firstFiredAtMs: number;
  /** When it last (re)fired (ms). */
  lastFiredAtMs: number;
  /** The acknowledgement in force, if any. */
  acknowledgement: { actor: string; note: string; atMs: number } | null;
  /** Times it re-fired because an acknowledgement timed out. */
  escalations: number;
  /** When it resolved (ms), or null. */
  resolvedAtMs: number | null;
}

/** Events on an incident. */
export type IncidentEvent =
  | { type: 'alert'; reason: string; severity: 'warning' | 'critical' }
  | { type: 'acknowledge'; actor: string; note: string }
  | { type: 'resolve' }
  | { type: 'tick'; acknowledgementTimeoutMs: number };

/** What to tell the outside world: the webhook (Alertmanager-style) and the dashboards. */
export type IncidentEffect =
  | { kind: 'persist-incident'; incident: Incident }
  | { kind: 'notify'; incident: Incident; why: 'fired' | 'escalated' | 'severity-raised' | 'resolved' };

/** Result of one incident step. */
export interface IncidentStepResult {
  /** The incident after the event; null if there was none and the event did not create one. */
  incident: Incident | null;
  /** Effects, persist first. */
  effects: IncidentEffect[];
}

function fire(partitionId: string, reason: string, severity: 'warning' | 'critical', nowMs: number): Incident {
  return {
    partitionId,
    status: 'firing',
    severity,
    reasons: [reason],
    alertCount: 1,
    firstFiredAtMs: nowMs,
    lastFiredAtMs: nowMs,
    acknowledgement: null,
    escalations: 0,
    resolvedAtMs: null,
  };
}

function changed(incident: Incident, why: 'fired' | 'escalated' | 'severity-raised' | 'resolved' | null): IncidentStepResult {
  const effects: IncidentEffect[] = [{ kind: 'persist-incident', incident }];
  if (why !== null) effects.push({ kind: 'notify', incident, why });
  return { incident, effects };
}

function onAlert(incident: Incident, reason: string, severity: 'warning' | 'critical'): IncidentStepResult {
  const known = incident.reasons.includes(reason);
  const reasons = known || incident.reasons.length >= incidentReasonsMax ? incident.reasons : [...incident.reasons, reason];
  const raised = severity === 'critical' && incident.severity === 'warning';
  const next: Incident = { ...incident, reasons, alertCount: incident.alertCount + 1, severity: raised ? 'critical' : incident.severity };
  if (raised) return changed({ ...next, status: 'firing', acknowledgement: null }, 'severity-raised');
  return changed(next, null);
}

/** Advances the incident of `partitionId` (null if it has none yet). Alerts on a resolved incident are ignored. */
export function stepIncident(incident: Incident | null, partitionId: string, event: IncidentEvent, nowMs: number): IncidentStepResult {
  if (incident === null) {
    if (event.type !== 'alert') return { incident: null, effects: [] };
    return changed(fire(partitionId, event.reason, event.severity, nowMs), 'fired');
  }
  if (incident.status === 'resolved') return { incident, effects: [] };
  switch (event.type) {
    case 'alert':
      return onAlert(incident, event.reason, event.severity);
    case 'acknowledge':
      if (incident.status !== 'firing') return { incident, effects: [] };
      return changed({ ...incident, status: 'acknowledged', acknowledgement: { actor: event.actor, note: event.note, atMs: nowMs } }, null);
    case 'resolve':
      return changed({ ...incident, status: 'resolved', resolvedAtMs: nowMs }, 'resolved');
    case 'tick': {
      const acknowledgement = incident.acknowledgement;
      if (incident.status !== 'acknowledged' || acknowledgement === null) return { incident, effects: [] };
      if (nowMs - acknowledgement.atMs < event.acknowledgementTimeoutMs) return { incident, effects: [] };
      const escalated = { ...incident, status: 'firing' as const, lastFiredAtMs: nowMs, escalations: incident.escalations + 1 };
      return changed(escalated, 'escalated');
    }
  }
}
