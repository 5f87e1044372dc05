/**
 * Choosing how a healed partition recovers, as the brief says: critical → manual
 * (an operator approves), partial → automatic, otherwise phased. An operator's
 * override wins and is recorded as such.
 */
import type { PartitionType } from '../classify-partition';
import type { EmergencyReason, RecoveryStrategy } from './cluster-policy';

/** A chosen strategy and where the choice came from. */
export interface StrategyChoice {
  /** The strategy. */
  strategy: RecoveryStrategy;
  /** `policy` when selected by the rule, `operator` when overridden. */
  source: 'policy' | 'operator';
  /** One sentence explaining the choice, shown to operators. */
  reason: string;
}

/** An operator's override of the selected strategy. */
export interface StrategyOverride {
  /** The strategy the operator wants. */
  strategy: RecoveryStrategy;
  /** Who overrode. */
  actor: string;
  /** Why, in the operator's words. */
  reason: string;
}

/** Applies the brief's rule, or the override when there is one. */
export function selectRecoveryStrategy(
  partition: { type: PartitionType; emergencyReasons: readonly EmergencyReason[] },
  override: StrategyOverride | null = null,
): StrategyChoice {
  if (override !== null) {
    return { strategy: override.strategy, source: 'operator', reason: `overridden by ${override.actor}: ${override.reason}` };
  }
  if (partition.emergencyReasons.length > 0) {
    return { strategy: 'manual', source: 'policy', reason: `critical partition (${partition.emergencyReasons.join(', ')})` };
  }
  if (partition.type === 'partial' || partition.type === 'asymmetric') {
    return { strategy: 'automatic', source: 'policy', reason: `${partition.type} partition` };
  }
  return { strategy: 'phased', source: 'policy', reason: `${partition.type} partition` };
}
