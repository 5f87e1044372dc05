/**
 * The composition root: opens the database, starts the HTTP listener with the
 * JSON API, Socket.IO and (optionally) Next.js on one port, the cluster service
 * and, by default, the demo cluster. Returns a handle whose `close` shuts it all
 * down in order: stop accepting, stop agents, flush writes, close sockets, close DB.
 */
import { type IncomingMessage, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type AdminCheck, AgentCredentials, bearerAdminCheck } from './auth/agent-credentials';
import { authenticate, checkCsrf, checkOrigin } from './auth/request-auth';
import { AgentPresence } from './agent-presence';
import { AlertWebhook } from './alert-webhook';
import { ClusterMembership } from './cluster-membership';
import { ClusterService } from './cluster-service';
import { LifecycleRunner, clusterPolicy } from './recovery/orchestrator';
import { PrismaLifecycleStore } from './recovery/lifecycle-store';
import { ReconciliationDriver } from './reconciliation-driver';
import type { ServerConfig } from './config';
import { type Database, openDatabase } from './db/database';
import { type LocalCluster, demoAgentIds, demoClusterId, startLocalCluster } from './demo-cluster';
import { FaultController } from './fault-controller';
import { type HealthReport, handleApi } from './http/api';
import { applyConnectionCap, isSocketIoRequest, refuseForeignSocketIoUpgrades, serverOptionsFor } from './http/connection-limits';
import { type Logger, createLogger } from './logger';
import { type Readiness, handleAgentRoutes, isAgentRoute } from './http/agent-routes';
import { type ServerMetrics, createMetrics } from './metrics';
import { attachRealtime } from './realtime/socket-server';
import { type ConsoleServices, startConsoleServices } from './console-services';
import { ScenarioRunner, loadScenarioCatalog } from './scenario-runner';
import { ReportWriter } from './report-writer';
import { loadSecrets } from './secrets';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** A running server. */
export interface RunningServer {
  /** Base URL, for example http://127.0.0.1:3000. */
  url: string;
  port: number;
  database: Database;
  service: ClusterService;
  demo: LocalCluster | null;
  agentToken: string;
  clusterKey: string;
  /** Issues, verifies and revokes per-agent credentials. */
  credentials: AgentCredentials;
  metrics: ServerMetrics;
  logger: Logger;
  /** Runs every open partition's lifecycle. */
  lifecycle: LifecycleRunner;
  /** The operator console's services: auth, audit, alerts, recovery, history. */
  console: ConsoleServices;
  close(): Promise<void>;
}

/** Longest one step of the shutdown may take before it is skipped (ms). */
export const shutdownStepMs = 10_000;

/** Longest a health or readiness probe waits for the database (ms); a hung connection must not hang the probe. */
export const databaseProbeTimeoutMs = 2000;

/**
 * Who may issue and revoke agent credentials: the configured admin token, or any
 * admin of the console (an admin bearer API token, or an admin session that passes
 * the origin and CSRF checks).
 */
function consoleAdminCheck(tokenCheck: AdminCheck, services: ConsoleServices): AdminCheck {
  return async (request) => {
    const byToken = await tokenCheck(request);
    if (byToken) return byToken;
    try {
      const principal = await authenticate(request.headers, services.auth);
      if (!principal || principal.role !== 'admin') return null;
      if (principal.kind === 'session') {
        checkOrigin(request.headers, (request.socket as TLSSocket).encrypted === true, services.allowedOrigins);
        checkCsrf(request.headers, principal);
      }
      return { actor: principal.name };
    } catch {
      return null;
    }
  };
}

