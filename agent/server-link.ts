/**
 * The agent's link to the control server over Socket.IO. Reports wait in a
 * bounded outbox and leave it only when the server acknowledges them, in order.
 * Every call goes through a timeout and a circuit breaker (cockatiel), so a dead
 * or partitioned server costs bounded time and is retried with backoff. The link
 * reconnects after every disconnect, for ever, with randomized backoff capped at
 * `handshakeRetryMaxMs`, and logs each time it goes down and comes back.
 *
 * Several control servers may share one database (README: several instances):
 * the link takes a list of their URLs and, each time it has to connect again,
 * tries the next one, so an agent whose server died is back on another after
 * one randomized backoff step (a quarter of a second at first).
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { ConsecutiveBreaker, ExponentialBackoff, TimeoutStrategy, circuitBreaker, handleAll, timeout, wrap } from 'cockatiel';
import { type Socket, io } from 'socket.io-client';
import type { AgentCommand, AgentHello, AgentReport, Reply } from '../core/protocol';
import type { DataPlaneReply } from '../core/reconcile/data-plane-commands';
import { type AgentToServerEvents, type ServerToAgentEvents, agentNamespace } from '../core/realtime-contract';
import { reportSignature } from '../core/report-signature';
import type { Outbox } from './outbox';

/**
 * A signal of the call's own. Without one, cockatiel hangs every call's timeout
 * listener on one shared never-aborted signal, and 64 reports in flight trip
 * Node's listener-leak warning.
 */
const ownSignal = () => new AbortController().signal;

/** The report signature over node:crypto. */
const signature = reportSignature({ createHash, createHmac });

/** How long one report or hello may wait for the server's acknowledgement (ms). */
export const serverCallTimeoutMs = 5000;
/**
 * Reports sent before waiting for their acknowledgements. Socket.IO keeps them in
 * order on the connection and the server writes them in one batch, so a backlog
 * replays at database speed instead of one round trip per report.
 */
export const reportsInFlightMax = 64;
/** Wait before saying hello again after the server could not record it (ms). */
export const helloRetryMs = 1000;
/** First wait before connecting again after the server refused the handshake or ended the session (ms). */
export const handshakeRetryInitialMs = 250;
/**
 * Longest wait before connecting again (ms), for Socket.IO's own reconnection and
 * ours alike: a restarted server has every agent back within about this long.
 */
export const handshakeRetryMaxMs = 5000;

/** Settings of the link. */
export interface ServerLinkOptions {
  /** Control servers' base URLs, tried in turn (one URL: the same server again). */
  serverUrls: readonly string[];
  token: string;
  hello: AgentHello;
  outbox: Outbox;
  /** Carries out a command; data-plane commands answer with their reply, others with null. */
  onCommand: (command: AgentCommand) => Promise<Reply<DataPlaneReply | null>>;
  log: (level: 'info' | 'warn', message: string, fields?: Record<string, unknown>) => void;
  /** Source of time (ms since epoch); reports are signed with it, corrected by the server's clock. */
  nowMs?: () => number;
  /** Told when the link goes down (false) and when it is greeted again (true): the fault layer's dead man's switch. */
  onLinkChange?: (up: boolean) => void;
}

/** Most control server URLs one link rotates over. */
export const serverUrlsMax = 16;

export class ServerLink {
  private socket: Socket<ServerToAgentEvents, AgentToServerEvents>;
  /** Index in `serverUrls` of the server the current socket talks to. */
  private urlIndex = 0;
  private ready = false;
  private pumping = false;
  private stopped = false;
  private readonly policy = wrap(
    circuitBreaker(handleAll, { halfOpenAfter: 2000, breaker: new ConsecutiveBreaker(5) }),
    timeout(serverCallTimeoutMs, TimeoutStrategy.Aggressive),
  );
  private readonly backoff = new ExponentialBackoff({ initialDelay: 100, maxDelay: 5000 });
  private readonly signingKey: Uint8Array;
  private readonly nowMs: () => number;
  /** Server clock minus ours, learnt at hello (ms); keeps signatures inside the server's window. */
  private clockOffsetMs = 0;
  private handshakeRetryMs = handshakeRetryInitialMs;
  /** Pending reconnection of ours (after a refusal or a server-side disconnect), at most one. */
  private reconnectTimer: NodeJS.Timeout | null = null;
  /** When the link last went down (ms), for the log line when it is back; null while up. */
  private downSinceMs: number | null = null;
  /** Reports the server acknowledged since start (duplicates included). */
  acknowledgedCount = 0;
  /** Of those, reports the server said it already had (resent after a lost acknowledgement). */
  duplicateCount = 0;

  constructor(private readonly options: ServerLinkOptions) {
    if (options.serverUrls.length === 0 || options.serverUrls.length > serverUrlsMax) {
      throw new Error(`serverUrls: between 1 and ${serverUrlsMax} control server URLs`);
    }
    this.signingKey = signature.signingKey(signature.tokenVerifier(options.token));
    this.nowMs = options.nowMs ?? (() => Date.now());
    this.socket = this.open();
  }

  /** The control server the link talks to (or tries to) now. */
  get serverUrl(): string {
    return this.options.serverUrls[this.urlIndex]!;
  }

