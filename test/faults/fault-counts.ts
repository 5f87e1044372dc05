/**
 * Counting for fault tests: what the agents sent against what the database holds,
 * per agent, and the figures every fault test prints.
 */
import pg from 'pg';
import type { LoadAgent } from '../helpers/load-agent';

/** The figures a fault test asserts and prints. */
export interface FaultCounts {
  sent: number;
  stored: number;
  /** Rows beyond one per (agent, incarnation, sequence): must be 0. */
  duplicates: number;
  /** Sent but not stored: must be 0. */
  lost: number;
  /** Stored but never sent (would mean corruption): must be 0. */
  unexpected: number;
  /** Re-sent reports the server answered "already stored" (lost acknowledgements). */
  duplicateAcks: number;
}

/** What counting needs of an agent: an in-process LoadAgent, or the last status of an agent process. */
export interface CountedAgent {
  agentId: string;
  incarnation: number;
  /** Reports durably appended to its outbox (sequence numbers 1..n). */
  sentCount(): number;
  link: { duplicateCount: number };
}

/** Counts, from the database at `databaseUrl`, what the agents of `clusterId` sent and what is stored. */
export async function countReports(databaseUrl: string, clusterId: string, agents: CountedAgent[]): Promise<FaultCounts> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const counts: FaultCounts = { sent: 0, stored: 0, duplicates: 0, lost: 0, unexpected: 0, duplicateAcks: 0 };
    for (const agent of agents) {
      const sent = agent.sentCount();
      const { rows } = await client.query<{ sequence: string; copies: string }>(
        'SELECT sequence::text, count(*)::text AS copies FROM "AgentReport" WHERE "clusterId" = $1 AND "agentId" = $2 AND incarnation = $3 GROUP BY sequence',
        [clusterId, agent.agentId, agent.incarnation],
      );
      const stored = new Set(rows.map((row) => Number(row.sequence)));
      counts.sent += sent;
      counts.stored += rows.reduce((sum, row) => sum + Number(row.copies), 0);
      counts.duplicates += rows.reduce((sum, row) => sum + Number(row.copies) - 1, 0);
      for (let sequence = 1; sequence <= sent; sequence += 1) if (!stored.has(sequence)) counts.lost += 1;
      counts.unexpected += [...stored].filter((sequence) => sequence < 1 || sequence > sent).length;
      counts.duplicateAcks += agent.link.duplicateCount;
    }
    return counts;
  } finally {
    await client.end();
  }
}

/** Waits until every agent's outbox is empty, or throws after `timeoutMs`. */
export async function waitForDrain(agents: LoadAgent[], timeoutMs: number): Promise<number> {
  const started = Date.now();
  while (agents.some((agent) => agent.outbox.depth() > 0 || agent.sentCount() === 0)) {
    if (Date.now() - started > timeoutMs) {
      throw new Error(`outboxes not drained after ${timeoutMs} ms: ${agents.map((agent) => `${agent.agentId}=${agent.outbox.depth()}`).join(' ')}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return Date.now() - started;
}

/** Prints the counts in one line the CI log can be searched for. */
export function printCounts(test: string, counts: FaultCounts, extra: Record<string, unknown> = {}): void {
  console.log(`FAULT ${test}: ${JSON.stringify({ ...counts, ...extra })}`);
}
