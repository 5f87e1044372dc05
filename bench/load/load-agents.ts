/**
 * Simulated agents for load runs: each holds its own credential, opens its own
 * Socket.IO control connection like the real agent (token handshake, hello), and
 * sends a signed report every heartbeat interval (core/report-signature.ts, as
 * agent/server-link.ts signs them), answering the server's commands. A report says
 * the agent hears its `peersPerReport` ring neighbours (a node's bounded probe set);
 * the tool measures each report's acknowledgement latency.
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { io, type Socket } from 'socket.io-client';
import type { AgentReport } from '../../core/protocol';
import { type AgentToServerEvents, type ServerToAgentEvents, agentNamespace } from '../../core/realtime-contract';
import { canonicalJson } from '../../core/canonical-json';
import { reportSignature } from '../../core/report-signature';
import type { SessionHeaders } from '../../test/helpers/server-harness';

const signature = reportSignature({ createHash, createHmac });
/** Credentials issued at once while provisioning. */
const provisionConcurrency = 32;
/** Handshake attempts per agent before the run gives up (a loaded server may refuse some). */
const connectAttemptsMax = 6;
/** Longest an acknowledgement is waited for (ms); later ones count as failed. */
const ackTimeoutMs = 10_000;

/** Why reports failed, across every load agent of this process: the reply's code, or `timeout`. */
export const failureCodes = new Map<string, number>();

/** Why load agents' connections closed other than by the tool itself, across this process. */
export const disconnectReasons = new Map<string, number>();

/** Runs `attempt` until it succeeds, at most `connectAttemptsMax` times, backing off between tries: a loaded server refuses some handshakes. */
export async function withRetries<T>(attempt: () => Promise<T>): Promise<T> {
  for (let tries = 1; ; tries += 1) {
    try {
      return await attempt();
    } catch (error) {
      if (tries >= connectAttemptsMax) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200 * 2 ** tries));
    }
  }
}

/** One agent's id and credential. */
export interface AgentIdentity {
  agentId: string;
  token: string;
}

/** Issues a credential per agent through the admin API (`POST /api/agent-credentials`). */
export async function provisionAgents(url: string, admin: SessionHeaders, clusterId: string, count: number): Promise<AgentIdentity[]> {
  const ids = Array.from({ length: count }, (_, index) => `n${index + 1}`);
  const identities: AgentIdentity[] = new Array(count);
  let next = 0;
  const worker = async () => {
    while (next < ids.length) {
      const index = next++;
      const response = await fetch(`${url}/api/agent-credentials`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...admin },
        body: JSON.stringify({ clusterId, agentId: ids[index] }),
      });
      const payload = (await response.json()) as { ok: boolean; data?: { token: string }; message?: string };
      if (!payload.ok || !payload.data) throw new Error(`credential for ${ids[index]} refused: ${payload.message}`);
      identities[index] = { agentId: ids[index]!, token: payload.data.token };
    }
  };
  await Promise.all(Array.from({ length: provisionConcurrency }, worker));
  return identities;
}

/** What one load agent counted. */
export interface AgentTally {
  sent: number;
  acked: number;
  failed: number;
  /** Acknowledgement latencies (ms) of the reports sent while measuring. */
  ackLatenciesMs: number[];
}

/** A connected simulated agent. */
export class LoadAgent {
  readonly tally: AgentTally = { sent: 0, acked: 0, failed: 0, ackLatenciesMs: [] };
  private timer: NodeJS.Timeout | null = null;
  private sequence = 0;
  private readonly incarnation = Date.now();
  private readonly signingKey: Uint8Array;
  private readonly template: SignedReportTemplate;
  /** Whether latencies are being recorded (off during warm-up). */
  measuring = false;

  private constructor(
    private readonly socket: Socket<ServerToAgentEvents, AgentToServerEvents>,
    private readonly clusterId: string,
    private readonly identity: AgentIdentity,
    private readonly peers: string[],
  ) {
    this.signingKey = signature.signingKey(signature.tokenVerifier(identity.token));
    this.template = new SignedReportTemplate(this.signingKey, (nowMs, sequence) => this.reportAt(nowMs, sequence));
  }

  /** Connects (retrying a refused handshake, as the agent's link does), says hello naming its peers, and answers commands. */
  static async connect(url: string, clusterId: string, identity: AgentIdentity, peers: string[]): Promise<LoadAgent> {
    return withRetries(() => LoadAgent.connectOnce(url, clusterId, identity, peers));
  }

