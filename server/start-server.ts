/**
 * The composition root: opens the database, starts the HTTP listener with the
 * JSON API, Socket.IO and (optionally) Next.js on one port, the cluster service
 * and, by default, the demo cluster. Returns a handle whose `close` shuts it all
 * down in order: stop accepting, stop agents, flush writes, close sockets, close DB.
 */
import { type IncomingMessage, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ClusterService } from './cluster-service';
import type { ServerConfig } from './config';
import { type Database, openDatabase } from './db/database';
import { type LocalCluster, demoClusterId, startLocalCluster } from './demo-cluster';
import { FaultController } from './fault-controller';
import { type HealthReport, handleApi } from './http/api';
import { type Logger, createLogger } from './logger';
import { attachRealtime } from './realtime/socket-server';
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
  logger: Logger;
  close(): Promise<void>;
}

async function probeDatabase(database: Database): Promise<HealthReport['database']> {
  const started = performance.now();
  try {
    await database.prisma.$queryRaw`SELECT 1`;
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
    logger,
  });
  const writer = new ReportWriter(database.prisma, config.reportFlushMs, logger.child({ component: 'report-writer' }));

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
  const httpServer = createServer();
  const realtime = attachRealtime({
    httpServer,
    agentToken: secrets.agentToken,
    getService: () => service!,
    logger: logger.child({ component: 'realtime' }),
  });
  service = new ClusterService(
    database.prisma,
    writer,
    realtime.broadcaster,
    { staleAfterMs: config.staleAfterMs, evaluateIntervalMs: 50, healStableMs: 1000, openStableIntervals: 1.5, nowMs: () => Date.now() },
    logger.child({ component: 'cluster-service' }),
  );
  const faults = new FaultController(realtime.sendCommand);
  realtime.onAgentReady = (clusterId, agentId) => {
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
  const apiContext = { service, faults, health, logger: logger.child({ component: 'api' }) };

  httpServer.on('request', (request, response) => {
    const url = request.url ?? '/';
    if (url.startsWith('/api/') || url === '/api') {
      void handleApi(request, response, apiContext);
    } else if (url.startsWith('/socket.io')) {
      return; // Socket.IO answers these itself.
    } else if (nextHandler) {
      nextHandler(request, response).catch((error: unknown) => {
        logger.error({ err: error, url }, 'page render failed');
        if (!response.headersSent) response.writeHead(500).end('internal error');
      });
    } else {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('web UI disabled');
    }
  });

  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(config.port, config.host, () => resolve());
  });
  const port = (httpServer.address() as AddressInfo).port;
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
  service.start();
  logger.info({ url, embeddedDatabase: database.embedded }, 'Faultline control server listening');

  let demo: LocalCluster | null = null;
  if (config.demo) {
    await service.ensureCluster(demoClusterId, { name: 'Demo cluster', demo: true });
    demo = await startLocalCluster({
      clusterId: demoClusterId,
      agentCount: config.demoAgents,
      serverUrl: url,
      agentToken: secrets.agentToken,
      clusterKey: secrets.clusterKey,
      heartbeatIntervalMs: config.demoHeartbeatMs,
      missedHeartbeatsMax: 3,
      logger,
    });
  }

  let closing: Promise<void> | null = null;
  const close = () => {
    closing ??= (async () => {
      logger.info('shutting down');
      httpServer.close();
      httpServer.closeIdleConnections?.();
      await demo?.stop();
      await service!.stop();
      await writer.flush().catch(() => undefined);
      await realtime.close();
      httpServer.closeAllConnections?.();
      await nextApp?.close?.().catch(() => undefined);
      await database.close();
      logger.info('shut down cleanly');
    })();
    return closing;
  };

  return { url, port, database, service, demo, agentToken: secrets.agentToken, clusterKey: secrets.clusterKey, logger, close };
}
