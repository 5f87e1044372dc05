/**
 * Builds the experiments' parts for the composition root (start-server.ts), so
 * that its wiring stays a few lines (and can be gated, for example to the leader
 * instance): the Prisma store, the runner, the reports service and the
 * validation the API needs.
 */
import type { ClusterPolicy } from '../../core/policy/cluster-policy';
import type { NodeId } from '../../core/protocol';
import type { PrismaClient } from '../../generated/prisma/client';
import type { ClusterService } from '../cluster-service';
import type { ServerConfig } from '../config';
import type { FaultController } from '../fault-controller';
import type { Logger } from '../logger';
import type { RecoveryService } from '../recovery/recovery-service';
import type { ScenarioRunner } from '../scenario-runner';
import { storeUrlsOf } from './experiment-client';
import { validateScenarioFile } from './experiment-plan';
import { ExperimentRunner } from './experiment-runner';
import { ExperimentService } from './experiment-service';
import { PrismaExperimentStore } from './prisma-experiment-store';

/** Everything experiments add to the server. */
export interface Experiments {
  /** What the API context gets. */
  api: { experiments: ExperimentRunner; experimentReports: ExperimentService; validateScenario: typeof validateScenarioFile };
  /** Ends runs a previous process left `running`. */
  recoverInterrupted(): Promise<void>;
  /** Aborts every run (heals their faults). */
  close(): Promise<void>;
}

export function createExperiments(deps: {
  prisma: PrismaClient;
  service: ClusterService;
  scenarios: ScenarioRunner;
  faults: FaultController;
  /** Store API URLs the server knows itself (the demo's); other nodes' come from the endpoint their reports name. */
  storeUrls: (clusterId: string) => ReadonlyMap<NodeId, string>;
  policy: () => ClusterPolicy;
  recovery: RecoveryService;
  config: ServerConfig['experiments'];
  logger: Logger;
}): Experiments {
  const store = new PrismaExperimentStore(deps.prisma);
  const runner = new ExperimentRunner({
    store,
    scenarios: deps.scenarios,
    faults: deps.faults,
    cluster: (clusterId) => deps.service.getClusterOrThrow(clusterId),
    snapshot: (clusterId) => deps.service.snapshot(clusterId),
    storeUrls: (clusterId) => new Map([...storeUrlsOf(deps.service.snapshot(clusterId)), ...deps.storeUrls(clusterId)]),
    policy: deps.policy,
    approvePendingRecovery: async (partitionIds, actor, reason) => {
      let approved = 0;
      for (const partitionId of partitionIds) {
        for (const pending of await deps.recovery.list({ status: ['pending-approval'], partitionId, limit: 10 })) {
          await deps.recovery.approve(pending.id, actor, reason);
          approved += 1;
        }
      }
      return approved;
    },
    blastRadius: deps.config.blastRadius,
    sampleMs: deps.config.sampleMs,
    logger: deps.logger,
  });
  const reports = new ExperimentService(store, {
    get: (id) => deps.service.getPartitionOrThrow(id),
    clusterNodes: (clusterId) => [...(deps.service.findCluster(clusterId)?.nodes.keys() ?? [])],
  });
  return {
    api: { experiments: runner, experimentReports: reports, validateScenario: validateScenarioFile },
    recoverInterrupted: () => runner.recoverInterrupted(),
    close: () => runner.close(),
  };
}
