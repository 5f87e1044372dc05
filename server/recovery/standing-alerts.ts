/**
 * The alerts a saved partition lifecycle says were raised, for a leader that
 * takes over (instance-sync.ts): the lifecycle's state is saved before its effects
 * are carried out, so an old leader killed in between leaves a state whose alerts
 * never reached the alerts service. The rules mirror core/lifecycle's raise-alert
 * effects that leave a trace in the state: detection, emergency mode and the
 * threshold breaches (`alertedBreaches`).
 */
import type { PartitionLifecycleState } from '../../core/lifecycle/partition-lifecycle';

/** One alert to make sure of. */
export interface StandingAlert {
  rule: string;
  severity: 'warning' | 'critical';
  title: string;
}

export function standingAlerts(state: PartitionLifecycleState): StandingAlert[] {
  if (state.closedAtMs !== null) return [];
  const alerts: StandingAlert[] = [];
  if (state.detectedAtMs !== null) alerts.push({ rule: 'partition-detected', severity: 'warning', title: `partition detected (${state.facts?.type ?? 'partial'})` });
  if (state.path.includes('EmergencyMode')) alerts.push({ rule: 'emergency-mode', severity: 'critical', title: 'emergency mode' });
  for (const breach of state.alertedBreaches) alerts.push({ rule: breach, severity: 'warning', title: `threshold: ${breach}` });
  return alerts;
}
