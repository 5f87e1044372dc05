/**
 * A reporting agent without a detector loop, for fault tests: it writes a report
 * every `intervalMs` into a real durable outbox (FileOutbox) and sends it through
 * the real ServerLink (signed, pipelined, retried). Its reports say every peer is
 * reachable, which is the truth in these tests; what it counts is what was sent.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FileOutbox } from '../../agent/outbox-file';
import { ServerLink, type ServerLinkOptions } from '../../agent/server-link';

/** A running load agent. */
export interface LoadAgent {
  agentId: string;
  incarnation: number;
  outbox: FileOutbox;
  link: ServerLink;
  /** Reports durably appended to the outbox (sequence numbers 1..n). */
  sentCount(): number;
  stopReporting(): void;
  close(): Promise<void>;
}

/** Settings of one load agent. */
export interface LoadAgentOptions {
  serverUrl: string;
  token: string;
  clusterId: string;
  agentId: string;
  peers: string[];
  intervalMs: number;
  /** Where the link logs (nowhere by default). */
  log?: ServerLinkOptions['log'];
}

/** Starts one load agent. */
export async function startLoadAgent(options: LoadAgentOptions): Promise<LoadAgent> {
  const outbox = await FileOutbox.open({ directory: await mkdtemp(path.join(tmpdir(), `faultline-load-${options.agentId}-`)) });
  const incarnation = Date.now();
  const link = new ServerLink({
    serverUrls: options.serverUrl.split(','),
    token: options.token,
    hello: { clusterId: options.clusterId, agentId: options.agentId, address: '127.0.0.1:9', incarnation, peers: options.peers },
    outbox,
    onCommand: async () => ({ ok: true, data: null }),
    log: options.log ?? (() => undefined),
  });
  let sequence = 0;
  let appended = 0;
  let writing = Promise.resolve();
  const timer = setInterval(() => {
    sequence += 1;
    const nowMs = Date.now();
    const report = {
      clusterId: options.clusterId,
      agentId: options.agentId,
      incarnation,
      sequence,
      sentAtMs: nowMs,
      heartbeatIntervalMs: 100,
      observations: options.peers.map((peerId) => ({ peerId, reachable: true, lastHeardAtMs: nowMs - 50, sinceMs: incarnation, suspicion: 0 })),
      evidence: [],
      outboxDepth: outbox.depth(),
      outboxDropped: outbox.droppedCount(),
    };
    writing = writing.then(async () => {
      await outbox.append(report);
      appended += 1;
      link.notify();
    });
  }, options.intervalMs);
  return {
    agentId: options.agentId,
    incarnation,
    outbox,
    link,
    sentCount: () => appended,
    stopReporting() {
      clearInterval(timer);
    },
    async close() {
      clearInterval(timer);
      await writing;
      await link.close();
      await outbox.close();
    },
  };
}
