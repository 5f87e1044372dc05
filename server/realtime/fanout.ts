/**
 * The Socket.IO adapter that joins several server instances: what one instance
 * emits to a room, or to the other servers (`serverSideEmit`), reaches every
 * instance's sockets. PostgreSQL's LISTEN/NOTIFY on the same database by default
 * (`@socket.io/postgres-adapter`: nothing new to run; messages over NOTIFY's
 * 8000-byte limit travel through its `socket_io_attachments` table, created by a
 * migration), Redis pub/sub when `REDIS_URL` is set (`@socket.io/redis-adapter`).
 * A single instance on the embedded database needs none.
 */
import { createAdapter as createPostgresAdapter } from '@socket.io/postgres-adapter';
import { createAdapter as createRedisAdapter } from '@socket.io/redis-adapter';
import { Redis } from 'ioredis';
import pg from 'pg';
import type { Server } from 'socket.io';
import type { Logger } from '../logger';

/** Which engine carries messages between instances. */
export type FanoutKind = 'postgres' | 'redis' | 'none';

/** Connections of the adapter's pool: one LISTEN client, the rest for NOTIFY and attachments. */
export const fanoutPoolMax = 4;
/** How long a cross-instance attachment is kept before the adapter deletes it (ms). */
export const attachmentKeepMs = 30_000;
/** Heartbeat between instances' adapters, and how long a silent one still counts (ms): bounds waits for acks from a dead instance. */
export const adapterHeartbeatMs = 2000;
export const adapterHeartbeatTimeoutMs = 6000;

/** An attached adapter and how to close its connections. */
export interface Fanout {
  kind: FanoutKind;
  close(): Promise<void>;
}

/** Attaches the adapter of `kind` to `io`. */
export function attachFanout(io: Server, options: { kind: FanoutKind; databaseUrl: string; redisUrl: string | undefined; logger: Logger }): Fanout {
  const { logger } = options;
  const cluster = { heartbeatInterval: adapterHeartbeatMs, heartbeatTimeout: adapterHeartbeatTimeoutMs };
  if (options.kind === 'postgres') {
    const pool = new pg.Pool({ connectionString: options.databaseUrl, max: fanoutPoolMax, keepAlive: true });
    pool.on('error', (error) => logger.warn({ err: error }, 'fan-out pool connection failed'));
    // The adapter holds one client out of the pool for LISTEN without an error listener of its own: a reset
    // connection (database restart, outage) would be an uncaught exception. Heard here, it ends the client,
    // and the adapter listens again on a new one.
    pool.on('connect', (client) => client.on('error', (error) => logger.warn({ err: error }, 'fan-out connection failed; the adapter reconnects')));
    io.adapter(
      createPostgresAdapter(pool, {
        cleanupInterval: attachmentKeepMs,
        errorHandler: (error) => logger.warn({ err: error }, 'fan-out (postgres) message failed'),
        ...cluster,
      }),
    );
    logger.info({ fanout: 'postgres' }, 'instances fan out through PostgreSQL LISTEN/NOTIFY');
    return { kind: 'postgres', close: () => pool.end() };
  }
  if (options.kind === 'redis') {
    const publisher = new Redis(options.redisUrl!, { lazyConnect: false, maxRetriesPerRequest: 2 });
    const subscriber = publisher.duplicate();
    for (const client of [publisher, subscriber]) client.on('error', (error) => logger.warn({ err: error }, 'fan-out (redis) connection failed'));
    // Channels named after the database: deployments sharing one Redis do not hear each other (NOTIFY is per database already).
    const key = `faultline#${decodeURIComponent(new URL(options.databaseUrl).pathname.slice(1)) || 'default'}`;
    io.adapter(createRedisAdapter(publisher, subscriber, { key, requestsTimeout: adapterHeartbeatTimeoutMs }));
    logger.info({ fanout: 'redis' }, 'instances fan out through Redis pub/sub');
    return {
      kind: 'redis',
      async close() {
        subscriber.disconnect();
        publisher.disconnect();
      },
    };
  }
  return { kind: 'none', close: async () => undefined };
}
