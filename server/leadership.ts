/**
 * Which server instance leads. Several instances may run on one PostgreSQL; the
 * work that must happen exactly once (the classifier's partition decisions, the
 * lifecycle runner with recovery and its alerts, agent-presence alerts) runs only
 * on the leader. The mechanism is one object, `LeaderGate`: a service that must
 * run on the leader alone subscribes with `serve(name, { start, stop })`, and the
 * gate starts every subscriber, in order, when this instance becomes leader and
 * stops them, in reverse order, when it stops being one. What elects is separate:
 * `startElection` (a PostgreSQL advisory lock held on a dedicated connection) or
 * `gate.lead(…)` directly when this is the only possible instance (embedded database).
 *
 * The lock is a session lock: PostgreSQL releases it the moment the holder's
 * connection closes, which a process killed with -9 does at once (its kernel closes
 * the socket), so a follower polling every `pollMs` takes over within about that.
 * Each takeover increments the lease row's `epoch` (the fencing token, in logs and
 * /readyz); the writes that must not happen twice are also guarded by the database
 * itself (unique indexes on open partitions and open recovery runs, alerts unique
 * per partition and rule), so even two instances that both believe they lead for a
 * moment (a leader cut from the database that has not noticed yet) cannot open a
 * partition or a recovery twice.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { Logger } from './logger';

/** Something that runs on the leader only. */
export interface LeaderService {
  start(): void | Promise<void>;
  stop(): void | Promise<void>;
}

/** Advisory lock key of the leader (two 32-bit halves): "FLT" and 1. */
const leaderLockKey = [0x464c54, 1] as const;
/** How long a health query on the lock connection may take before the leader steps down (ms). */
export const lockQueryTimeoutMs = 2000;
/** How often each instance refreshes its `ServerInstance` row (ms). */
export const instanceHeartbeatMs = 2000;
/** An instance not heard from for this long is no longer listed (ms). */
export const instanceListedForMs = 10_000;
/** Most instances listed in the status. */
export const instancesListedMax = 64;
/**
 * Polls a leader that lost its lock connection sits out before it competes again. Its
 * followers are polling already, so one of them takes over; without the pause the old
 * leader, reconnecting at its next poll, won the lock back about as often as not, and a
 * leader on a flapping connection kept leadership flapping with it.
 */
export const rejoinAfterPolls = 5;

/** Who leads, as /readyz and the logs say it. */
export interface LeadershipStatus {
  /** This instance. */
  instanceId: string;
  /** Whether this instance leads now. */
  leader: boolean;
  /** The leader's instance id, as last read from the lease (null before any election). */
  leaderId: string | null;
  /** The lease's epoch (fencing token) as last read; grows by one at every takeover. */
  epoch: number | null;
  /** When this instance became leader (ms since epoch), or null. */
  leaderSinceMs: number | null;
  /** Instances heard from within `instanceListedForMs`, this one included. */
  instances: { id: string; url: string; lastSeenAtMs: number }[];
}

export class LeaderGate {
  private readonly services: { name: string; service: LeaderService }[] = [];
  private leading = false;
  private sinceMs: number | null = null;
  private currentEpoch: number | null = null;
  /** Transitions run one at a time, in order: a step-down never overtakes the start it follows. */
  private transitions: Promise<void> = Promise.resolve();
  /** Last lease and instance list read by the election (for the status). */
  observed: { leaderId: string | null; epoch: number | null; instances: LeadershipStatus['instances'] } = { leaderId: null, epoch: null, instances: [] };

  constructor(
    readonly instanceId: string,
    private readonly logger: Logger,
  ) {}

  /** Subscribes a service that must run on the leader only; started at once if this instance leads. */
  serve(name: string, service: LeaderService): void {
    this.services.push({ name, service });
    if (this.leading) this.transitions = this.transitions.then(() => this.startOne(name, service));
  }

  /** Whether this instance leads now. */
  get isLeader(): boolean {
    return this.leading;
  }

  /** The fencing token of this instance's leadership, or null when it does not lead. */
  get epoch(): number | null {
    return this.leading ? this.currentEpoch : null;
  }

  /** Becomes leader with `epoch` and starts every subscribed service; resolves when they started. */
  lead(epoch: number): Promise<void> {
    this.transitions = this.transitions.then(async () => {
      if (this.leading) return;
      this.leading = true;
      this.currentEpoch = epoch;
      this.sinceMs = Date.now();
      this.observed = { ...this.observed, leaderId: this.instanceId, epoch };
      this.logger.info({ instanceId: this.instanceId, epoch, services: this.services.map((entry) => entry.name) }, 'this instance leads now');
      for (const { name, service } of this.services) await this.startOne(name, service);
    });
    return this.transitions;
  }

  /** Stops leading: stops every subscribed service, in reverse order; resolves when they stopped. */
  stepDown(reason: string): Promise<void> {
    this.transitions = this.transitions.then(async () => {
      if (!this.leading) return;
      this.leading = false;
      this.logger.warn({ instanceId: this.instanceId, epoch: this.currentEpoch, reason }, 'this instance no longer leads');
      this.sinceMs = null;
      for (const { name, service } of [...this.services].reverse()) {
        try {
          await service.stop();
        } catch (error) {
          this.logger.error({ err: error, service: name }, 'leader service did not stop cleanly');
        }
      }
    });
    return this.transitions;
  }

  private async startOne(name: string, service: LeaderService): Promise<void> {
    try {
      await service.start();
    } catch (error) {
      this.logger.error({ err: error, service: name }, 'leader service did not start');
    }
  }

