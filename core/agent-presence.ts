/**
 * Which agents the server should be hearing from, and which of them stay away.
 * An agent is *known* while it was last seen (connected, or reporting before a
 * restart) within the known window; a known agent that is not connected is
 * *returning* during the reconnect grace, then *missing*; past the window it is
 * *forgotten* (decommissioned, or gone so long that an operator already knows).
 * Pure: time comes in as arguments.
 */

/** What the server knows of one agent's control connection. */
export interface PresenceEntry {
  clusterId: string;
  agentId: string;
  /** Last time the agent was connected to this server, or reported before it started (ms since epoch). */
  lastSeenAtMs: number;
  /** Whether its control connection is up (greeted) now. */
  connected: boolean;
  /** Since when it has been away (ms): its disconnect, or this server's start for agents known from before. */
  awaySinceMs: number;
  /** True once it has connected to this server process; false for agents only known from the database. */
  returnedSinceStart: boolean;
}

/** Windows of the presence rules. */
export interface PresenceOptions {
  /** An agent not seen for this long is no longer expected (ms). */
  knownWindowMs: number;
  /** How long a known agent may be away before it counts as missing (ms): reconnection after a restart or a blip. */
  reconnectGraceMs: number;
}

/** Where an agent stands. */
export type Presence = 'present' | 'returning' | 'missing' | 'forgotten';

/** Classifies one entry at `nowMs`. */
export function presenceOf(entry: PresenceEntry, nowMs: number, options: PresenceOptions): Presence {
  if (entry.connected) return 'present';
  if (nowMs - entry.lastSeenAtMs > options.knownWindowMs) return 'forgotten';
  return nowMs - entry.awaySinceMs > options.reconnectGraceMs ? 'missing' : 'returning';
}

/** Counts for readiness and metrics. */
export interface PresenceSummary {
  /** Agents expected: connected, returning or missing. */
  known: number;
  connected: number;
  /** Known agents away longer than the grace. */
  missing: number;
  /** Of those, agents known from before this server started that have not come back since. */
  missingSinceStart: number;
}

/** Summarises `entries` at `nowMs`. */
export function summarisePresence(entries: Iterable<PresenceEntry>, nowMs: number, options: PresenceOptions): PresenceSummary {
  const summary: PresenceSummary = { known: 0, connected: 0, missing: 0, missingSinceStart: 0 };
  for (const entry of entries) {
    const presence = presenceOf(entry, nowMs, options);
    if (presence === 'forgotten') continue;
    summary.known += 1;
    if (presence === 'present') summary.connected += 1;
    if (presence !== 'missing') continue;
    summary.missing += 1;
    if (!entry.returnedSinceStart) summary.missingSinceStart += 1;
  }
  return summary;
}

/**
 * Why the server is not ready, or null. Only agents that have not come back since
 * the start count: a server that lost its agents across a restart is not doing its
 * job, while an agent that connected and then went away is a node problem the
 * console shows and alerts on, not a reason to take the console out of service.
 */
export function presenceUnreadyReason(summary: PresenceSummary, options: PresenceOptions): string | null {
  if (summary.missingSinceStart === 0) return null;
  return `agents: ${summary.missingSinceStart} of ${summary.known} known agents have not reconnected since the server started (grace ${Math.round(options.reconnectGraceMs / 1000)} s)`;
}

/**
 * What to do with a second connection that claims an agent already connected:
 * refuse it while the holder is evidently alive (heard within `holderSilenceMaxMs`),
 * replace a holder that has gone silent (a half-open connection the server has not
 * noticed yet).
 */
export function duplicateDecision(holderHeardAtMs: number, nowMs: number, holderSilenceMaxMs: number): 'refuse-newcomer' | 'replace-holder' {
  return nowMs - holderHeardAtMs <= holderSilenceMaxMs ? 'refuse-newcomer' : 'replace-holder';
}
