/**
 * The composition root: opens the database, starts the HTTP listener with the
 * JSON API, Socket.IO and (optionally) Next.js on one port, the cluster service
 * and, by default, the demo cluster. Returns a handle whose `close` shuts it all
 * down in order: stop accepting, stop agents, flush writes, close sockets, close DB.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
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
import { type LifecycleRunner, clusterPolicy } from './recovery/orchestrator';
import { createLifecycleRunner } from './recovery/lifecycle-wiring';
import type { RecoveryEvents } from './recovery/recovery-service';
import { Emitter } from './events';
import type { ServerEvents } from './server-events';
import type { ServerConfig } from './config';
import { type Database, ingestPoolMax, openDatabase } from './db/database';
import { type LocalCluster, demoAgentIds, demoClusterId, startLocalCluster } from './demo-cluster';
import { FaultController } from './fault-controller';
import type { HealthReport } from '../core/http-views';
import { type PageHandler, routeRequest } from './request-router';
import { listenUrl, prepareWebApp } from './web-app';
import { readinessOf } from './readiness';
import { applyConnectionCap, refuseForeignSocketIoUpgrades, serverOptionsFor } from './http/connection-limits';
import { type Logger, createLogger } from './logger';
import { type ServerMetrics, createMetrics } from './metrics';
import { attachRealtime } from './realtime/socket-server';
import { type ConsoleServices, startConsoleServices } from './console-services';
import { ScenarioRunner, loadScenarioCatalog } from './scenario-runner';
import { createExperiments } from './experiments/experiment-wiring';
import { ReportWriter } from './report-writer';
import { loadSecrets } from './secrets';
import type { InstanceSync } from './instance-sync';
import { type Election, LeaderGate, newInstanceId } from './leadership';
import { startLeadership, wireScaleOut } from './scale-out';

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
  /** Whether this instance leads (several instances on one database); leader-only services subscribe to it. */
  leadership: LeaderGate;
  close(): Promise<void>;
}

