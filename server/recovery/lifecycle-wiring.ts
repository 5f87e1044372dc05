/**
 * Builds the lifecycle orchestrator with what it drives: the reconciliation driver
 * and the data-plane commands it sends through the agents' control connections.
 * Kept out of start-server.ts (the composition root) so that file stays one page.
 */
import type { PartitionStore } from '../db/partition-repository';
import type { PrismaClient } from '../../generated/prisma/client';
import type { ClusterRegistry } from '../cluster-registry';
import type { ConsoleServices } from '../console-services';
import type { Logger } from '../logger';
import type { Realtime } from '../realtime/socket-server';
import type { PartitionSummary } from '../../core/realtime-contract';
import type { ClusterPolicy } from '../../core/policy/cluster-policy';
import { PrismaLifecycleStore } from './lifecycle-store';
import { LifecycleRunner } from './orchestrator';
import { ReconciliationDriver } from './reconciliation-driver';

export function createLifecycleRunner(input: {
  prisma: PrismaClient;
  partitions: PartitionStore;
  consoleServices: Pick<ConsoleServices, 'alerts' | 'recovery'>;
  registry: ClusterRegistry;
  realtime: Pick<Realtime, 'requestAgent'>;
  acknowledgementTimeoutMs: number;
  policy: () => ClusterPolicy;
  partitionChanged: (summary: PartitionSummary) => void;
  logger: Logger;
}): LifecycleRunner {
  const { realtime, registry, logger } = input;
  const driver = new ReconciliationDriver((clusterId, agentId, command) => realtime.requestAgent(clusterId, agentId, command), logger.child({ component: 'reconciliation' }));
  return new LifecycleRunner({
    store: new PrismaLifecycleStore(input.prisma, input.partitions),
    alerts: input.consoleServices.alerts,
    recovery: input.consoleServices.recovery,
    driver,
    connectedNodes: (clusterId) => registry.connectedNodes(clusterId),
    writesAccepted: (clusterId) => registry.writesAccepted(clusterId),
    clusterIds: () => registry.ids(),
    acknowledgementTimeoutMs: input.acknowledgementTimeoutMs,
    sendDataPlane: async (clusterId, nodeIds, command) => {
      const replies = await Promise.all(nodeIds.map((nodeId) => realtime.requestAgent(clusterId, nodeId, command)));
      const failed = nodeIds.filter((_, index) => !replies[index]!.ok);
      if (failed.length > 0) logger.warn({ clusterId, failed, command: command.type }, 'data-plane command not delivered');
    },
    policyFor: input.policy,
    partitionChanged: input.partitionChanged,
    logger: logger.child({ component: 'lifecycle' }),
    nowMs: () => Date.now(),
  });
}
