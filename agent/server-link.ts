/**
 * The agent's link to the control server over Socket.IO. Reports wait in a
 * bounded outbox and leave it only when the server acknowledges them, in order.
 * Every call goes through a timeout and a circuit breaker (cockatiel), so a dead
 * or partitioned server costs bounded time and is retried with backoff.
 */
import { ConsecutiveBreaker, ExponentialBackoff, TimeoutStrategy, circuitBreaker, handleAll, timeout, wrap } from 'cockatiel';
import { type Socket, io } from 'socket.io-client';
import type { AgentCommand, AgentHello, AgentReport } from '../core/protocol';
import { type AgentToServerEvents, type ServerToAgentEvents, agentNamespace } from '../core/realtime-contract';
import type { Outbox } from './outbox';

/** How long one report or hello may wait for the server's acknowledgement (ms). */
export const serverCallTimeoutMs = 5000;

/** Settings of the link. */
export interface ServerLinkOptions {
  serverUrl: string;
  token: string;
  hello: AgentHello;
  outbox: Outbox;
  /** Carries out a command and says whether it worked. */
  onCommand: (command: AgentCommand) => Promise<boolean>;
  log: (level: 'info' | 'warn', message: string, fields?: Record<string, unknown>) => void;
}

export class ServerLink {
  private readonly socket: Socket<ServerToAgentEvents, AgentToServerEvents>;
  private ready = false;
  private pumping = false;
  private stopped = false;
  private readonly policy = wrap(
    circuitBreaker(handleAll, { halfOpenAfter: 2000, breaker: new ConsecutiveBreaker(5) }),
    timeout(serverCallTimeoutMs, TimeoutStrategy.Aggressive),
  );
  private readonly backoff = new ExponentialBackoff({ initialDelay: 100, maxDelay: 5000 });
  /** Reports the server acknowledged since start. */
  acknowledgedCount = 0;

  constructor(private readonly options: ServerLinkOptions) {
    const { clusterId, agentId } = options.hello;
    this.socket = io(`${options.serverUrl}${agentNamespace}`, {
      auth: { token: options.token, clusterId, agentId },
      transports: ['websocket'],
      reconnectionDelay: 250,
      reconnectionDelayMax: 5000,
    });
    this.socket.on('connect', () => void this.greet());
    this.socket.on('disconnect', () => {
      this.ready = false;
    });
    this.socket.on('connect_error', (error) => options.log('warn', 'control server unreachable', { error: error.message }));
    this.socket.on('command', (command, reply) => {
      options.onCommand(command).then(
        (ok) => reply(ok ? { ok: true, data: null } : { ok: false, code: 'invalid_input', message: 'command not applicable' }),
        () => reply({ ok: false, code: 'internal', message: 'command failed' }),
      );
    });
  }

  /** True while connected and greeted. */
  get connected(): boolean {
    return this.ready;
  }

  private async greet(): Promise<void> {
    try {
      const reply = await this.policy.execute(() => this.socket.timeout(serverCallTimeoutMs).emitWithAck('hello', this.options.hello));
      if (!reply.ok) {
        this.options.log('warn', 'hello refused', { code: reply.code, message: reply.message });
        return;
      }
      this.ready = true;
      this.options.log('info', 'connected to control server');
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

  /** Sends outbox entries in order until it is empty or the server stops answering. */
  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    let attempt = this.backoff.next();
    try {
      while (this.ready && !this.stopped) {
        const entry = await this.options.outbox.peek();
        if (!entry) break;
        const sent = await this.sendOne(entry.report);
        if (sent === 'acked' || sent === 'rejected') {
          await this.options.outbox.remove(entry.id);
          if (sent === 'acked') this.acknowledgedCount += 1;
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

  private async sendOne(report: AgentReport): Promise<'acked' | 'rejected' | 'retry'> {
    try {
      const reply = await this.policy.execute(() => this.socket.timeout(serverCallTimeoutMs).emitWithAck('report', report));
      if (reply.ok) return 'acked';
      if (reply.code === 'invalid_input' || reply.code === 'forbidden' || reply.code === 'payload_too_large') {
        this.options.log('warn', 'report refused by server; dropped', { code: reply.code, message: reply.message, sequence: report.sequence });
        return 'rejected';
      }
      return 'retry';
    } catch {
      return 'retry';
    }
  }

  async close(): Promise<void> {
    this.stopped = true;
    this.socket.close();
  }
}
