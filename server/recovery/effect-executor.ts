/**
 * Carries out one lifecycle effect: an exhaustive switch over core's
 * `LifecycleEffect`, so a new effect kind does not compile until it is handled
 * here. Persists go to the lifecycle store, commands to agents, alerts to the
 * alerts service (under the rule the effect names), recovery to `RecoveryRuns`.
 */
import type { LifecycleEffect } from '../../core/lifecycle/partition-lifecycle';
import type { Entry, OrchestratorDeps } from './orchestrator-types';
import type { RecoveryRuns } from './recovery-runs';

function unhandled(effect: never): never {
  throw new Error(`unhandled lifecycle effect ${JSON.stringify(effect)}`);
}

export class EffectExecutor {
  constructor(
    private readonly deps: Pick<OrchestratorDeps, 'store' | 'alerts' | 'sendDataPlane' | 'partitionChanged'>,
    private readonly runs: Pick<RecoveryRuns, 'request' | 'start' | 'abortOpen'>,
  ) {}

  async carryOut(entry: Entry, effect: LifecycleEffect): Promise<void> {
    switch (effect.kind) {
      case 'persist-transition':
        return this.deps.store.appendTransition(effect.transition);
      case 'persist-decision':
        return this.deps.store.appendDecision(effect.decision);
      case 'send-command':
        return this.deps.sendDataPlane(entry.clusterId, effect.nodeIds, effect.command);
      case 'raise-alert':
        await this.deps.alerts.raise({ clusterId: entry.clusterId, partitionId: effect.partitionId, rule: effect.rule, severity: effect.severity, title: effect.reason });
        return;
      case 'resolve-alert':
        await this.deps.alerts.resolveForPartition(effect.partitionId);
        return;
      case 'request-approval':
        await this.runs.request(entry, 'manual');
        return;
      case 'start-recovery':
        return this.runs.start(entry, effect);
      case 'cancel-recovery':
        entry.cancelled = true;
        return this.runs.abortOpen(effect.partitionId, effect.reason);
      case 'emit': {
        const summary = await this.deps.store.findSummary(effect.partitionId);
        if (summary) this.deps.partitionChanged(summary);
        return;
      }
      default:
        return unhandled(effect);
    }
  }
}
