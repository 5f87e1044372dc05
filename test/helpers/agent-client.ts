/**
 * A raw agent-side Socket.IO client for tests that must control every byte an
 * agent sends: connect with a token, say hello, send signed (or deliberately
 * mis-signed) reports.
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { io, type Socket } from 'socket.io-client';
import type { AgentReport } from '../../core/protocol';
import { type AgentToServerEvents, type ServerToAgentEvents, agentNamespace } from '../../core/realtime-contract';
import { reportSignature } from '../../core/report-signature';

const signature = reportSignature({ createHash, createHmac });

export type AgentClientSocket = Socket<ServerToAgentEvents, AgentToServerEvents>;

/** Connects as (clusterId, agentId) with `token`; rejects with the handshake error. */
export async function connectAgentClient(baseUrl: string, token: string, clusterId: string, agentId: string): Promise<AgentClientSocket> {
  const socket: AgentClientSocket = io(`${baseUrl}${agentNamespace}`, { transports: ['websocket'], reconnection: false, auth: { token, clusterId, agentId } });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', (error) => {
      socket.close();
      reject(error);
    });
  });
  return socket;
}

/** A plausible report. */
export function makeReport(clusterId: string, agentId: string, sequence: number, overrides: Partial<AgentReport> = {}): AgentReport {
  return {
    clusterId,
    agentId,
    incarnation: 1,
    sequence,
    sentAtMs: Date.now(),
    heartbeatIntervalMs: 100,
    observations: [{ peerId: 'peer-1', reachable: true, lastHeardAtMs: Date.now(), sinceMs: 0, suspicion: 0 }],
    evidence: [],
    ...overrides,
  };
}

/** Signs `report` as the holder of `token` would, now (or at `signedAtMs`). */
export function signAs(token: string, report: AgentReport, signedAtMs = Date.now()): AgentReport {
  return signature.sign(report, signature.signingKey(signature.tokenVerifier(token)), signedAtMs, randomBytes(16).toString('base64url'));
}
