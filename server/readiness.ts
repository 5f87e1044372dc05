/** Whether the server is ready for traffic (GET /readyz): the database answers, it is not shutting down and, when required, its agents are back. */
import type { Readiness } from '../core/http-views';
import type { AgentPresence } from './agent-presence';
import type { ClusterRegistry } from './cluster-registry';
import { probeDatabase } from './database-probe';
import type { Database } from './db/database';

export async function readinessOf(input: {
  database: Database;
  registry: ClusterRegistry;
  presence: Pick<AgentPresence, 'summary' | 'unreadyReason'>;
  /** A report older than this no longer counts (ms). */
  staleAfterMs: number;
  /** Whether missing agents make the server unready. */
  requiresAgents: boolean;
  closing: boolean;
  /** Who leads (several instances on one database); leadership does not make an instance unready: followers serve too. */
  leadership?: Readiness['leadership'];
}): Promise<Readiness> {
  const databaseHealth = await probeDatabase(input.database);
  const nowMs = Date.now();
  const nodes = input.registry.list().flatMap((cluster) => [...cluster.nodes.values()]);
  const agents = input.presence.summary();
  const agentsReason = input.requiresAgents ? input.presence.unreadyReason() : null;
  const reasons = [
    ...(databaseHealth.ok ? [] : [`database: ${databaseHealth.error ?? 'unreachable'}`]),
    ...(input.closing ? ['server: shutting down'] : []),
    ...(agentsReason ? [agentsReason] : []),
  ];
  return {
    ready: reasons.length === 0,
    reasons,
    database: { ok: databaseHealth.ok, latencyMs: databaseHealth.latencyMs },
    agents: {
      ...agents,
      stale: nodes.filter((node) => node.connected && (node.lastReportAtMs === null || nowMs - node.lastReportAtMs > input.staleAfterMs)).length,
    },
    ...(input.leadership ? { leadership: input.leadership } : {}),
  };
}
