/**
 * The composition root's part for several instances on one database: which
 * services the leader alone runs (subscribed to the `LeaderGate` here, in the
 * order they start), and how leadership is won. A service another change adds
 * that must run once per deployment (an experiment runner, say) is one more
 * `gate.serve(name, { start, stop })` call, here or next to its construction.
 */
import type { AgentPresence } from './agent-presence';
import type { AlertsService } from './alerts-service';
import type { AgentCredentials } from './auth/agent-credentials';
import type { ClusterRegistry } from './cluster-registry';
import type { ClusterService } from './cluster-service';
import type { ServerConfig } from './config';
import type { Database } from './db/database';
import type { FaultController } from './fault-controller';
import type { PartitionStore } from './db/partition-repository';
import { InstanceSync } from './instance-sync';
import { type Election, type LeaderGate, startElection } from './leadership';
import type { Logger } from './logger';
import type { Realtime } from './realtime/socket-server';
import type { LifecycleRunner } from './recovery/orchestrator';

/**
 * Builds the instance sync (instance-sync.ts) on the realtime server, hooks the
 * agents' comings and goings to it, and subscribes the leader-only services.
 */
export function wireScaleOut(input: {
  realtime: Realtime;
  faults: FaultController;
  gate: LeaderGate;
  getService: () => ClusterService;
  partitions: PartitionStore;
  lifecycle: LifecycleRunner;
  presence: AgentPresence;
  alerts: AlertsService;
  credentials: AgentCredentials;
  registry: ClusterRegistry;
  config: Pick<ServerConfig, 'staleAfterMs' | 'divergenceSampleMs' | 'recoveryTimers'>;
  logger: Logger;
}): InstanceSync {
  const { realtime, gate, lifecycle, presence, config } = input;
  const sync = new InstanceSync({
    io: realtime.io as never,
    fanout: realtime.fanout,
    gate,
    getService: input.getService,
    partitions: input.partitions,
    lifecycle,
    alerts: input.alerts,
    rememberNonce: (report) => input.credentials.rememberNonce(report),
    local: realtime.broadcaster,
    localAgents: () => realtime.localAgents(),
    handleRecovery: (effects) => lifecycle.handle(effects),
    agentReady: (clusterId, agentId) => presence.agentReady(clusterId, agentId),
    agentGone: (clusterId, agentId) => presence.agentGone(clusterId, agentId),
    staleAfterMs: config.staleAfterMs,
    logger: input.logger.child({ component: 'instance-sync' }),
    nowMs: () => Date.now(),
  });
  realtime.onAgentReady = (clusterId, agentId) => {
    presence.agentReady(clusterId, agentId);
    sync.holdingsChanged();
    // Rules set while the agent was away (or held by another instance) apply on its return.
    const cluster = input.getService().findCluster(clusterId);
    if (cluster && cluster.node(agentId).faults.length > 0) {
      input.faults.resend(cluster, agentId).catch((error: unknown) => input.logger.warn({ err: error, agentId }, 'fault rules not re-sent'));
    }
  };
  realtime.onAgentGone = (clusterId, agentId) => {
    sync.holdingsChanged();
    if (!sync.connectedElsewhere(clusterId, agentId)) presence.agentGone(clusterId, agentId);
  };
  serveOnLeader({ gate, sync, lifecycle, lifecycleTimers: { divergenceSampleMs: config.divergenceSampleMs, ...config.recoveryTimers }, presence, registry: input.registry });
  return sync;
}

/** Subscribes the leader-only services: partition decisions and lifecycles (with recovery, alerts, divergence), then agent-presence alerts. */
export function serveOnLeader(input: {
  gate: LeaderGate;
  sync: InstanceSync;
  lifecycle: LifecycleRunner;
  lifecycleTimers: Parameters<LifecycleRunner['start']>[0];
  presence: AgentPresence;
  registry: ClusterRegistry;
}): void {
  const { gate, sync, lifecycle, presence, registry } = input;
  gate.serve('classifier and lifecycle runner', {
    async start() {
      await sync.takeOver();
      lifecycle.start(input.lifecycleTimers);
    },
    stop() {
      sync.stepDown();
      lifecycle.stop();
    },
  });
  gate.serve('agent presence', {
    async start() {
      await presence.start();
      // Agents already connected, here or on another instance, are not missing.
      for (const clusterId of registry.ids()) for (const agentId of registry.connectedNodes(clusterId)) presence.agentReady(clusterId, agentId);
    },
    stop: () => presence.stop(),
  });
}

/**
 * Wins leadership: at once on the embedded database (one instance only), else by
 * the election on PostgreSQL; resolves after its first round, so a lone instance
 * leads before it serves its first request.
 */
export async function startLeadership(input: { gate: LeaderGate; database: Database; selfUrl: string; pollMs: number; logger: Logger }): Promise<Election> {
  const { gate } = input;
  if (input.database.embedded) {
    await gate.lead(0);
    return { firstRound: Promise.resolve(), stop: () => gate.stepDown('shutting down') };
  }
  const election = startElection({ gate, url: input.database.url, selfUrl: input.selfUrl, pollMs: input.pollMs, logger: input.logger });
  await election.firstRound;
  return election;
}
