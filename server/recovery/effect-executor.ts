/**
 * Carries out one lifecycle effect: an exhaustive switch over core's
 * `LifecycleEffect`, so a new effect kind does not compile until it is handled
 * here. Persists go to the lifecycle store, commands to agents, alerts to the
 * alerts service (under the rule the effect names), recovery to `RecoveryRuns`.
 * What one step raises is one change of the partition's incident (`carryOutAll`),
 * so the webhook hears of an emergency and its threshold breach once, not twice.
 */
import type { AlertRule, LifecycleEffect } from '../../core/lifecycle/partition-lifecycle';
import type { IncidentEntryInput } from '../alerts-service';
import type { Entry, OrchestratorDeps } from './orchestrator-types';
import type { RecoveryRuns } from './recovery-runs';

type RaiseEffect = Extract<LifecycleEffect, { kind: 'raise-alert' }>;

/** Entries that ask for a decision link to the recovery page. */
const recoveryRules: ReadonlySet<AlertRule> = new Set(['emergency-mode', 'reconciliation-escalated', 'recovery-rejected']);

const entryOf = (effect: RaiseEffect): IncidentEntryInput => ({ rule: effect.rule, severity: effect.severity, title: effect.reason, link: recoveryRules.has(effect.rule) ? '/recovery' : null });

function unhandled(effect: never): never {
  throw new Error(`unhandled lifecycle effect ${JSON.stringify(effect)}`);
}

export class EffectExecutor {
  constructor(
    private readonly deps: Pick<OrchestratorDeps, 'store' | 'alerts' | 'sendDataPlane' | 'partitionChanged'>,
    private readonly runs: Pick<RecoveryRuns, 'request' | 'start' | 'abortOpen'>,
  ) {}

  /** Carries out a step's effects in order; its raised alerts go to the partition's incident together, where the first was. */
  async carryOutAll(entry: Entry, effects: readonly LifecycleEffect[]): Promise<void> {
    const raised = effects.filter((effect): effect is RaiseEffect => effect.kind === 'raise-alert');
    for (const effect of effects) {
      if (effect.kind !== 'raise-alert') await this.carryOut(entry, effect);
      else if (effect === raised[0]) await this.deps.alerts.raiseForPartition(entry.clusterId, effect.partitionId, raised.map(entryOf));
    }
  }

  async carryOut(entry: Entry, effect: LifecycleEffect): Promise<void> {
    switch (effect.kind) {
      case 'persist-transition':
        return this.deps.store.appendTransition(effect.transition);
      case 'persist-decision':
        return this.deps.store.appendDecision(effect.decision);
      case 'send-command':
        return this.deps.sendDataPlane(entry.clusterId, effect.nodeIds, effect.command);
      case 'raise-alert':
        await this.deps.alerts.raiseForPartition(entry.clusterId, effect.partitionId, [entryOf(effect)]);
        return;
      case 'resolve-alert':
        await this.deps.alerts.resolveForPartition(effect.partitionId);
        return;
      case 'request-approval': {
        const run = await this.runs.request(entry, 'manual');
        const title = `manual recovery waits for an operator's approval (${effect.reason})`;
        await this.deps.alerts.raiseForPartition(entry.clusterId, effect.partitionId, [{ rule: 'recovery-pending', severity: 'warning', title, link: `/recovery?run=${encodeURIComponent(run.id)}` }]);
        return;
      }
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
