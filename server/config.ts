/**
 * The control server's configuration: parsed once from the environment with zod,
 * failing fast with every wrong value named. This is the only server module that
 * reads `process.env`.
 */
import path from 'node:path';
import { z } from 'zod';
import type { MonitoringThresholds } from '../core/policy/thresholds';
import { faultTtlMsMax, faultTtlMsMin } from '../core/protocol';
import { type SessionPolicy, sessionPolicyDefault } from './auth/session-policy';
import { faultTtlMsDefault } from './fault-controller';
import { type ConnectionLimits, connectionLimitsDefault } from './http/connection-limits';
import type { FanoutKind } from './realtime/fanout';

const onOff = z
  .enum(['on', 'off', 'true', 'false', '1', '0'])
  .transform((value) => value === 'on' || value === 'true' || value === '1');

const EnvSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().min(1).default('127.0.0.1'),
  DATABASE_URL: z.url().optional(),
  FAULTLINE_DATA_DIR: z.string().min(1).default('.faultline'),
  FAULTLINE_SCENARIOS_DIR: z.string().min(1).default('scenarios'),
  FAULTLINE_EMBEDDED_DB_PORT: z.coerce.number().int().min(0).max(65535).default(0),
  FAULTLINE_DEMO: onOff.default(true),
  FAULTLINE_DEMO_AGENTS: z.coerce.number().int().min(2).max(50).default(5),
  FAULTLINE_DEMO_HEARTBEAT_MS: z.coerce.number().int().min(20).max(60_000).default(250),
  FAULTLINE_DEMO_STORE: z.enum(['reference', 'redis']).default('reference'),
  FAULTLINE_DEMO_AGENT_BUNDLE: z.string().min(1).optional(),
  FAULTLINE_AGENT_TOKEN: z.string().min(16).optional(),
  FAULTLINE_ADMIN_TOKEN: z.string().min(24).optional(),
  FAULTLINE_CLUSTER_KEY: z.string().min(16).optional(),
  FAULTLINE_STALE_AFTER_MS: z.coerce.number().int().min(100).max(3_600_000).default(3000),
  FAULTLINE_DURATION_MAX_S: z.coerce.number().positive().max(31_536_000).default(300),
  FAULTLINE_RECOVERY_MAX_S: z.coerce.number().positive().max(31_536_000).default(600),
  FAULTLINE_DIVERGENCE_RATIO_MAX: z.coerce.number().min(0).max(1).default(0.1),
  FAULTLINE_ALERT_WEBHOOK_URL: z.url().optional(),
  FAULTLINE_EXTERNAL_URL: z.url().optional(),
  FAULTLINE_ACK_TIMEOUT_S: z.coerce.number().positive().max(31_536_000).default(1800),
  FAULTLINE_EXPERIMENT_NODES_MAX: z.coerce.number().int().min(1).max(100_000).default(100),
  FAULTLINE_EXPERIMENT_FRACTION_MAX: z.coerce.number().min(0).max(1).default(0.5),
  FAULTLINE_EXPERIMENT_SAMPLE_MS: z.coerce.number().int().min(100).max(60_000).default(1000),
  FAULTLINE_STABILITY_WINDOW_MS: z.coerce.number().int().min(0).max(86_400_000).default(10_000),
  FAULTLINE_DIVERGENCE_SAMPLE_MS: z.coerce.number().int().min(100).max(600_000).default(2000),
  FAULTLINE_KNOWN_AGENT_WINDOW_S: z.coerce.number().int().min(10).max(2_592_000).default(900),
  FAULTLINE_AGENT_RECONNECT_GRACE_MS: z.coerce.number().int().min(0).max(3_600_000).default(30_000),
  FAULTLINE_READY_REQUIRES_AGENTS: onOff.default(true),
  FAULTLINE_AGENT_HOLDER_SILENCE_MS: z.coerce.number().int().min(1000).max(600_000).default(30_000),
  FAULTLINE_FAULT_TTL_MS: z.coerce.number().int().min(faultTtlMsMin).max(faultTtlMsMax).default(faultTtlMsDefault),
  FAULTLINE_REPORT_FLUSH_MS: z.coerce.number().int().min(1).max(10_000).default(50),
  FAULTLINE_ADMIN_PASSWORD: z.string().min(10, 'at least 10 characters').max(256).optional(),
  FAULTLINE_SESSION_LIFETIME_S: z.coerce.number().int().min(1).max(31_536_000).default(sessionPolicyDefault.lifetimeMs / 1000),
  FAULTLINE_SESSION_IDLE_TIMEOUT_S: z.coerce.number().int().min(1).max(31_536_000).default(sessionPolicyDefault.idleTimeoutMs / 1000),
  FAULTLINE_SESSION_TOUCH_INTERVAL_S: z.coerce.number().int().min(1).max(86_400).default(sessionPolicyDefault.touchIntervalMs / 1000),
  FAULTLINE_ALLOWED_ORIGINS: z
    .string()
    .default('')
    .transform((value) => value.split(',').map((origin) => origin.trim()).filter(Boolean))
    .pipe(z.array(z.url())),
  FAULTLINE_HTTP_HEADERS_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(connectionLimitsDefault.headersTimeoutMs),
  FAULTLINE_HTTP_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(100).max(3_600_000).default(connectionLimitsDefault.requestTimeoutMs),
  FAULTLINE_HTTP_KEEP_ALIVE_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(connectionLimitsDefault.keepAliveTimeoutMs),
  FAULTLINE_HTTP_CONNECTIONS_MAX: z.coerce.number().int().min(10).max(1_000_000).default(connectionLimitsDefault.connectionsMax),
  REDIS_URL: z.url().optional(),
  FAULTLINE_FANOUT: z.enum(['auto', 'postgres', 'redis', 'none']).default('auto'),
  FAULTLINE_LEADER_POLL_MS: z.coerce.number().int().min(50).max(60_000).default(500),
  FAULTLINE_INSTANCE_ID: z.string().regex(/^[\w.-]{1,64}$/, 'letters, digits, ".", "-" and "_", at most 64').optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  NODE_ENV: z.string().optional(),
}).refine((env) => env.FAULTLINE_FANOUT !== 'postgres' || env.DATABASE_URL !== undefined, {
  message: 'postgres fan-out needs DATABASE_URL (the embedded database serves one instance)',
  path: ['FAULTLINE_FANOUT'],
}).refine((env) => env.FAULTLINE_FANOUT !== 'redis' || env.REDIS_URL !== undefined, {
  message: 'redis fan-out needs REDIS_URL',
  path: ['FAULTLINE_FANOUT'],
}).refine((env) => env.FAULTLINE_SESSION_TOUCH_INTERVAL_S < env.FAULTLINE_SESSION_IDLE_TIMEOUT_S, {
  // A touch interval as long as the idle timeout would let a session in use go idle.
  message: 'must be shorter than FAULTLINE_SESSION_IDLE_TIMEOUT_S',
  path: ['FAULTLINE_SESSION_TOUCH_INTERVAL_S'],
});