  /**
   * A socket to the current URL. Reconnection is ours, not Socket.IO's: its own
   * would keep knocking on a dead server, while the next attempt should go to
   * the next one.
   */
  private open(): Socket<ServerToAgentEvents, AgentToServerEvents> {
    const { clusterId, agentId } = this.options.hello;
    const socket: Socket<ServerToAgentEvents, AgentToServerEvents> = io(`${this.serverUrl}${agentNamespace}`, {
      auth: { token: this.options.token, clusterId, agentId },
      transports: ['websocket'],
      forceNew: true,
      reconnection: false,
    });
    socket.on('connect', () => {
      this.handshakeRetryMs = handshakeRetryInitialMs;
      void this.greet();
    });
    socket.on('disconnect', (reason) => {
      this.ready = false;
      if (this.stopped) return;
      this.downSinceMs ??= this.nowMs();
      this.options.onLinkChange?.(false);
      this.options.log('warn', 'disconnected from control server; reconnecting', { reason, server: this.serverUrl });
      this.reconnectLater();
    });
    socket.on('connect_error', (error) => {
      this.options.log('warn', 'control server unreachable or refused the handshake', { error: error.message, server: this.serverUrl });
      this.reconnectLater();
    });
    socket.on('command', (command, reply) => {
      this.options.onCommand(command).then(
        (result) => reply(result),
        () => reply({ ok: false, code: 'internal', message: 'command failed' }),
      );
    });
    return socket;
  }

  /** True while connected and greeted. */
  get connected(): boolean {
    return this.ready;
  }

  private async greet(): Promise<void> {
    try {
      const sentAtMs = this.nowMs();
      const reply = await this.policy.execute(() => this.socket.timeout(serverCallTimeoutMs).emitWithAck('hello', this.options.hello), ownSignal());
      if (reply.ok) this.clockOffsetMs = Math.round(reply.data.serverTimeMs - (sentAtMs + this.nowMs()) / 2);
      if (!reply.ok) {
        this.options.log('warn', 'hello refused', { code: reply.code, message: reply.message });
        // A server that cannot record the hello now (database down, overloaded) will later: ask again.
        const transient = reply.code === 'unavailable' || reply.code === 'internal' || reply.code === 'rate_limited';
        if (transient && this.socket.connected && !this.stopped) setTimeout(() => void this.greet(), helloRetryMs);
        return;
      }
      this.ready = true;
      this.options.onLinkChange?.(true);
      const downMs = this.downSinceMs === null ? null : this.nowMs() - this.downSinceMs;
      this.downSinceMs = null;
      this.options.log('info', downMs === null ? 'connected to control server' : 'reconnected to control server', { server: this.serverUrl, ...(downMs === null ? {} : { downMs }) });
      void this.pump();
    } catch (error) {
      this.options.log('warn', 'hello failed', { error: (error as Error).message });
      if (this.socket.connected && !this.stopped) setTimeout(() => void this.greet(), 1000);
    }
  }

  /** Wakes the sender: call after adding to the outbox. */
  notify(): void {
    void this.pump();
  }

  /**
   * Sends outbox entries oldest first, up to `reportsInFlightMax` at a time, until
   * the outbox is empty or the server stops answering. An entry leaves the outbox
   * only when acknowledged (or refused as invalid); the rest are sent again later.
   */
  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    let attempt = this.backoff.next();
    try {
      while (this.ready && !this.stopped) {
        const batch = await this.options.outbox.peekBatch(reportsInFlightMax);
        if (batch.length === 0) break;
        const results = await Promise.all(batch.map((entry) => this.sendOne(entry.report)));
        let progressed = false;
        for (const [index, entry] of batch.entries()) {
          const sent = results[index]!;
          if (sent === 'retry') continue;
          await this.options.outbox.remove(entry.id);
          progressed = true;
          if (sent === 'rejected') continue;
          this.acknowledgedCount += 1;
          if (sent === 'duplicate') this.duplicateCount += 1;
        }
        if (progressed && results.every((sent) => sent !== 'retry')) {
          attempt = this.backoff.next();
          continue;
        }
        await new Promise((resolve) => setTimeout(resolve, attempt.duration));
        attempt = attempt.next(undefined);
      }
    } finally {
      this.pumping = false;
    }
  }

  private async sendOne(report: AgentReport): Promise<'acked' | 'duplicate' | 'rejected' | 'retry'> {
    try {
      const signed = signature.sign(report, this.signingKey, this.nowMs() + this.clockOffsetMs, randomBytes(16).toString('base64url'));
      const reply = await this.policy.execute(() => this.socket.timeout(serverCallTimeoutMs).emitWithAck('report', signed), ownSignal());
      if (reply.ok) return reply.data.duplicate ? 'duplicate' : 'acked';
      if (reply.code === 'invalid_input' || reply.code === 'forbidden' || reply.code === 'payload_too_large') {
        this.options.log('warn', 'report refused by server; dropped', { code: reply.code, message: reply.message, sequence: report.sequence });
        return 'rejected';
      }
      return 'retry';
    } catch {
      return 'retry';
    }
  }

  /**
   * Connects again, to the next server of the list, after a randomized, doubling
   * delay (at most `handshakeRetryMaxMs`). Never gives up itself: only `close` stops it.
   */
  private reconnectLater(): void {
    if (this.stopped || this.reconnectTimer) return;
    const delayMs = Math.round(this.handshakeRetryMs * (0.5 + Math.random() * 0.5));
    this.handshakeRetryMs = Math.min(handshakeRetryMaxMs, this.handshakeRetryMs * 2);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      if (this.stopped) return;
      this.socket.removeAllListeners();
      this.socket.close();
      this.urlIndex = (this.urlIndex + 1) % this.options.serverUrls.length;
      this.socket = this.open();
    }, delayMs);
  }

  async close(): Promise<void> {
    this.stopped = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.socket.close();
  }
}