  private static async connectOnce(url: string, clusterId: string, identity: AgentIdentity, peers: string[]): Promise<LoadAgent> {
    const socket: Socket<ServerToAgentEvents, AgentToServerEvents> = io(`${url}${agentNamespace}`, {
      transports: ['websocket'],
      forceNew: true,
      reconnection: false,
      auth: { token: identity.token, clusterId, agentId: identity.agentId },
    });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', (error) => {
        socket.close();
        reject(error);
      });
    });
    socket.on('command', (_command, reply) => reply({ ok: true, data: null }));
    socket.on('disconnect', (reason) => {
      if (reason !== 'io client disconnect') disconnectReasons.set(reason, (disconnectReasons.get(reason) ?? 0) + 1);
    });
    const agent = new LoadAgent(socket, clusterId, identity, peers);
    const hello = await socket.timeout(ackTimeoutMs).emitWithAck('hello', { clusterId, agentId: identity.agentId, address: '127.0.0.1:9', incarnation: agent.incarnation, peers });
    if (!hello.ok) throw new Error(`hello of ${identity.agentId} refused: ${hello.message}`);
    return agent;
  }

  /** Starts reporting every `intervalMs`, the first after `phaseMs`. */
  start(intervalMs: number, phaseMs: number): void {
    this.timer = setTimeout(() => {
      this.timer = setInterval(() => this.report(), intervalMs);
      this.report();
    }, phaseMs);
  }

  /** This agent's report at `nowMs` with sequence `sequence`. */
  private reportAt(nowMs: number, sequence: number): AgentReport {
    return {
      clusterId: this.clusterId,
      agentId: this.identity.agentId,
      incarnation: this.incarnation,
      sequence,
      sentAtMs: nowMs,
      heartbeatIntervalMs: 250,
      observations: this.peers.map((peerId) => ({ peerId, reachable: true, lastHeardAtMs: nowMs - 50, sinceMs: this.incarnation, suspicion: 0.1 })),
      evidence: [],
      outboxDepth: 1,
      outboxDropped: 0,
    };
  }

  private report(): void {
    this.sequence += 1;
    const nowMs = Date.now();
    const report = this.reportAt(nowMs, this.sequence);
    const nonce = nextNonce();
    const signed: AgentReport = { ...report, auth: { signedAtMs: nowMs, nonce, signature: this.template.sign(nowMs, this.sequence, nonce) } };
    if (this.sequence === 1) {
      // The template must sign exactly what core's signature signs: checked on each agent's first report.
      const reference = signature.sign(report, this.signingKey, nowMs, nonce).auth!.signature;
      if (reference !== signed.auth!.signature) throw new Error(`load agent ${this.identity.agentId}: template signature differs from core/report-signature.ts`);
    }
    const measuring = this.measuring;
    const startedMs = performance.now();
    this.tally.sent += 1;
    this.socket
      .timeout(ackTimeoutMs)
      .emitWithAck('report', signed)
      .then(
        (reply) => {
          if (!reply.ok) {
            this.tally.failed += 1;
            failureCodes.set(reply.code, (failureCodes.get(reply.code) ?? 0) + 1);
            return;
          }
          this.tally.acked += 1;
          if (measuring) this.tally.ackLatenciesMs.push(performance.now() - startedMs);
        },
        () => {
          this.tally.failed += 1;
          failureCodes.set('timeout', (failureCodes.get('timeout') ?? 0) + 1);
        },
      );
  }

  /** Stops reporting and closes the connection. */
  close(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      clearInterval(this.timer);
    }
    this.timer = null;
    this.socket.close();
  }
}

/**
 * Signs a load agent's reports without serialising each one: its reports differ only
 * in the sequence and the clock, so their canonical JSON (core/canonical-json.ts) is
 * computed once with marker numbers in those places and split there; each report's
 * text is the pieces joined with its numbers, and its HMAC the one core's signature
 * computes (checked against it on every agent's first report). The reports sent are
 * still whole objects, verified by the server as any agent's.
 */
class SignedReportTemplate {
  private readonly pieces: string[];
  private readonly slots: ('now' | 'heard' | 'sequence')[] = [];

  constructor(
    private readonly key: Uint8Array,
    reportAt: (nowMs: number, sequence: number) => AgentReport,
  ) {
    // Markers: numbers no real report holds; lastHeardAtMs is nowMs - 50.
    const markers = { now: '-7777777777777', heard: '-7777777777827', sequence: '-8888888888888' } as const;
    const text = canonicalJson(reportAt(Number(markers.now), Number(markers.sequence)));
    const parts = text.split(/(-7777777777777|-7777777777827|-8888888888888)/);
    this.pieces = parts.filter((_, index) => index % 2 === 0);
    for (let index = 1; index < parts.length; index += 2) this.slots.push(parts[index] === markers.now ? 'now' : parts[index] === markers.heard ? 'heard' : 'sequence');
  }

  sign(nowMs: number, sequence: number, nonce: string): string {
    const values = { now: nowMs, heard: nowMs - 50, sequence };
    let text = this.pieces[0]!;
    for (let index = 0; index < this.slots.length; index += 1) text += `${values[this.slots[index]!]}${this.pieces[index + 1]}`;
    return createHmac('sha256', this.key).update(`${nowMs}\n${nonce}\n${text}`).digest('hex');
  }
}

/** Nonces (16 random bytes, base64url) cut from one random draw at a time. */
let noncePool = Buffer.alloc(0);
let nonceOffset = 0;
function nextNonce(): string {
  if (nonceOffset + 16 > noncePool.length) {
    noncePool = randomBytes(16 * 4096);
    nonceOffset = 0;
  }
  nonceOffset += 16;
  return noncePool.toString('base64url', nonceOffset - 16, nonceOffset);
}

/** The ring neighbours agent `index` of `count` reports on. */
export function ringPeers(index: number, count: number, peersPerReport: number): string[] {
  const peers: string[] = [];
  for (let step = 1; step <= Math.min(peersPerReport, count - 1); step += 1) peers.push(`n${((index + step) % count) + 1}`);
  return peers;
}

/** The p-th percentile (0..100) of `values`, by nearest rank; null when empty. */
export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}