/** Everything the control server needs to start. */
export interface ServerConfig {
  /** TCP port of the single HTTP + Socket.IO + Next.js listener (0 picks a free one). */
  port: number;
  /** Interface to listen on. */
  host: string;
  /** External PostgreSQL URL; when absent an embedded PGlite server is started. */
  databaseUrl: string | undefined;
  /** Directory for the embedded database and generated secrets. */
  dataDir: string;
  /** Directory of the scenario catalog (`*.json`), which the chaos panel offers. */
  scenariosDir: string;
  /** Port of the embedded PostgreSQL listener on 127.0.0.1 (0 picks a free one). */
  embeddedDbPort: number;
  /** Whether to start the built-in demo cluster of agents. */
  demo: boolean;
  /** Number of demo agents. */
  demoAgents: number;
  /** Heartbeat interval of the demo agents (ms). */
  demoHeartbeatMs: number;
  /** The demo agents' store: the reference store, or real redis-server processes (when the binary is installed). */
  demoStore: 'reference' | 'redis';
  /**
   * The one-file agent (`npm run build:agent`) the demo agents run as, when set and
   * present: it starts in a fraction of the time tsx needs to compile the sources.
   * `npm start` sets it (and builds the file with the console); unset, they run the sources.
   */
  demoAgentBundle: string | null;
  /** Shared secret agents present when they connect (generated into dataDir when unset). */
  agentToken: string | undefined;
  /** Bearer token that may issue and revoke agent credentials until the console's roles take over; unset: nobody may. */
  adminToken: string | undefined;
  /** HMAC key of the demo cluster's heartbeats (generated into dataDir when unset). */
  clusterKey: string | undefined;
  /** A report older than this no longer counts as the agent's current view (ms). */
  staleAfterMs: number;
  /** Alertmanager-compatible webhook that receives every alert change, or undefined. */
  alertWebhookUrl: string | undefined;
  /** The console's public URL, for links in webhook payloads (defaults to the listen address). */
  externalUrl: string | undefined;
  /** An acknowledged alert still open this long after its acknowledgement fires again (ms). */
  acknowledgementTimeoutMs: number;
  /** A healed partition must stay healed (and reconciled) this long before it is closed (ms). */
  stabilityWindowMs: number;
  /** Experiments: the blast-radius limit an experiment may raise only by saying so, and how often a run samples the cluster (ms). */
  experiments: { blastRadius: { nodesMax: number; fractionMax: number }; sampleMs: number };
  /** Alert thresholds (the brief's: 300 s duration, 600 s recovery, 10 % divergence); divergence past its limit is also an emergency. */
  thresholds: MonitoringThresholds;
  /** How often divergence is sampled from replicas' digests while a partition is open (ms). */
  divergenceSampleMs: number;
  /** An agent seen (connected, or reporting before a restart) within this window is expected back (ms). */
  knownAgentWindowMs: number;
  /** A known agent away longer than this raises an alert, and counts against readiness if it has not come back since the start (ms). */
  agentReconnectGraceMs: number;
  /** Whether /api/ready answers 503 while known agents have not come back since the start (off where agents reach the server only through a readiness-gated balancer). */
  readyRequiresAgents: boolean;
  /** A second connection for a connected agent is refused while the holder was heard within this (ms); a holder silent longer is replaced. Keep it above Socket.IO's 25 s ping interval. */
  agentHolderSilenceMs: number;
  /** Longest time a report waits in the write batch before it is flushed (ms). */
  reportFlushMs: number;
  /** Lease of the fault rules pushed to agents (ms): an agent heals by itself when it passes unrenewed (`FAULTLINE_FAULT_TTL_MS`). */
  faultTtlMs: number;
  /** Password of the first admin, created when no admin exists; generated and printed once when unset. */
  adminPassword: string | undefined;
  /** Origins besides the server's own allowed to send browser requests (for a proxy on another host name). */
  allowedOrigins: string[];
  /** Browser sessions' lifetime, idle timeout and how often their activity is written. */
  sessionPolicy: SessionPolicy;
  /** Timeouts and the connection cap of the HTTP listener, so idle or unfinished connections cannot pile up. */
  connectionLimits: ConnectionLimits;
  /** How verdicts become partitions: re-evaluation interval and stability windows (fixed, see `partitionTrackingDefaults`). */
  partitionTracking: { evaluateIntervalMs: number; healStableMs: number; openStableIntervals: number };
  /** The recovery orchestrator's clocks (fixed, see `recoveryTimerDefaults`). */
  recoveryTimers: { lifecycleTickMs: number; acknowledgementCheckMs: number };
  /**
   * Several instances on one database (server/README.md): how they reach each
   * other's sockets, how often followers try the leader lock, this instance's id.
   */
  scaleOut: { fanout: FanoutKind; redisUrl: string | undefined; leaderPollMs: number; instanceId: string | undefined };
  /** pino log level. */
  logLevel: string;
  /** Serve the Next.js app in development mode. */
  dev: boolean;
  /** Serve the Next.js app at all (tests of the API alone turn it off). */
  web: boolean;
}

