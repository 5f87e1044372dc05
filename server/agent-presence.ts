/**
 * Watches the agents the server should be hearing from. At start it loads the
 * nodes the database saw within the known window (agents connected before a
 * restart); afterwards the agents namespace tells it who connects and leaves. A
 * known agent away past the reconnect grace raises an `agent-missing:<id>` alert,
 * resolved when it returns; a refused duplicate connection raises
 * `agent-duplicate:<id>`. Readiness asks it how many known agents have not come
 * back since the start. The rules themselves are in core/agent-presence.ts.
 */
import { type PresenceEntry, type PresenceOptions, type PresenceSummary, presenceOf, presenceUnreadyReason, summarisePresence } from '../core/agent-presence';
import type { PrismaClient } from '../generated/prisma/client';
import type { AlertsService } from './alerts-service';
import type { Logger } from './logger';

/** Most agents remembered (loaded at start plus connected since). */
export const knownAgentsMax = 10_000;
/** How often absences are looked at (ms). */
export const presenceCheckMs = 1000;
/** How often connected agents' `lastSeenAt` is written, so a restart knows who was there (ms); well under the known window. */
export const lastSeenFlushMs = 60_000;
/** A second duplicate-connection alert for one agent is not raised sooner than this (ms). */
export const duplicateAlertEveryMs = 60_000;

/** Rule of the alert for a known agent that stays away. */
export const agentMissingRule = (agentId: string) => `agent-missing:${agentId}`;
/** Rule of the alert for a refused second connection with an agent's identity. */
export const agentDuplicateRule = (agentId: string) => `agent-duplicate:${agentId}`;

interface Tracked extends PresenceEntry {
  /** An `agent-missing` alert is open for it (raised by this process or found open at start). */
  alerted: boolean;
}

export class AgentPresence {
  private readonly entries = new Map<string, Tracked>();
  private readonly duplicateAlertedAtMs = new Map<string, number>();
  /** When this instance started watching (its start, or its takeover as leader). */
  private startedAtMs: number;
  private checkTimer: NodeJS.Timeout | null = null;
  private flushTimer: NodeJS.Timeout | null = null;
  /** One alert write at a time, in order, so an alert is never raised and resolved out of order. */
  private work: Promise<void> = Promise.resolve();

  constructor(
    private readonly deps: {
      prisma: PrismaClient;
      alerts: AlertsService;
      logger: Logger;
      nowMs: () => number;
      options: PresenceOptions;
      /** Clusters whose agents are not expected back (the demo cluster when the demo is off now). */
      ignoredClusters?: readonly string[];
    },
  ) {
    this.startedAtMs = deps.nowMs();
  }

  /** Loads the agents known from before the start and open alerts, then watches. */
  async start(): Promise<void> {
    this.startedAtMs = this.deps.nowMs();
    const since = new Date(this.startedAtMs - this.deps.options.knownWindowMs);
    const nodes = await this.deps.prisma.node.findMany({
      where: { lastSeenAt: { gte: since }, clusterId: { notIn: [...(this.deps.ignoredClusters ?? [])] } },
      select: { clusterId: true, id: true, lastSeenAt: true },
      orderBy: { lastSeenAt: 'desc' },
      take: knownAgentsMax,
    });
    for (const node of nodes) {
      this.entries.set(`${node.clusterId}/${node.id}`, {
        clusterId: node.clusterId,
        agentId: node.id,
        lastSeenAtMs: node.lastSeenAt.getTime(),
        connected: false,
        awaySinceMs: this.startedAtMs,
        returnedSinceStart: false,
        alerted: false,
      });
    }
    for (const alert of await this.deps.alerts.findOpenByRulePrefix(agentMissingRule(''))) {
      const entry = this.entries.get(`${alert.clusterId}/${alert.rule.slice(agentMissingRule('').length)}`);
      if (entry) entry.alerted = true;
    }
    this.deps.logger.info({ known: this.entries.size, knownWindowMs: this.deps.options.knownWindowMs }, 'known agents loaded');
    this.checkTimer = setInterval(() => this.check(), presenceCheckMs);
    this.flushTimer = setInterval(() => void this.flushLastSeen(), lastSeenFlushMs);
  }

  /** An agent connected and said hello. */
  agentReady(clusterId: string, agentId: string): void {
    const key = `${clusterId}/${agentId}`;
    const entry = this.entries.get(key) ?? this.track(key, clusterId, agentId);
    if (!entry) return;
    const wasMissing = entry.alerted;
    Object.assign(entry, { connected: true, returnedSinceStart: true, lastSeenAtMs: this.deps.nowMs(), alerted: false });
    if (wasMissing) this.enqueue(() => this.deps.alerts.resolveForRule(clusterId, agentMissingRule(agentId)), 'agent-missing alert not resolved');
  }