/** Starts everything described by `config`. */
export async function startServer(config: ServerConfig, logger: Logger = createLogger(config.logLevel)): Promise<RunningServer> {
  const startedAtMs = Date.now();
  const secrets = await loadSecrets(config.dataDir, {
    ...(config.agentToken ? { agentToken: config.agentToken } : {}),
    ...(config.clusterKey ? { clusterKey: config.clusterKey } : {}),
  });
  // Next.js prepares while the database opens: neither needs the other, and each takes seconds.
  const webApp = config.web ? prepareWebApp(config) : null;
  // Awaited below; a rejection before then must not count as unhandled.
  webApp?.catch(() => undefined);
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

  const httpServer = createServer(serverOptionsFor(config.connectionLimits));
  applyConnectionCap(httpServer, config.connectionLimits);
  // One mechanism for "this runs on one instance only": services subscribe to the gate (scale-out.ts).
  const gate = new LeaderGate(config.scaleOut.instanceId ?? newInstanceId(), logger.child({ component: 'leadership' }));
  const { fanout } = config.scaleOut;
  const realtime = attachRealtime({
    fanout: fanout === 'none' ? undefined : { kind: fanout, databaseUrl: database.url, redisUrl: config.scaleOut.redisUrl },
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
  events.on('clusterUpdated', (snapshot) => sync.publishSnapshot(snapshot));
  events.on('partitionChanged', (partition) => {
    serverMetrics.partitionChanged(partition);
    sync.publishPartition(partition);
  });
  events.on('refused', (reason) => serverMetrics.refused(reason));
  events.on('reportOutcome', (outcome) => serverMetrics.reportOutcome(outcome));
  const faults = new FaultController(realtime.sendCommand, { ttlMs: config.faultTtlMs, rulesChanged: (cluster) => sync.publishFaults(cluster) });
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
  realtime.onDuplicateRefused = (clusterId, agentId, detail) => presence.duplicateRefused(clusterId, agentId, detail);
  const policy = () => clusterPolicy({ stabilityWindowMs: config.stabilityWindowMs, thresholds: config.thresholds });
  const lifecycle = createLifecycleRunner({
    prisma: database.prisma, partitions, consoleServices, registry, realtime, acknowledgementTimeoutMs: config.acknowledgementTimeoutMs, policy,
    partitionChanged: (summary) => events.emit('partitionSaved', summary), logger,
  });
  // Operators' decisions on any instance; the leader's lifecycle runner carries them out.
  recoveryEvents.on('effects', (effects) => sync.publishRecovery(effects));
  const sync: InstanceSync = wireScaleOut({ realtime, faults, gate, getService: (): ClusterService => service, partitions, lifecycle, presence, alerts: consoleServices.alerts, credentials, registry, config, logger });
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
    scaleOut: sync,
  });
  events.on('partitionSaved', (summary) => service.partitionChanged(summary));
  const scenarioLogger = logger.child({ component: 'scenarios' });
  const scenarios = new ScenarioRunner(await loadScenarioCatalog(config.scenariosDir, scenarioLogger), faults, scenarioLogger);
  // Experiments (server/experiments): only these lines wire them, so they can be gated to one instance.
  const experiments = createExperiments({
    prisma: database.prisma, service, scenarios, faults, recovery: consoleServices.recovery, config: config.experiments, logger: logger.child({ component: 'experiments' }),
    storeUrls: (clusterId) => (clusterId === demoClusterId && demo ? demo.storeUrls : new Map()),
    policy,
  });
  // Runs marked running by an instance that died are closed by the leader, not by every instance that starts.
  gate.serve('experiments', { start: () => experiments.recoverInterrupted(), stop: () => undefined });
  const apiContext = { service, faults, scenarios, health, logger: logger.child({ component: 'api' }), ...consoleServices, ...experiments.api };

  let closing: Promise<void> | null = null;
  const readiness = () =>
    readinessOf({ database, registry, presence, staleAfterMs: config.staleAfterMs, requiresAgents: config.readyRequiresAgents, closing: closing !== null, leadership: gate.status() });
  const agentRoutesContext = {
    credentials,
    adminCheck: consoleAdminCheck(bearerAdminCheck(config.adminToken), consoleServices),
    metrics: serverMetrics,
    readiness,
    logger: logger.child({ component: 'agent-routes' }),
    audit: consoleServices.audit,
  };

  // Before the listener opens: clusters are listed, and the agents known from before
  // are expected, before the first agent can say hello.
  await service.loadClusters();
  // Before any agent can connect: nonces used before a restart must stay used after it.
  await credentials.loadRecentNonces();

  /** Starts the demo agents against `serverUrl`, with their credentials (reused across restarts). */
  const startDemo = async (serverUrl: string): Promise<LocalCluster> => {
    await service.ensureCluster(demoClusterId, { name: 'Demo cluster', demo: true });
    const demoTokens = await issueDemoCredentials(credentials, config.demoAgents, config.dataDir);
    return startLocalCluster({
      clusterId: demoClusterId,
      agentCount: config.demoAgents,
      serverUrl,
      agentToken: (agentId) => demoTokens.get(agentId) ?? secrets.agentToken,
      clusterKey: secrets.clusterKey,
      heartbeatIntervalMs: config.demoHeartbeatMs,
      missedHeartbeatsMax: 3,
      outboxRoot: path.join(config.dataDir, 'agent-outbox'),
      logger,
      store: config.demoStore,
      agentBundle: config.demoAgentBundle,
    });
  };
  // With a fixed port the agents' processes start while the server finishes starting
  // (their start takes seconds); they connect once it listens, retrying every 250 ms until then.
  let demo: LocalCluster | null = config.demo && config.port !== 0 ? await startDemo(listenUrl(config.host, config.port)) : null;
  // Pages are answered once Next.js is ready (it prepared meanwhile).
  const web = await webApp;
  const nextHandler: PageHandler | null = web?.handler ?? null;
  const nextApp: { close?: () => Promise<void> } | null = web?.app ?? null;
  refuseForeignSocketIoUpgrades(httpServer, realtime.io.path());
  httpServer.on('request', routeRequest({ agentRoutesContext, apiContext, socketIoPath: realtime.io.path(), pages: nextHandler, logger }));
  try {
    await new Promise<void>((resolve, reject) => {
      httpServer.once('error', reject);
      httpServer.listen(config.port, config.host, () => resolve());
    });
  } catch (error) {
    await demo?.stop();
    throw error;
  }
  const port = (httpServer.address() as AddressInfo).port;
  const url = listenUrl(config.host, port);
  if (config.alertWebhookUrl) {
    const webhook = new AlertWebhook(config.alertWebhookUrl, config.externalUrl ?? url, logger.child({ component: 'alert-webhook' }));
    events.on('alertChanged', (alert) => void webhook.deliver(alert));
  }
  service.start();
  sync.start();
  // Leader-only services (lifecycle runner, presence alerts) start when this instance leads: at once when it is alone.
  const election: Election = await startLeadership({ gate, database, selfUrl: url, pollMs: config.scaleOut.leaderPollMs, logger: logger.child({ component: 'leadership' }) });
  logger.info({ url, embeddedDatabase: database.embedded, instanceId: gate.instanceId, leader: gate.isLeader, fanout }, 'Faultline control server listening');

  if (config.demo && !demo) demo = await startDemo(url);

  // `closing` is declared above, where readiness reads it.
  const close = () => {
    closing ??= shutDown(logger, [
      ['experiments', () => experiments.close()],
      ['scenarios', () => scenarios.close()],
      ['fault leases', () => faults.close()],
      ['listener', () => {
        httpServer.close();
        httpServer.closeIdleConnections?.();
      }],
      ['demo agents', () => demo?.stop()],
      // Releases the lock early: a follower takes over at its next poll.
      ['leadership', () => election.stop()],
      ['instance sync', () => sync.stop()],
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

  return { url, port, database, service, demo, agentToken: secrets.agentToken, clusterKey: secrets.clusterKey, credentials, metrics: serverMetrics, logger, console: consoleServices, lifecycle, leadership: gate, close };
}