/** Re-evaluate verdicts every 50 ms; a heal must hold 1 s (at least 4 heartbeats), a split 1.5 heartbeat intervals. */
export const partitionTrackingDefaults = { evaluateIntervalMs: 50, healStableMs: 1000, openStableIntervals: 1.5 };

/** Lifecycles tick every second (gates, thresholds); acknowledgement timeouts are checked every 5 s. */
export const recoveryTimerDefaults = { lifecycleTickMs: 1000, acknowledgementCheckMs: 5000 };

/** Parses the environment; throws one error naming every invalid variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, argv: string[] = process.argv): ServerConfig {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new Error(`invalid configuration:\n  ${problems.join('\n  ')}`);
  }
  const e = parsed.data;
  return {
    port: e.PORT,
    host: e.HOST,
    databaseUrl: e.DATABASE_URL,
    dataDir: path.resolve(e.FAULTLINE_DATA_DIR),
    scenariosDir: path.resolve(e.FAULTLINE_SCENARIOS_DIR),
    embeddedDbPort: e.FAULTLINE_EMBEDDED_DB_PORT,
    demo: e.FAULTLINE_DEMO,
    demoAgents: e.FAULTLINE_DEMO_AGENTS,
    demoHeartbeatMs: e.FAULTLINE_DEMO_HEARTBEAT_MS,
    demoStore: e.FAULTLINE_DEMO_STORE,
    demoAgentBundle: e.FAULTLINE_DEMO_AGENT_BUNDLE ? path.resolve(e.FAULTLINE_DEMO_AGENT_BUNDLE) : null,
    agentToken: e.FAULTLINE_AGENT_TOKEN,
    adminToken: e.FAULTLINE_ADMIN_TOKEN,
    clusterKey: e.FAULTLINE_CLUSTER_KEY,
    staleAfterMs: e.FAULTLINE_STALE_AFTER_MS,
    reportFlushMs: e.FAULTLINE_REPORT_FLUSH_MS,
    faultTtlMs: e.FAULTLINE_FAULT_TTL_MS,
    knownAgentWindowMs: e.FAULTLINE_KNOWN_AGENT_WINDOW_S * 1000,
    agentReconnectGraceMs: e.FAULTLINE_AGENT_RECONNECT_GRACE_MS,
    readyRequiresAgents: e.FAULTLINE_READY_REQUIRES_AGENTS,
    agentHolderSilenceMs: e.FAULTLINE_AGENT_HOLDER_SILENCE_MS,
    alertWebhookUrl: e.FAULTLINE_ALERT_WEBHOOK_URL,
    externalUrl: e.FAULTLINE_EXTERNAL_URL,
    acknowledgementTimeoutMs: e.FAULTLINE_ACK_TIMEOUT_S * 1000,
    stabilityWindowMs: e.FAULTLINE_STABILITY_WINDOW_MS,
    experiments: { blastRadius: { nodesMax: e.FAULTLINE_EXPERIMENT_NODES_MAX, fractionMax: e.FAULTLINE_EXPERIMENT_FRACTION_MAX }, sampleMs: e.FAULTLINE_EXPERIMENT_SAMPLE_MS },
    thresholds: {
      partitionDurationMaxMs: e.FAULTLINE_DURATION_MAX_S * 1000,
      recoveryTimeMaxMs: e.FAULTLINE_RECOVERY_MAX_S * 1000,
      divergenceRatioMax: e.FAULTLINE_DIVERGENCE_RATIO_MAX,
    },
    divergenceSampleMs: e.FAULTLINE_DIVERGENCE_SAMPLE_MS,
    adminPassword: e.FAULTLINE_ADMIN_PASSWORD,
    allowedOrigins: e.FAULTLINE_ALLOWED_ORIGINS,
    sessionPolicy: {
      lifetimeMs: e.FAULTLINE_SESSION_LIFETIME_S * 1000,
      idleTimeoutMs: e.FAULTLINE_SESSION_IDLE_TIMEOUT_S * 1000,
      touchIntervalMs: e.FAULTLINE_SESSION_TOUCH_INTERVAL_S * 1000,
    },
    connectionLimits: {
      headersTimeoutMs: e.FAULTLINE_HTTP_HEADERS_TIMEOUT_MS,
      requestTimeoutMs: e.FAULTLINE_HTTP_REQUEST_TIMEOUT_MS,
      keepAliveTimeoutMs: e.FAULTLINE_HTTP_KEEP_ALIVE_TIMEOUT_MS,
      connectionsMax: e.FAULTLINE_HTTP_CONNECTIONS_MAX,
    },
    partitionTracking: { ...partitionTrackingDefaults },
    recoveryTimers: { ...recoveryTimerDefaults },
    scaleOut: {
      // auto: Redis when REDIS_URL is set, else PostgreSQL when the database is shared, else none (embedded: one instance).
      fanout: e.FAULTLINE_FANOUT !== 'auto' ? e.FAULTLINE_FANOUT : e.REDIS_URL ? 'redis' : e.DATABASE_URL ? 'postgres' : 'none',
      redisUrl: e.REDIS_URL,
      leaderPollMs: e.FAULTLINE_LEADER_POLL_MS,
      instanceId: e.FAULTLINE_INSTANCE_ID,
    },
    logLevel: e.LOG_LEVEL,
    dev: argv.includes('--dev'),
    web: true,
  };
}
