/**
 * Whether a recovery may start now. Every strategy ends by syncing and verifying
 * every replica of the partition (a phased one also unfences its groups one by
 * one), so a recovery started while a link between two of the partition's nodes is
 * still cut unfences a node that cannot be synced and fails. It is refused, with
 * the reason in words, until those links are up and every node reports; the
 * console shows the same reason before the operator clicks.
 */
import type { NodeId } from '../protocol';
import type { Link } from '../reachability';

/** Cut links named in a refusal; the rest are counted. */
export const refusalLinksMax = 4;

/** What is known now about the partition's nodes. */
export interface RecoveryReadinessInput {
  /** Every node of the partition (all sides). */
  nodeIds: readonly NodeId[];
  /** Links of the cluster that are not fully up (down, one-way, unknown). */
  links: readonly Link[];
  /** Nodes whose latest report is older than the staleness bound. */
  staleNodeIds: readonly NodeId[];
}

/** The reason a recovery may not start yet, or null when the links it needs are up. */
export function recoveryStartRefusal(input: RecoveryReadinessInput): string | null {
  const members = new Set(input.nodeIds);
  const cut = input.links.filter((link) => link.state !== 'up' && members.has(link.a) && members.has(link.b));
  if (cut.length > 0) {
    const named = cut.slice(0, refusalLinksMax).map((link) => `${link.a} ✕ ${link.b} (${link.state})`);
    const more = cut.length > refusalLinksMax ? ` and ${cut.length - refusalLinksMax} more` : '';
    return `the network is still split: ${named.join(', ')}${more}. Recovery syncs every replica of the partition, so it starts only once these links are up; heal the network first`;
  }
  const silent = input.staleNodeIds.filter((nodeId) => members.has(nodeId));
  if (silent.length > 0) return `no fresh report from ${silent.join(', ')}: recovery needs every replica of the partition reachable`;
  return null;
}