  /** The agent's current connection closed. */
  agentGone(clusterId: string, agentId: string): void {
    const entry = this.entries.get(`${clusterId}/${agentId}`);
    if (!entry) return;
    const nowMs = this.deps.nowMs();
    Object.assign(entry, { connected: false, awaySinceMs: nowMs, lastSeenAtMs: nowMs });
  }

  /** A second connection with this agent's identity was refused: flag it (alert at most every `duplicateAlertEveryMs`). */
  duplicateRefused(clusterId: string, agentId: string, detail: string): void {
    const key = `${clusterId}/${agentId}`;
    const nowMs = this.deps.nowMs();
    if (nowMs - (this.duplicateAlertedAtMs.get(key) ?? -Infinity) < duplicateAlertEveryMs) return;
    if (!this.duplicateAlertedAtMs.has(key) && this.duplicateAlertedAtMs.size >= knownAgentsMax) return;
    this.duplicateAlertedAtMs.set(key, nowMs);
    const title = `A second connection claimed agent ${agentId} while it was connected, and was refused (${detail}); a leaked credential or a duplicated deployment: revoke and re-issue it if it was not yours`;
    this.enqueue(() => this.deps.alerts.raiseForRule({ clusterId, rule: agentDuplicateRule(agentId), severity: 'warning', title }), 'agent-duplicate alert not raised');
  }

  /** Counts at `nowMs`. */
  summary(): PresenceSummary {
    return summarisePresence(this.entries.values(), this.deps.nowMs(), this.deps.options);
  }

  /** Why the server is not ready because of its agents, or null. */
  unreadyReason(): string | null {
    return presenceUnreadyReason(this.summary(), this.deps.options);
  }

  /** Stops watching and records who was connected, so the next start knows them. */
  async stop(): Promise<void> {
    if (this.checkTimer) clearInterval(this.checkTimer);
    if (this.flushTimer) clearInterval(this.flushTimer);
    this.checkTimer = this.flushTimer = null;
    await this.work;
    await this.flushLastSeen();
  }

  private track(key: string, clusterId: string, agentId: string): Tracked | null {
    if (this.entries.size >= knownAgentsMax) return null;
    const nowMs = this.deps.nowMs();
    const entry: Tracked = { clusterId, agentId, lastSeenAtMs: nowMs, connected: false, awaySinceMs: nowMs, returnedSinceStart: true, alerted: false };
    this.entries.set(key, entry);
    return entry;
  }

  /** Raises an alert for each agent newly missing; forgets agents past the known window. */
  private check(): void {
    const nowMs = this.deps.nowMs();
    for (const [key, entry] of this.entries) {
      const presence = presenceOf(entry, nowMs, this.deps.options);
      if (presence === 'forgotten') this.entries.delete(key);
      if (presence !== 'missing' || entry.alerted) continue;
      entry.alerted = true;
      const awayS = Math.round((nowMs - entry.awaySinceMs) / 1000);
      const title = entry.returnedSinceStart
        ? `Agent ${entry.agentId} disconnected ${awayS} s ago and has not reconnected`
        : `Agent ${entry.agentId} has not reconnected since the server started ${awayS} s ago (last seen ${new Date(entry.lastSeenAtMs).toISOString()})`;
      this.deps.logger.warn({ clusterId: entry.clusterId, agentId: entry.agentId, awayS }, 'known agent missing');
      this.enqueue(() => this.deps.alerts.raiseForRule({ clusterId: entry.clusterId, rule: agentMissingRule(entry.agentId), severity: 'warning', title }), 'agent-missing alert not raised', () => {
        entry.alerted = false; // raised again at the next check
      });
    }
  }

  private enqueue(write: () => Promise<unknown>, failure: string, onFailure?: () => void): void {
    this.work = this.work.then(write).then(
      () => undefined,
      (error: unknown) => {
        onFailure?.();
        this.deps.logger.warn({ err: error }, failure);
      },
    );
  }

  /** Writes `lastSeenAt` of the connected agents, one statement per cluster. */
  private async flushLastSeen(): Promise<void> {
    const byCluster = new Map<string, string[]>();
    for (const entry of this.entries.values()) {
      if (!entry.connected) continue;
      const ids = byCluster.get(entry.clusterId) ?? [];
      ids.push(entry.agentId);
      byCluster.set(entry.clusterId, ids);
    }
    const lastSeenAt = new Date(this.deps.nowMs());
    for (const [clusterId, ids] of byCluster) {
      await this.deps.prisma.node.updateMany({ where: { clusterId, id: { in: ids } }, data: { lastSeenAt } }).catch((error: unknown) => {
        this.deps.logger.warn({ err: error, clusterId }, 'lastSeenAt not written');
      });
    }
  }
}
