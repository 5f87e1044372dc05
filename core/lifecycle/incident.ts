/**
 * One alert (an incident) as a pure step function:
 * `stepIncident(incident, event, nowMs) → { incident, change }`.
 * An incident is keyed by its scope: a partition has exactly one, and everything
 * that partition causes (threshold breaches, emergency mode, a recovery waiting for
 * approval) is an entry on it, as Alertmanager groups alerts by label, so one
 * acknowledgement covers the partition; a partition-less rule (an agent missing)
 * has one per cluster and rule. A new entry raises the severity to the highest
 * seen and keeps the status (an acknowledged incident stays acknowledged). Status moves only forward
 * (firing → acknowledged → resolved), except that a resolved incident that fires
 * again starts over as firing, and an acknowledgement that outlives its timeout
 * while still open fires again as critical (re-escalation). A step that is refused
 * says why, in words an operator reads.
 */

/** Longest note an incident keeps, in characters. */
export const incidentNoteLengthMax = 2000;

/** Entries an incident keeps; past it the oldest but the first are dropped. */
export const incidentEntriesMax = 50;

/** Where an incident stands. */
export type IncidentStatus = 'firing' | 'acknowledged' | 'resolved';

/** How bad an incident is. */
export type IncidentSeverity = 'info' | 'warning' | 'critical';

/** One thing that happened under an incident: the partition itself, a threshold breach, an emergency, a recovery waiting. */
export interface IncidentEntry {
  /** When (ms since epoch). */
  atMs: number;
  /** The rule, for example `partition-detected`, `data-divergence`, `emergency-mode`. */
  rule: string;
  severity: IncidentSeverity;
  /** What happened, with its value against the threshold where there is one. */
  title: string;
  /** A console path that shows more or asks for a decision (the pending recovery), or null. */
  link: string | null;
}

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
  /** What happened under it, oldest first (at most `incidentEntriesMax`). */
  entries: IncidentEntry[];
}

/** Events on an incident. */
export type IncidentEvent =
  /** Something under the incident's scope fired; `rule` defaults to the title's rule-less ''. */
  | { type: 'fire'; severity: IncidentSeverity; title: string; rule?: string; link?: string | null }
  | { type: 'acknowledge'; actor: string; note: string }
  | { type: 'resolve'; actor: string }
  | { type: 'tick'; acknowledgementTimeoutMs: number };

/** What a step changed; the server saves the incident, then notifies (dashboards, webhook). */
export type IncidentChange = 'fired' | 'refired' | 'acknowledged' | 'resolved' | 'escalated' | 'entry-added';

/** The result of one step: a change, nothing (`change: null`), or a refusal. */
export type IncidentStepResult =
  | { incident: Incident; change: IncidentChange; refused: null }
  | { incident: Incident | null; change: null; refused: string | null };

const unchanged = (incident: Incident | null, refused: string | null = null): IncidentStepResult => ({ incident, change: null, refused });

const severityRank: Record<IncidentSeverity, number> = { info: 0, warning: 1, critical: 2 };

/** The higher of two severities. */
export function maxSeverity(a: IncidentSeverity, b: IncidentSeverity): IncidentSeverity {
  return severityRank[a] >= severityRank[b] ? a : b;
}

type FireEvent = Extract<IncidentEvent, { type: 'fire' }>;

const entryOf = (event: FireEvent, nowMs: number): IncidentEntry => ({ atMs: nowMs, rule: event.rule ?? '', severity: event.severity, title: event.title, link: event.link ?? null });

function bounded(entries: IncidentEntry[]): IncidentEntry[] {
  return entries.length <= incidentEntriesMax ? entries : [entries[0]!, ...entries.slice(entries.length - incidentEntriesMax + 1)];
}

function fired(event: FireEvent, nowMs: number, earlier: IncidentEntry[] = []): Incident {
  return {
    status: 'firing',
    severity: event.severity,
    title: event.title,
    firedAtMs: nowMs,
    acknowledgedAtMs: null,
    acknowledgedBy: null,
    note: null,
    resolvedAtMs: null,
    resolvedBy: null,
    entries: bounded([...earlier, entryOf(event, nowMs)]),
  };
}

/** An open incident gets an entry, unless its rule already has one since it (last) fired. */
function addEntry(incident: Incident, event: FireEvent, nowMs: number): IncidentStepResult {
  const rule = event.rule ?? '';
  if (incident.entries.some((entry) => entry.rule === rule && entry.atMs >= incident.firedAtMs)) return unchanged(incident);
  const next = { ...incident, severity: maxSeverity(incident.severity, event.severity), entries: bounded([...incident.entries, entryOf(event, nowMs)]) };
  return { incident: next, change: 'entry-added', refused: null };
}

/** Advances an incident (null when its key has none yet: only `fire` creates one). */
export function stepIncident(incident: Incident | null, event: IncidentEvent, nowMs: number): IncidentStepResult {
  switch (event.type) {
    case 'fire':
      if (incident === null) return { incident: fired(event, nowMs), change: 'fired', refused: null };
      // While open, a new rule adds an entry (the same rule again changes nothing); after resolution it starts over.
      if (incident.status !== 'resolved') return addEntry(incident, event, nowMs);
      return { incident: fired(event, nowMs, incident.entries), change: 'refired', refused: null };
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
