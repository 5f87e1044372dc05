/** Builders shared by the recovery unit tests: an orchestrator on in-memory stores, a fake clock and recorded agents. */
import type { LifecycleCommand, OrchestratorDeps } from './orchestrator-types';
import type { PartitionSummary } from '../../core/realtime-contract';
import type { PartitionVerdict } from '../../core/classify-partition';
import { defaultClusterPolicy } from '../../core/policy/cluster-policy';
import { type ReconciliationRun, startReconciliation } from '../../core/reconcile/reconciliation-run';
import { AlertsService } from '../alerts-service';
import { MemoryAlertStore } from '../alerts/alert-store';
import { FakeClock } from '../clock';
import { Emitter } from '../events';
import { createLogger } from '../logger';
import { MemoryLifecycleStore } from './lifecycle-store';
import { type RecoveryEvents, RecoveryService } from './recovery-service';
import { MemoryRecoveryStore } from './recovery-store';

export const partitionId = 'p1';
export const clusterId = 'c1';

/** A partial split: [a, b, c] keep the majority, [d, e] are cut off from it. */
export const majoritySplit: PartitionVerdict = {
  type: 'partial',
  components: [['a', 'b', 'c'], ['d', 'e']],
  majorityIndex: 0,
  cutLinks: [],
  byzantine: { nodes: [], links: [] },
} as unknown as PartitionVerdict;

/** The same sides cut completely: the minority is fenced. */
export const completeSplit: PartitionVerdict = { ...majoritySplit, type: 'complete' } as PartitionVerdict;

export function summary(overrides: Partial<PartitionSummary> = {}): PartitionSummary {
  return { id: partitionId, clusterId, type: 'complete', state: 'Normal', startedAtMs: 0, endedAtMs: null, components: majoritySplit.components, cutLinks: [], nodeIds: ['d', 'e'], outcome: null, divergenceMax: 0, recoveryMs: null, ...overrides };
}

/** Everything an orchestrator needs, in memory; `reconcile` decides how each reconciliation ends. */
export function recoveryFixture(options: { reconcile?: (run: ReconciliationRun) => ReconciliationRun } = {}) {
  const clock = new FakeClock();
  const store = new MemoryLifecycleStore();
  store.add(summary());
  const recoveryStore = new MemoryRecoveryStore();
  recoveryStore.addPartition(partitionId, clusterId, { type: 'complete', sides: majoritySplit.components, majorityIndex: 0, divergenceMax: 0 });
  const alerts = new AlertsService(new MemoryAlertStore(), { alertChanged: () => undefined }, clock);
  const events = new Emitter<RecoveryEvents>();
  const recovery = new RecoveryService(recoveryStore, { recoveryChanged: () => undefined }, clock, events);
  const commands: { nodeIds: string[]; command: LifecycleCommand }[] = [];
  const changed: PartitionSummary[] = [];
  const drives: string[][] = [];
  const deps: OrchestratorDeps = {
    store,
    alerts,
    recovery,
    driver: {
      collectAll: async () => ({ replicas: [], failed: [] }),
      digests: async () => new Map(),
      quiescedDigests: async () => new Map(),
      drive: async (input) => {
        drives.push(input.nodeIds);
        const { run } = startReconciliation({ partitionId: input.partitionId, nodeIds: input.nodeIds, since: input.since, attemptsMax: input.attemptsMax }, clock.nowMs());
        return (options.reconcile ?? ((started) => ({ ...started, phase: 'completed' })))(run);
      },
    },
    connectedNodes: () => ['a', 'b', 'c', 'd', 'e'],
    clusterIds: () => [clusterId],
    writesAccepted: () => new Map(),
    sendDataPlane: async (_, nodeIds, command) => void commands.push({ nodeIds, command }),
    acknowledgementTimeoutMs: 60_000,
    policyFor: () => defaultClusterPolicy,
    partitionChanged: (changedSummary) => void changed.push(changedSummary),
    logger: createLogger('silent'),
    nowMs: () => clock.nowMs(),
  };
  return { clock, store, recoveryStore, alerts, recovery, events, commands, changed, drives, deps };
}

/** Lets queued lane work (enqueued, not awaited) run to its end. */
export async function settle(): Promise<void> {
  for (let round = 0; round < 20; round += 1) await new Promise<void>((resolve) => setImmediate(resolve));
}
