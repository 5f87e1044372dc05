/**
 * One alert (an incident) as a pure step function:
 * `stepIncident(incident, event, nowMs) → { incident, change }`.
 * An incident is keyed by its scope (a partition, or a cluster for partition-less
 * rules) and rule; the server keeps one per key. Status moves only forward
 * (firing → acknowledged → resolved), except that a resolved incident that fires
 * again starts over as firing, and an acknowledgement that outlives its timeout
 * while still open fires again as critical (re-escalation). A step that is refused
 * says why, in words an operator reads.
 */

/** Longest note an incident keeps, in characters. */
export const incidentNoteLengthMax = 2000;

/** Where an incident stands. */
export type IncidentStatus = 'firing' | 'acknowledged' | 'resolved';

/** How bad an incident is. */
export type IncidentSeverity = 'info' | 'warning' | 'critical';

/** One incident, as saved. */
export interface Incident {
  status: IncidentStatus;
  severity: IncidentSeverity;
  title: string;
  /** When it (last) fired (ms since epoch). */
  firedAtMs: number;
  acknowledgedAtMs: number | null;
  acknowledgedBy: string | null;
  /** The acknowledgement's note, or the re-escalation's account of it. */
  note: string | null;
  resolvedAtMs: number | null;
  resolvedBy: string | null;
}

/** Events on an incident. */
export type IncidentEvent =
  | { type: 'fire'; severity: IncidentSeverity; title: string }
  | { type: 'acknowledge'; actor: string; note: string }
  | { type: 'resolve'; actor: string }
  | { type: 'tick'; acknowledgementTimeoutMs: number };

/** What a step changed; the server saves the incident, then notifies (dashboards, webhook). */
export type IncidentChange = 'fired' | 'refired' | 'acknowledged' | 'resolved' | 'escalated';

/** The result of one step: a change, nothing (`change: null`), or a refusal. */
export type IncidentStepResult =
  | { incident: Incident; change: IncidentChange; refused: null }
  | { incident: Incident | null; change: null; refused: string | null };

const unchanged = (incident: Incident | null, refused: string | null = null): IncidentStepResult => ({ incident, change: null, refused });

function fired(severity: IncidentSeverity, title: string, nowMs: number): Incident {
  return { status: 'firing', severity, title, firedAtMs: nowMs, acknowledgedAtMs: null, acknowledgedBy: null, note: null, resolvedAtMs: null, resolvedBy: null };
}

/** Advances an incident (null when its key has none yet: only `fire` creates one). */
export function stepIncident(incident: Incident | null, event: IncidentEvent, nowMs: number): IncidentStepResult {
  switch (event.type) {
    case 'fire':
      if (incident === null) return { incident: fired(event.severity, event.title, nowMs), change: 'fired', refused: null };
      // Firing again while open changes nothing; after resolution it starts over.
      if (incident.status !== 'resolved') return unchanged(incident);
      return { incident: fired(event.severity, event.title, nowMs), change: 'refired', refused: null };
    case 'acknowledge':
      if (incident === null) return unchanged(null, 'no such alert');
      if (incident.status !== 'firing') {
        const by = incident.acknowledgedBy ? ` (acknowledged by ${incident.acknowledgedBy})` : '';
        return unchanged(incident, `alert is ${incident.status}${by}; only a firing alert can be acknowledged`);
      }
      return {
        incident: { ...incident, status: 'acknowledged', acknowledgedAtMs: nowMs, acknowledgedBy: event.actor, note: event.note.slice(0, incidentNoteLengthMax) },
        change: 'acknowledged',
        refused: null,
      };
    case 'resolve':
      if (incident === null) return unchanged(null, 'no such alert');
      if (incident.status === 'resolved') return unchanged(incident, 'alert is already resolved');
      return { incident: { ...incident, status: 'resolved', resolvedAtMs: nowMs, resolvedBy: event.actor }, change: 'resolved', refused: null };
    case 'tick': {
      if (incident?.status !== 'acknowledged' || incident.acknowledgedAtMs === null) return unchanged(incident);
      if (nowMs - incident.acknowledgedAtMs <= event.acknowledgementTimeoutMs) return unchanged(incident);
      const minutes = Math.round(event.acknowledgementTimeoutMs / 60_000);
      const note = `acknowledged by ${incident.acknowledgedBy ?? 'someone'} (${incident.note ?? 'no note'}) but still open after ${minutes} min`;
      return {
        incident: { ...incident, status: 'firing', severity: 'critical', acknowledgedAtMs: null, acknowledgedBy: null, note: note.slice(0, incidentNoteLengthMax) },
        change: 'escalated',
        refused: null,
      };
    }
  }
}