async function probeDatabase(database: Database): Promise<HealthReport['database']> {
  const started = performance.now();
  try {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${databaseProbeTimeoutMs} ms`)), databaseProbeTimeoutMs);
    });
    await Promise.race([database.prisma.$queryRaw`SELECT 1`, timedOut]).finally(() => clearTimeout(timer));
    return { ok: true, embedded: database.embedded, latencyMs: Math.round(performance.now() - started) };
  } catch (error) {
    return { ok: false, embedded: database.embedded, latencyMs: null, error: (error as Error).message.slice(0, 200) };
  }
}

/** Starts everything described by `config`. */
export async function startServer(config: ServerConfig, logger: Logger = createLogger(config.logLevel)): Promise<RunningServer> {
  const startedAtMs = Date.now();
  const secrets = await loadSecrets(config.dataDir, {
    ...(config.agentToken ? { agentToken: config.agentToken } : {}),
    ...(config.clusterKey ? { clusterKey: config.clusterKey } : {}),
  });
  const database = await openDatabase({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    embeddedPort: config.embeddedDbPort,
    embeddedPassword: secrets.embeddedDatabasePassword,
    logger,
  });
  // Ingest writes on its own pool: console reads and exports cannot starve reports.
  const writer = new ReportWriter(database.ingestPrisma, config.reportFlushMs, logger.child({ component: 'report-writer' }));
  let metrics: ServerMetrics | null = null;
  const credentials = new AgentCredentials(database.prisma, {
    sharedToken: secrets.agentToken,
    sharedTokenClusters: [demoClusterId],
    sharedTokenAgents: demoAgentIds(config.demoAgents),
    nowMs: () => Date.now(),
    logger: logger.child({ component: 'agent-credentials' }),
    onRefused: (reason) => metrics?.refused(reason),
  });

  type PageHandler = (request: IncomingMessage, response: ServerResponse) => Promise<void>;
  let nextHandler: PageHandler | null = null;
  let nextApp: { close?: () => Promise<void> } | null = null;
  if (config.web) {
    const { default: next } = await import('next');
    const app = next({ dev: config.dev, dir: projectRoot, hostname: config.host, port: config.port });
    await app.prepare();
    nextHandler = app.getRequestHandler() as unknown as PageHandler;
    nextApp = app as unknown as { close?: () => Promise<void> };
  }

  let service: ClusterService | null = null;
  const httpServer = createServer(serverOptionsFor(config.connectionLimits));
  applyConnectionCap(httpServer, config.connectionLimits);
  const realtime = attachRealtime({
    httpServer,
    credentials,
    getService: () => service!,
    logger: logger.child({ component: 'realtime' }),
    onReportOutcome: (outcome) => metrics?.reportOutcome(outcome),
    agentHolderSilenceMs: config.agentHolderSilenceMs,
  });
  metrics = createMetrics({
    service: () => service!,
    writeQueueDepth: () => writer.depth,
    agentsConnected: () => realtime.agentsConnected(),
    agentsMissing: () => presence.summary().missing,
    databaseUp: async () => (await probeDatabase(database)).ok,
  });
  const serverMetrics = metrics;
  service = new ClusterService(
    database.prisma,
    writer,
    {
      clusterUpdated: (snapshot) => realtime.broadcaster.clusterUpdated(snapshot),
      partitionChanged: (partition) => {
        serverMetrics.partitionChanged(partition);
        realtime.broadcaster.partitionChanged(partition);
      },
    },
    { staleAfterMs: config.staleAfterMs, evaluateIntervalMs: 50, healStableMs: 1000, openStableIntervals: 1.5, nowMs: () => Date.now() },
    logger.child({ component: 'cluster-service' }),
    new ClusterMembership(database.prisma, {
      declared: new Map(config.demo ? [[demoClusterId, demoAgentIds(config.demoAgents)]] : []),
      nowMs: () => Date.now(),
      logger: logger.child({ component: 'cluster-membership' }),
    }),
  );
  const faults = new FaultController(realtime.sendCommand);
  realtime.onAgentReady = (clusterId, agentId) => {
    presence.agentReady(clusterId, agentId);
    const cluster = service!.findCluster(clusterId);
    if (cluster && cluster.node(agentId).faults.length > 0) {
      faults.resend(cluster, agentId).catch((error: unknown) => logger.warn({ err: error, agentId }, 'fault rules not re-sent'));
    }
  };
  const health = async (): Promise<HealthReport> => {
    const databaseHealth = await probeDatabase(database);
    return {
      status: databaseHealth.ok ? 'ok' : 'degraded',
      database: databaseHealth,
      agentsConnected: realtime.agentsConnected(),
      clusters: service!.listClusters().length,
      uptimeS: Math.round((Date.now() - startedAtMs) / 1000),
      reports: { accepted: service!.acceptedCount, refused: service!.refusedCount, queued: writer.depth },
    };
  };
  let webhook: AlertWebhook | null = null;
  const consoleServices = await startConsoleServices({
    onAlertChanged: (alert) => void webhook?.deliver(alert),
    prisma: database.prisma,
    io: realtime.io,
    adminPassword: config.adminPassword,
    allowedOrigins: config.allowedOrigins,
    sessionPolicy: config.sessionPolicy,
    logger: logger.child({ component: 'console' }),
    refusals: credentials.refusals,
  });
  const presence = new AgentPresence({
    prisma: database.prisma,
    alerts: consoleServices.alerts,
    logger: logger.child({ component: 'agent-presence' }),
    nowMs: () => Date.now(),
    options: { knownWindowMs: config.knownAgentWindowMs, reconnectGraceMs: config.agentReconnectGraceMs },
    // A demo switched off is not missing its agents.
    ignoredClusters: config.demo ? [] : [demoClusterId],
  });
  realtime.onAgentGone = (clusterId, agentId) => presence.agentGone(clusterId, agentId);
  realtime.onDuplicateRefused = (clusterId, agentId, detail) => presence.duplicateRefused(clusterId, agentId, detail);
  const driver = new ReconciliationDriver(
    (clusterId, agentId, command) => realtime.requestAgent(clusterId, agentId, command),
    logger.child({ component: 'reconciliation' }),
  );
  const lifecycle = new LifecycleRunner({
    store: new PrismaLifecycleStore(database.prisma),
    alerts: consoleServices.alerts,
    recovery: consoleServices.recovery,
    driver,
    connectedNodes: (clusterId) => service!.connectedNodes(clusterId),
    writesAccepted: (clusterId) => service!.writesAccepted(clusterId),
    clusterIds: () => service!.listClusters().map((cluster) => cluster.clusterId),
    acknowledgementTimeoutMs: config.acknowledgementTimeoutMs,
    sendDataPlane: async (clusterId, nodeIds, command) => {
      const replies = await Promise.all(nodeIds.map((nodeId) => realtime.requestAgent(clusterId, nodeId, command)));
      const failed = nodeIds.filter((_, index) => !replies[index]!.ok);
      if (failed.length > 0) logger.warn({ clusterId, failed, command: command.type }, 'data-plane command not delivered');
    },
    policyFor: () => clusterPolicy({ stabilityWindowMs: config.stabilityWindowMs, thresholds: config.thresholds }),
    partitionChanged: (summary) => service!.partitionChanged(summary),
    logger: logger.child({ component: 'lifecycle' }),
    nowMs: () => Date.now(),
  });
  consoleServices.recovery.executor = lifecycle;
  service.attachLifecycle(lifecycle);
  const scenarioLogger = logger.child({ component: 'scenarios' });
  const scenarios = new ScenarioRunner(await loadScenarioCatalog(config.scenariosDir, scenarioLogger), faults, scenarioLogger);
  const apiContext = { service, faults, scenarios, health, logger: logger.child({ component: 'api' }), ...consoleServices };

  let closing: Promise<void> | null = null;
  const readiness = async (): Promise<Readiness> => {
    const databaseHealth = await probeDatabase(database);
    const nowMs = Date.now();
    const nodes = service!.listClusters().flatMap((cluster) => [...cluster.nodes.values()]);
    const agents = presence.summary();
    const agentsReason = config.readyRequiresAgents ? presence.unreadyReason() : null;
    const reasons = [
      ...(databaseHealth.ok ? [] : [`database: ${databaseHealth.error ?? 'unreachable'}`]),
      ...(closing ? ['server: shutting down'] : []),
      ...(agentsReason ? [agentsReason] : []),
    ];
    return {
      ready: reasons.length === 0,
      reasons,
      database: { ok: databaseHealth.ok, latencyMs: databaseHealth.latencyMs },
      agents: {
        ...agents,
        stale: nodes.filter((node) => node.connected && (node.lastReportAtMs === null || nowMs - node.lastReportAtMs > config.staleAfterMs)).length,
      },
    };
  };
  const agentRoutesContext = {
    credentials,
    adminCheck: consoleAdminCheck(bearerAdminCheck(config.adminToken), consoleServices),
    metrics: serverMetrics,
    readiness,
    logger: logger.child({ component: 'agent-routes' }),
    audit: consoleServices.audit,
  };

  refuseForeignSocketIoUpgrades(httpServer, realtime.io.path());
  httpServer.on('request', (request, response) => {
    const url = request.url ?? '/';
    if (isAgentRoute(url.split('?')[0]!)) {
      void handleAgentRoutes(request, response, agentRoutesContext);
    } else if (url.startsWith('/api/') || url === '/api') {
      void handleApi(request, response, apiContext);
    } else if (isSocketIoRequest(url, realtime.io.path())) {
      return; // Socket.IO answers these itself.
    } else if (url.startsWith(realtime.io.path())) {
      // Near Socket.IO's path but not its own (`/socket.iox`): nobody else would answer.
      response.writeHead(404, { 'content-type': 'text/plain', connection: 'close' }).end('not found');
    } else if (nextHandler) {
      nextHandler(request, response).catch((error: unknown) => {
        logger.error({ err: error, url }, 'page render failed');
        if (!response.headersSent) response.writeHead(500).end('internal error');
      });
    } else {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('web UI disabled');
    }
  });

  // Before the listener opens: clusters are listed, and the agents known from before
  // are expected, before the first agent can say hello.
  await service.loadClusters();
  await presence.start();
  // Before any agent can connect: nonces used before a restart must stay used after it.
  await credentials.loadRecentNonces();
  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(config.port, config.host, () => resolve());
  });
  const port = (httpServer.address() as AddressInfo).port;
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
  if (config.alertWebhookUrl) webhook = new AlertWebhook(config.alertWebhookUrl, config.externalUrl ?? url, logger.child({ component: 'alert-webhook' }));
  service.start();
  lifecycle.start(config.divergenceSampleMs);
  logger.info({ url, embeddedDatabase: database.embedded }, 'Faultline control server listening');

  let demo: LocalCluster | null = null;
  if (config.demo) {
    await service.ensureCluster(demoClusterId, { name: 'Demo cluster', demo: true });
    const demoTokens = await issueDemoCredentials(credentials, config.demoAgents);
    demo = await startLocalCluster({
      clusterId: demoClusterId,
      agentCount: config.demoAgents,
      serverUrl: url,
      agentToken: (agentId) => demoTokens.get(agentId) ?? secrets.agentToken,
      clusterKey: secrets.clusterKey,
      heartbeatIntervalMs: config.demoHeartbeatMs,
      missedHeartbeatsMax: 3,
      outboxRoot: path.join(config.dataDir, 'agent-outbox'),
      logger,
    });
  }

  // `closing` is declared above, where readiness reads it.
  const close = () => {
    // Each step is bounded: a shutdown that hangs on one stuck query or socket would
    // keep the port and the process for ever; past its bound a step is logged and
    // skipped so the rest (and the database) still close.
    const step = async (name: string, work: () => Promise<unknown> | unknown) => {
      let timer: NodeJS.Timeout | undefined;
      const bound = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), shutdownStepMs);
      });
      const outcome = await Promise.race([Promise.resolve().then(work).then(() => 'done' as const, () => 'failed' as const), bound]);
      clearTimeout(timer);
      if (outcome !== 'done') logger.warn({ step: name, outcome }, 'shutdown step did not finish cleanly');
    };
    closing ??= (async () => {
      logger.info('shutting down');
      scenarios.close();
      httpServer.close();
      httpServer.closeIdleConnections?.();
      await step('demo agents', () => demo?.stop());
      lifecycle.stop();
      await step('cluster service', () => service!.stop());
      await step('report writes', () => writer.flush());
      await step('agent credentials', () => credentials.close());
      await step('agent presence', () => presence.stop());
      httpServer.closeAllConnections?.();
      await step('sockets', () => realtime.close());
      await step('web app', () => nextApp?.close?.());
      await step('database', () => database.close());
      logger.info('shut down cleanly');
    })();
    return closing;
  };

  return { url, port, database, service, demo, agentToken: secrets.agentToken, clusterKey: secrets.clusterKey, credentials, metrics: serverMetrics, logger, console: consoleServices, lifecycle, close };
}

/**
 * Gives each demo agent (node-1..node-N) its own credential, revoking the ones
 * issued at the previous start; the demo then runs on per-agent credentials like a
 * real deployment. Falls back to the shared token if the database refuses.
 */
async function issueDemoCredentials(credentials: AgentCredentials, agentCount: number): Promise<Map<string, string>> {
  const tokens = new Map<string, string>();
  for (let index = 1; index <= agentCount; index += 1) {
    const agentId = `node-${index}`;
    await credentials.revokeAgent(demoClusterId, agentId, 'system:demo');
    const { token } = await credentials.issue({ clusterId: demoClusterId, agentId, createdBy: 'system:demo' });
    tokens.set(agentId, token);
  }
  return tokens;
}
