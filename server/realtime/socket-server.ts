/**
 * Socket.IO on the server's HTTP listener: the default namespace serves dashboards
 * (subscribe → snapshot, then numbered updates in the cluster's room); `/agents`
 * serves agents (authenticated hello and reports, commands back).
 */
import type { Server as HttpServer } from 'node:http';
import { Server } from 'socket.io';
import { z } from 'zod';
import {
  type AgentToServerEvents,
  type ClientToServerEvents,
  type ServerToAgentEvents,
  type ServerToClientEvents,
  agentNamespace,
  clusterRoom,
} from '../../core/realtime-contract';
import { AgentHelloSchema, type AgentCommand, type AgentReport, type ErrorCode, type Reply, ClusterIdSchema, NodeIdSchema, describeZodError } from '../../core/protocol';
import { AppError, toErrorReply } from '../app-error';
import type { AgentCredentials, AgentIdentity } from '../auth/agent-credentials';
import type { Broadcaster, ClusterService } from '../cluster-service';
import { type DataPlaneCommand, type DataPlaneReply, DataPlaneReplySchema } from '../../core/reconcile/data-plane-commands';
import type { CommandSender } from '../fault-controller';
import type { Logger } from '../logger';
import { type AgentSocket, agentHolderSilenceDefaultMs, agentHolders } from './agent-holders';
import { type Fanout, type FanoutKind, attachFanout } from './fanout';
import { agentReportsPerSecondMax, reportRateLimiter } from './report-rate-limiter';

/** Largest Socket.IO message accepted, in bytes. */
export const socketMessageBytesMax = 1024 * 1024;
/** How long the server waits for an agent's data-plane reply (ms); collecting a page of changes takes a while. */
export const dataPlaneTimeoutMs = 15_000;
/** How long the server waits for an agent to acknowledge a command (ms). */
export const commandTimeoutMs = 3000;
/**
 * How long a command to an agent held by another instance may take (ms): two more
 * hops through the fan-out, each a NOTIFY (or a Redis publish) and its listener,
 * which a loaded machine delays by seconds.
 */
export const remoteCommandTimeoutMs = 10_000;
/** Most agent connections held at once; more are refused at the handshake. */
export const agentConnectionsMax = 2000;

/** What became of one report sent over Socket.IO; for metrics. */
export interface ReportOutcome {
  clusterId: string;
  agentId: string;
  /** `stored`, `duplicate`, or the error code it was refused with. */
  result: 'stored' | 'duplicate' | ErrorCode;
  /** The validated report, when it got that far. */
  report: AgentReport | null;
  /** Server time the reply was sent (ms). */
  repliedAtMs: number;
}

const AgentAuthSchema = z.object({
  token: z.string().min(1).max(512),
  clusterId: ClusterIdSchema,
  agentId: NodeIdSchema,
});


/** The room of one agent's connection in the agents namespace: commands reach it from any instance. */
const agentRoom = (clusterId: string, agentId: string) => `agent:${clusterId}/${agentId}`;

/** The Socket.IO server plus the adapters the rest of the server talks to. */
export interface Realtime {
  io: Server<ClientToServerEvents, ServerToClientEvents>;
  /** Pushes to this instance's dashboards only (what other instances push reaches theirs through the fan-out). */
  broadcaster: Broadcaster;
  /** Which engine joins this instance to the others. */
  fanout: FanoutKind;
  /** `cluster/agent` of every agent connected to this instance. */
  localAgents(): string[];
  sendCommand: CommandSender;
  /** Sends a data-plane command to one agent and returns its validated reply. */
  requestAgent(clusterId: string, agentId: string, command: DataPlaneCommand): Promise<Reply<DataPlaneReply | null>>;
  /** Number of agents currently connected. */
  agentsConnected(): number;
  /** Called when an agent (re)connects and said hello; set by the composition root. */
  onAgentReady: (clusterId: string, agentId: string) => void;
  /** Called when the connection that holds an agent's identity closes; set by the composition root. */
  onAgentGone: (clusterId: string, agentId: string) => void;
  /** Called when a second connection claiming a connected agent was refused; set by the composition root. */
  onDuplicateRefused: (clusterId: string, agentId: string, detail: string) => void;
  close(): Promise<void>;
}