  status(): LeadershipStatus {
    return { instanceId: this.instanceId, leader: this.leading, leaderId: this.observed.leaderId, epoch: this.observed.epoch, leaderSinceMs: this.sinceMs, instances: this.observed.instances };
  }
}

/** A new instance id: readable in logs, unique per process start. */
export function newInstanceId(): string {
  return `${process.pid}-${randomUUID().slice(0, 8)}`;
}

/** A running election; `stop` steps down and releases the lock. */
export interface Election {
  /** Settles after the first attempt: a lone instance leads from then on. */
  firstRound: Promise<void>;
  stop(): Promise<void>;
}

/**
 * Competes for leadership with a PostgreSQL advisory lock on a connection of its
 * own (never a pooled one: the lock belongs to the session). Every `pollMs` a
 * follower tries the lock and the leader checks that its connection still
 * answers; a lost or silent connection makes the leader step down at once.
 */
export function startElection(options: { gate: LeaderGate; url: string; selfUrl: string; pollMs: number; logger: Logger }): Election {
  const { gate, logger } = options;
  let client: pg.Client | null = null;
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  let heartbeatAtMs = 0;
  /** Until then this instance does not try the lock (it has just lost it; see `rejoinAfterPolls`). */
  let rejoinAtMs = 0;
  const startedAt = new Date();
  let firstRoundDone: () => void = () => undefined;
  const firstRound = new Promise<void>((resolve) => (firstRoundDone = resolve));

  const discard = (reason: string) => {
    const old = client;
    client = null;
    old?.removeAllListeners();
    old?.on('error', () => undefined);
    void old?.end().catch(() => undefined);
    if (gate.isLeader) {
      rejoinAtMs = Date.now() + rejoinAfterPolls * options.pollMs;
      void gate.stepDown(reason);
    }
  };
  const connect = async (): Promise<pg.Client> => {
    const fresh = new pg.Client({ connectionString: options.url, keepAlive: true, query_timeout: lockQueryTimeoutMs, connectionTimeoutMillis: lockQueryTimeoutMs });
    fresh.on('error', (error) => {
      if (client === fresh) discard(`lock connection failed: ${error.message}`);
    });
    fresh.on('end', () => {
      if (client === fresh) discard('lock connection closed');
    });
    await fresh.connect();
    return fresh;
  };
  const heartbeat = async (db: pg.Client) => {
    await db.query(
      `INSERT INTO "ServerInstance" ("id", "url", "startedAt", "lastSeenAt") VALUES ($1, $2, $3, now())
       ON CONFLICT ("id") DO UPDATE SET "lastSeenAt" = now(), "url" = EXCLUDED."url"`,
      [gate.instanceId, options.selfUrl, startedAt],
    );
    // Instances gone for a day are forgotten: a restart without FAULTLINE_INSTANCE_ID is a new id.
    await db.query(`DELETE FROM "ServerInstance" WHERE "lastSeenAt" < now() - interval '1 day'`);
    const instances = await db.query<{ id: string; url: string; lastSeenAt: Date }>(
      `SELECT "id", "url", "lastSeenAt" FROM "ServerInstance" WHERE "lastSeenAt" > now() - make_interval(secs => $1) ORDER BY "startedAt" LIMIT $2`,
      [instanceListedForMs / 1000, instancesListedMax],
    );
    const lease = await db.query<{ holderId: string; epoch: number }>('SELECT "holderId", "epoch" FROM "LeaderLease" WHERE "id" = 1');
    gate.observed = {
      leaderId: lease.rows[0]?.holderId ?? null,
      epoch: lease.rows[0]?.epoch ?? null,
      instances: instances.rows.map((row) => ({ id: row.id, url: row.url, lastSeenAtMs: row.lastSeenAt.getTime() })),
    };
  };
  const tick = async () => {
    client ??= await connect();
    const db = client;
    if (gate.isLeader) {
      await db.query('SELECT 1');
    } else if (Date.now() >= rejoinAtMs) {
      const locked = await db.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS locked', [...leaderLockKey]);
      if (locked.rows[0]?.locked) {
        const lease = await db.query<{ epoch: number }>(
          `INSERT INTO "LeaderLease" ("id", "epoch", "holderId", "acquiredAt") VALUES (1, 1, $1, now())
           ON CONFLICT ("id") DO UPDATE SET "epoch" = "LeaderLease"."epoch" + 1, "holderId" = EXCLUDED."holderId", "acquiredAt" = now()
           RETURNING "epoch"`,
          [gate.instanceId],
        );
        if (client === db) await gate.lead(lease.rows[0]!.epoch);
      }
    }
    if (Date.now() - heartbeatAtMs >= instanceHeartbeatMs) {
      heartbeatAtMs = Date.now();
      await heartbeat(db);
    }
  };
  const loop = (delayMs: number) => {
    timer = setTimeout(() => {
      tick()
        .catch((error: unknown) => {
          logger.warn({ err: error, leader: gate.isLeader }, 'leader election: database did not answer');
          discard(`lock connection did not answer: ${(error as Error).message}`);
        })
        .finally(() => {
          firstRoundDone();
          if (!stopped) loop(options.pollMs);
        });
    }, delayMs);
  };
  loop(0);
  return {
    firstRound,
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await gate.stepDown('shutting down');
      const last = client;
      client = null;
      if (!last) return;
      last.removeAllListeners();
      last.on('error', () => undefined);
      // Releasing the lock and leaving the list lets a follower take over at its next poll, not after a timeout.
      await last.query('SELECT pg_advisory_unlock_all()').catch(() => undefined);
      await last.query('DELETE FROM "ServerInstance" WHERE "id" = $1', [gate.instanceId]).catch(() => undefined);
      await last.end().catch(() => undefined);
    },
  };
}
