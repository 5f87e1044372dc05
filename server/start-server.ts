/**
 * The composition root: opens the database, starts the HTTP listener with the
 * JSON API, Socket.IO and (optionally) Next.js on one port, the cluster service
 * and, by default, the demo cluster. Returns a handle whose `close` shuts it all
 * down in order: stop accepting, stop agents, flush writes, close sockets, close DB.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bearerAdminCheck } from './auth/admin-check';
import { AgentCredentials } from './auth/agent-credentials';
import { consoleAdminCheck, issueDemoCredentials } from './admin-access';
import { healthOf, probeDatabase } from './database-probe';
import { shutDown } from './shutdown';
import { AgentPresence } from './agent-presence';
import { AlertWebhook } from './alert-webhook';
import { ClusterMembership } from './cluster-membership';
import { ClusterRegistry } from './cluster-registry';
import { ClusterService } from './cluster-service';
import { PrismaClusterStore } from './cluster-store';
import { PartitionRepository } from './db/partition-repository';
import { LifecycleRunner, clusterPolicy } from './recovery/orchestrator';
import { PrismaLifecycleStore } from './recovery/lifecycle-store';
import type { RecoveryEvents } from './recovery/recovery-service';
import { Emitter } from './events';
import type { ServerEvents } from './server-events';
import { ReconciliationDriver } from './recovery/reconciliation-driver';
import type { ServerConfig } from './config';
import { type Database, ingestPoolMax, openDatabase } from './db/database';
import { type LocalCluster, demoAgentIds, demoClusterId, startLocalCluster } from './demo-cluster';
import { FaultController } from './fault-controller';
import type { HealthReport } from '../core/http-views';
import { type PageHandler, routeRequest } from './request-router';
import { readinessOf } from './readiness';
import { applyConnectionCap, refuseForeignSocketIoUpgrades, serverOptionsFor } from './http/connection-limits';
import { type Logger, createLogger } from './logger';
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
  const writer = new ReportWriter(database.ingest, config.reportFlushMs, logger.child({ component: 'report-writer' }), database.embedded ? 1 : ingestPoolMax);
  // What flows back to the transport and the metrics, which are built after the services they observe.
  const events = new Emitter<ServerEvents>();
  const credentials = new AgentCredentials(database.prisma, {
    sharedToken: secrets.agentToken,
    sharedTokenClusters: [demoClusterId],
    sharedTokenAgents: demoAgentIds(config.demoAgents),
    nowMs: () => Date.now(),
    logger: logger.child({ component: 'agent-credentials' }),
    onRefused: (reason) => events.emit('refused', reason),
  });
  // The clusters held in memory: built before the lifecycle orchestrator and the cluster service, which both use them.
  const registry = new ClusterRegistry();
  const partitions = new PartitionRepository(database.prisma);
  let nextHandler: PageHandler | null = null;
  let nextApp: { close?: () => Promise<void> } | null = null;
  if (config.web) {
    const { default: next } = await import('next');
    const app = next({ dev: config.dev, dir: projectRoot, hostname: config.host, port: config.port });
    await app.prepare();
    nextHandler = app.getRequestHandler() as unknown as PageHandler;
    nextApp = app as unknown as { close?: () => Promise<void> };
  }

  const httpServer = createServer(serverOptionsFor(config.connectionLimits));
  applyConnectionCap(httpServer, config.connectionLimits);
  const realtime = attachRealtime({
    httpServer,
    credentials,
    getService: () => service,
    logger: logger.child({ component: 'realtime' }),
    onReportOutcome: (outcome) => events.emit('reportOutcome', outcome),
    agentHolderSilenceMs: config.agentHolderSilenceMs,
  });
  const serverMetrics = createMetrics({
    service: () => service,
    writeQueueDepth: () => writer.depth,
    agentsConnected: () => realtime.agentsConnected(),
    agentsMissing: () => presence.summary().missing,
    databaseUp: async () => (await probeDatabase(database)).ok,
  });
  events.on('clusterUpdated', (snapshot) => realtime.broadcaster.clusterUpdated(snapshot));
  events.on('partitionChanged', (partition) => {
    serverMetrics.partitionChanged(partition);
    realtime.broadcaster.partitionChanged(partition);
  });
  events.on('refused', (reason) => serverMetrics.refused(reason));
  events.on('reportOutcome', (outcome) => serverMetrics.reportOutcome(outcome));
  const faults = new FaultController(realtime.sendCommand);
  realtime.onAgentReady = (clusterId, agentId) => {
    presence.agentReady(clusterId, agentId);
    const cluster = service.findCluster(clusterId);
    if (cluster && cluster.node(agentId).faults.length > 0) {
      faults.resend(cluster, agentId).catch((error: unknown) => logger.warn({ err: error, agentId }, 'fault rules not re-sent'));
    }
  };
  const health = async (): Promise<HealthReport> => ({
    ...healthOf(await probeDatabase(database)),
    agentsConnected: realtime.agentsConnected(),
    clusters: service.listClusters().length,
    uptimeS: Math.round((Date.now() - startedAtMs) / 1000),
    reports: { accepted: service.acceptedCount, refused: service.refusedCount, queued: writer.depth },
  });
  const recoveryEvents = new Emitter<RecoveryEvents>();
  const consoleServices = await startConsoleServices({
    recoveryEvents,
    onAlertChanged: (alert) => events.emit('alertChanged', alert),
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
    store: new PrismaLifecycleStore(database.prisma, partitions),
    alerts: consoleServices.alerts,
    recovery: consoleServices.recovery,
    driver,
    connectedNodes: (clusterId) => registry.connectedNodes(clusterId),
    writesAccepted: (clusterId) => registry.writesAccepted(clusterId),
    clusterIds: () => registry.ids(),
    acknowledgementTimeoutMs: config.acknowledgementTimeoutMs,
    sendDataPlane: async (clusterId, nodeIds, command) => {
      const replies = await Promise.all(nodeIds.map((nodeId) => realtime.requestAgent(clusterId, nodeId, command)));
      const failed = nodeIds.filter((_, index) => !replies[index]!.ok);
      if (failed.length > 0) logger.warn({ clusterId, failed, command: command.type }, 'data-plane command not delivered');
    },
    policyFor: () => clusterPolicy({ stabilityWindowMs: config.stabilityWindowMs, thresholds: config.thresholds }),
    partitionChanged: (summary) => events.emit('partitionSaved', summary),
    logger: logger.child({ component: 'lifecycle' }),
    nowMs: () => Date.now(),
  });
  recoveryEvents.on('effects', (effects) => lifecycle.handle(effects));
  const service = new ClusterService({
    registry,
    clusters: new PrismaClusterStore(database.prisma),
    partitions,
    writer,
    broadcaster: { clusterUpdated: (snapshot) => events.emit('clusterUpdated', snapshot), partitionChanged: (partition) => events.emit('partitionChanged', partition) },
    options: { staleAfterMs: config.staleAfterMs, ...config.partitionTracking, nowMs: () => Date.now() },
    logger: logger.child({ component: 'cluster-service' }),
    membership: new ClusterMembership(database.prisma, {
      declared: new Map(config.demo ? [[demoClusterId, demoAgentIds(config.demoAgents)]] : []),
      nowMs: () => Date.now(),
      logger: logger.child({ component: 'cluster-membership' }),
    }),
    lifecycle,
  });
  events.on('partitionSaved', (summary) => service.partitionChanged(summary));
  const scenarioLogger = logger.child({ component: 'scenarios' });
  const scenarios = new ScenarioRunner(await loadScenarioCatalog(config.scenariosDir, scenarioLogger), faults, scenarioLogger);
  const apiContext = { service, faults, scenarios, health, logger: logger.child({ component: 'api' }), ...consoleServices };

  let closing: Promise<void> | null = null;
  const readiness = () => readinessOf({ database, registry, presence, staleAfterMs: config.staleAfterMs, requiresAgents: config.readyRequiresAgents, closing: closing !== null });
  const agentRoutesContext = {
    credentials,
    adminCheck: consoleAdminCheck(bearerAdminCheck(config.adminToken), consoleServices),
    metrics: serverMetrics,
    readiness,
    logger: logger.child({ component: 'agent-routes' }),
    audit: consoleServices.audit,
  };

  refuseForeignSocketIoUpgrades(httpServer, realtime.io.path());
  httpServer.on('request', routeRequest({ agentRoutesContext, apiContext, socketIoPath: realtime.io.path(), pages: nextHandler, logger }));

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
  if (config.alertWebhookUrl) {
    const webhook = new AlertWebhook(config.alertWebhookUrl, config.externalUrl ?? url, logger.child({ component: 'alert-webhook' }));
    events.on('alertChanged', (alert) => void webhook.deliver(alert));
  }
  service.start();
  lifecycle.start({ divergenceSampleMs: config.divergenceSampleMs, ...config.recoveryTimers });
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
      store: config.demoStore,
    });
  }

  // `closing` is declared above, where readiness reads it.
  const close = () => {
    closing ??= shutDown(logger, [
      ['scenarios', () => scenarios.close()],
      ['listener', () => {
        httpServer.close();
        httpServer.closeIdleConnections?.();
      }],
      ['demo agents', () => demo?.stop()],
      ['lifecycle', () => lifecycle.stop()],
      ['cluster service', () => service.stop()],
      ['report writes', () => writer.flush()],
      ['agent credentials', () => credentials.close()],
      ['agent presence', () => presence.stop()],
      ['connections', () => httpServer.closeAllConnections?.()],
      ['sockets', () => realtime.close()],
      ['web app', () => nextApp?.close?.()],
      ['database', () => database.close()],
    ]);
    return closing;
  };

  return { url, port, database, service, demo, agentToken: secrets.agentToken, clusterKey: secrets.clusterKey, credentials, metrics: serverMetrics, logger, console: consoleServices, lifecycle, close };
}
