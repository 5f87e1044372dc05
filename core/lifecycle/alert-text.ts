/**
 * The words of a partition's alerts, so an operator reads the value against the
 * threshold and only the nodes a cut concerns: a partial partition names its cut
 * links and their ends, not every node of the one component they leave.
 */
import type { EmergencyReason, PartitionFacts } from '../policy/cluster-policy';
import type { MonitoringThresholds, PartitionMetrics, ThresholdBreach } from '../policy/thresholds';

/** Cut links named in one title; the rest are counted. */
export const titleLinksMax = 4;

const percent = (ratio: number) => `${(ratio * 100).toFixed(1)} %`;
const thresholdPercent = (ratio: number) => `${Number((ratio * 100).toFixed(1))} %`;
const seconds = (ms: number) => `${Math.round(ms / 1000)} s`;

/** One partition in a line: complete ones by their sides, partial ones by their cut links and the nodes at their ends. */
export function describePartition(facts: PartitionFacts): string {
  const majority = facts.majorityIndex === null ? 'no majority' : `majority side ${facts.majorityIndex + 1}`;
  const links = facts.cutLinks ?? [];
  if (facts.sides.length > 1 || links.length === 0) {
    const sides = facts.sides.map((side) => `[${side.join(', ')}]`).join(' | ');
    return `${facts.type} partition ${sides}, ${majority}`;
  }
  const named = links.slice(0, titleLinksMax).map((link) => `${link.a} ✕ ${link.b}`);
  const more = links.length > titleLinksMax ? ` and ${links.length - titleLinksMax} more` : '';
  const concerned = [...new Set(links.flatMap((link) => [link.a, link.b]))].sort();
  return `${facts.type} partition: ${named.join(', ')}${more} cut (nodes ${concerned.join(', ')}; every node still reaches a majority)`;
}

/** A threshold breach with its value against its limit. */
export function describeBreach(breach: ThresholdBreach, metrics: PartitionMetrics, thresholds: MonitoringThresholds): string {
  switch (breach) {
    case 'partition-duration':
      return `partition open ${seconds(metrics.durationMs)}, over the ${seconds(thresholds.partitionDurationMaxMs)} threshold`;
    case 'recovery-time':
      return `recovery running ${seconds(metrics.recoveryTimeMs ?? 0)}, over the ${seconds(thresholds.recoveryTimeMaxMs)} threshold`;
    case 'data-divergence':
      return `data divergence ${percent(metrics.divergenceRatio ?? 0)} of keys, over the ${thresholdPercent(thresholds.divergenceRatioMax)} threshold`;
  }
}

/** Why a partition is an emergency, with the divergence against its limit when that is a reason. */
export function describeEmergency(reasons: readonly EmergencyReason[], facts: PartitionFacts | null, thresholds: MonitoringThresholds): string {
  const words = reasons.map((reason) =>
    reason === 'divergence-exceeded' && facts?.divergenceRatio != null ? `divergence-exceeded (${percent(facts.divergenceRatio)} > ${thresholdPercent(thresholds.divergenceRatioMax)})` : reason,
  );
  return `emergency: ${words.join(', ')}`;
}