/** Attaches Socket.IO to the HTTP server. `service` is read lazily so wiring order does not matter. */
export function attachRealtime(options: {
  httpServer: HttpServer;
  credentials: AgentCredentials;
  getService: () => ClusterService;
  logger: Logger;
  /** Told what became of every report (metrics). */
  onReportOutcome?: (outcome: ReportOutcome) => void;
  /** See `agentHolderSilenceDefaultMs`. */
  agentHolderSilenceMs?: number;
  /** How this instance reaches the others' sockets (several instances on one database); none by default. */
  fanout?: { kind: FanoutKind; databaseUrl: string; redisUrl: string | undefined };
}): Realtime {
  const { logger } = options;
  const io = new Server<ClientToServerEvents, ServerToClientEvents>(options.httpServer, {
    maxHttpBufferSize: socketMessageBytesMax,
    serveClient: false,
  });
  // Before any namespace exists, so that every one (dashboards and agents) gets the adapter.
  const fanout: Fanout = options.fanout ? attachFanout(io as unknown as Server, { ...options.fanout, logger }) : { kind: 'none', close: async () => undefined };
  const agentSockets = new Map<string, AgentSocket>();
  const key = (clusterId: string, agentId: string) => `${clusterId}/${agentId}`;
  const holders = agentHolders(agentSockets, options.agentHolderSilenceMs ?? agentHolderSilenceDefaultMs);
  /** Flags a refused duplicate (log, audit and metric through the credentials' refusals, alert) and returns the handshake error. */
  const refuseDuplicate = (identity: AgentIdentity, detail: string): Error => {
    logger.warn({ clusterId: identity.clusterId, agentId: identity.agentId, credentialId: identity.credentialId, detail }, 'duplicate agent connection refused');
    realtime.onDuplicateRefused(identity.clusterId, identity.agentId, detail);
    const refusal = options.credentials.recordRefusal('duplicate-connection', identity, 'conflict', `agent ${identity.clusterId}/${identity.agentId} is already connected (${detail}); this connection is refused`);
    return new Error(`${refusal.code}: ${refusal.message}`);
  };

  io.on('connection', (socket) => {
    socket.on('cluster:subscribe', (clusterId, reply) => {
      if (typeof reply !== 'function') return;
      try {
        const id = ClusterIdSchema.parse(clusterId);
        const snapshot = options.getService().snapshot(id);
        void socket.join(clusterRoom(id));
        reply({ ok: true, data: snapshot });
      } catch (error) {
        reply(error instanceof z.ZodError ? { ok: false, code: 'invalid_input', message: describeZodError(error) } : toErrorReply(error));
      }
    });
  });

  const agents = io.of(agentNamespace) as unknown as Server<AgentToServerEvents, ServerToAgentEvents>['sockets'];
  agents.use((socket, next) => {
    const auth = AgentAuthSchema.safeParse(socket.handshake.auth);
    // Refusals the credentials service does not see itself are tallied here, aggregated, for the audit log.
    const tally = (reason: string) => options.credentials.refusals.note({ actor: 'anonymous', action: 'agent.handshake-refused', target: null, origin: socket.handshake.address, reason });
    if (!auth.success) {
      tally('invalid_input');
      return next(new Error(`invalid_input: ${describeZodError(auth.error)}`));
    }
    if (agentSockets.size >= agentConnectionsMax) {
      tally('rate_limited: connection cap');
      return next(new Error(`rate_limited: more than ${agentConnectionsMax} agent connections`));
    }
    options.credentials.authenticate(auth.data).then(
      (identity) => {
        const refusal = holders.refusal(identity);
        if (refusal) return next(refuseDuplicate(identity, refusal));
        socket.data = identity;
        next();
      },
      (error: unknown) => {
        const reply = toErrorReply(error);
        next(new Error(`${reply.code}: ${reply.message}`));
      },
    );
  });
  options.credentials.onRevoked((credentialId) => {
    for (const socket of agentSockets.values()) if (socket.data.credentialId === credentialId) socket.disconnect(true);
  });
  agents.on('connection', (rawSocket) => {
    const socket = rawSocket as unknown as AgentSocket;
    const { clusterId, agentId } = socket.data;
    const identity = socket.data;
    const rate = reportRateLimiter(() => Date.now());
    const socketKey = key(clusterId, agentId);
    // Two handshakes for one agent may pass the middleware together: the later one is refused here.
    const refusal = holders.refusal(identity);
    if (refusal) {
      refuseDuplicate(identity, refusal);
      socket.disconnect(true);
      return;
    }
    void socket.join(agentRoom(clusterId, agentId));
    if (holders.take(socket)) logger.warn({ clusterId, agentId }, 'agent connected; its previous connection had gone silent and was replaced');
    else logger.info({ clusterId, agentId }, 'agent connected');

    socket.on('hello', (input, reply) => {
      if (typeof reply !== 'function') return;
      const parsed = AgentHelloSchema.safeParse(input);
      const refused = (reason: string) => options.credentials.refusals.note({ actor: `agent:${socketKey}`, action: 'agent.hello-refused', target: socketKey, origin: null, reason });
      if (!parsed.success) {
        refused('invalid_input');
        return reply({ ok: false, code: 'invalid_input', message: describeZodError(parsed.error) });
      }
      if (parsed.data.agentId !== agentId || parsed.data.clusterId !== clusterId) {
        refused('forbidden: names another agent');
        return reply({ ok: false, code: 'forbidden', message: 'hello must name the authenticated agent' });
      }
      options
        .getService()
        .hello(parsed.data)
        .then(() => {
          reply({ ok: true, data: { serverTimeMs: Date.now() } });
          realtime.onAgentReady(clusterId, agentId);
        })
        .catch((error: unknown) => {
          logger.warn({ err: error, agentId }, 'hello failed');
          reply(toErrorReply(error instanceof AppError ? error : new AppError('unavailable', 'hello not recorded, retry')));
        });
    });

    socket.on('report', (input, reply) => {
      if (typeof reply !== 'function') return;
      const outcome = (result: ReportOutcome['result'], report: AgentReport | null) =>
        options.onReportOutcome?.({ clusterId, agentId, result, report, repliedAtMs: Date.now() });
      if (!rate.take()) {
        outcome('rate_limited', null);
        options.credentials.refusals.note({ actor: `agent:${socketKey}`, action: 'agent.refused', target: socketKey, origin: null, reason: 'rate_limited' });
        return reply({ ok: false, code: 'rate_limited', message: `more than ${agentReportsPerSecondMax} reports per second; retry later` });
      }
      options
        .getService()
        .ingest(input, { agentId, clusterId, verify: (report) => options.credentials.verifyReport(report, identity) })
        .then(({ report, duplicate }) => {
          reply({ ok: true, data: { sequence: report.sequence, duplicate } });
          outcome(duplicate ? 'duplicate' : 'stored', report);
        })
        .catch((error: unknown) => {
          const refusal = toErrorReply(error);
          reply(refusal);
          outcome(refusal.code, null);
        });
    });

    socket.on('disconnect', (reason) => {
      // A replaced holder's late close must not mark its successor disconnected.
      if (agentSockets.get(socketKey) !== socket) return;
      agentSockets.delete(socketKey);
      options.getService().setConnected(clusterId, agentId, false);
      realtime.onAgentGone(clusterId, agentId);
      logger.info({ clusterId, agentId, reason }, 'agent disconnected');
    });
  });

  /**
   * Sends `command` to an agent and returns its raw reply, or null when no reply
   * came: through the local socket when the agent is connected here, otherwise to
   * its room, which the fan-out delivers on whichever instance holds it.
   */
  const commandAgent = async (clusterId: string, agentId: string, command: AgentCommand | DataPlaneCommand, timeoutMs: number): Promise<Reply<unknown> | null> => {
    const socket = agentSockets.get(key(clusterId, agentId));
    try {
      if (socket) return (await socket.timeout(timeoutMs).emitWithAck('command', command)) as Reply<unknown>;
      if (fanout.kind === 'none') return null;
      const remote = agents.to(agentRoom(clusterId, agentId)).timeout(Math.max(timeoutMs, remoteCommandTimeoutMs));
      const replies = (await remote.emitWithAck('command', command as AgentCommand)) as Reply<unknown>[];
      return replies[0] ?? null;
    } catch (error) {
      logger.warn({ clusterId, agentId, command: command.type, held: socket ? 'here' : 'elsewhere', err: error }, 'agent command not answered');
      return null;
    }
  };

  const realtime: Realtime = {
    io,
    fanout: fanout.kind,
    localAgents: () => [...agentSockets.keys()],
    broadcaster: {
      clusterUpdated: (snapshot) => io.local.to(clusterRoom(snapshot.clusterId)).emit('cluster:update', snapshot),
      partitionChanged: (partition) => io.local.to(clusterRoom(partition.clusterId)).emit('partition:changed', partition),
    },
    async sendCommand(clusterId: string, agentId: string, command: AgentCommand) {
      const reply = await commandAgent(clusterId, agentId, command, commandTimeoutMs);
      if (reply === null) return false;
      return reply.ok ? true : { refused: `${reply.code}: ${reply.message}` };
    },
    async requestAgent(clusterId: string, agentId: string, command: DataPlaneCommand): Promise<Reply<DataPlaneReply | null>> {
      const reply = await commandAgent(clusterId, agentId, command, dataPlaneTimeoutMs);
      if (reply === null) return { ok: false, code: 'unavailable', message: `agent ${agentId} is not connected or did not answer within ${dataPlaneTimeoutMs} ms` };
      if (!reply.ok) return reply;
      if (reply.data === null) return { ok: true, data: null };
      const parsed = DataPlaneReplySchema.safeParse(reply.data);
      return parsed.success ? { ok: true, data: parsed.data } : { ok: false, code: 'invalid_input', message: `agent reply: ${describeZodError(parsed.error)}` };
    },
    agentsConnected: () => agentSockets.size,
    onAgentReady: () => undefined,
    onAgentGone: () => undefined,
    onDuplicateRefused: () => undefined,
    async close() {
      // Agents and dashboards lose the transport, not the session: socket.io-client
      // reconnects by itself after a closed transport (with backoff, until the server
      // is back), while a namespace disconnect tells it to stay away.
      for (const socket of io.of('/').sockets.values()) socket.conn.close();
      for (const socket of agentSockets.values()) socket.conn.close();
      await new Promise<void>((resolve) => io.close(() => resolve()));
      await fanout.close();
    },
  };
  return realtime;
}
