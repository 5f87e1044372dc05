/**
 * Pure: what an agent lets a `set-faults` command touch. The server bounds the
 * blast radius before it sends; the agent checks again on its side and refuses a
 * rule set that names a peer it was not configured with, names a peer twice, or
 * holds more rules than it has peers, so a confused or forged command cannot reach
 * beyond the cluster the agent knows. Also: the cluster's ports, the only ones a
 * kernel rule matches.
 */
import type { FaultRule } from '../../core/protocol';
import type { ClusterPort } from './nft-script';

/** Why the agent refuses `rules`, or null when it takes them. */
export function refusalOf(rules: readonly FaultRule[], knownPeerIds: ReadonlySet<string>): string | null {
  if (rules.length > knownPeerIds.size) return `${rules.length} rules for an agent with ${knownPeerIds.size} peers`;
  const unknown = [...new Set(rules.map((rule) => rule.peerId).filter((peerId) => !knownPeerIds.has(peerId)))];
  if (unknown.length > 0) return `rules for peers this agent does not know: ${unknown.slice(0, 10).join(', ')}`;
  const seen = new Set<string>();
  for (const rule of rules) {
    if (seen.has(rule.peerId)) return `two rules for peer ${rule.peerId}`;
    seen.add(rule.peerId);
  }
  return null;
}

/**
 * The cluster's ports: UDP on the agent's own heartbeat port and on each peer's
 * (heartbeats and replication share that socket), and the extra ones configured
 * (`--fault-ports`, e.g. a store's), without repeats, in a stable order.
 */
export function clusterPorts(listenPort: number, peerPorts: readonly number[], extra: readonly ClusterPort[]): ClusterPort[] {
  const all: ClusterPort[] = [{ protocol: 'udp', port: listenPort }, ...peerPorts.map((port) => ({ protocol: 'udp' as const, port })), ...extra];
  const unique = new Map(all.map((port) => [`${port.protocol}:${port.port}`, port]));
  return [...unique.values()].sort((a, b) => a.protocol.localeCompare(b.protocol) || a.port - b.port);
}

/** Parses `--fault-ports` ("tcp:6379,udp:5000"); throws RangeError naming a bad item. */
export function parseFaultPorts(text: string): ClusterPort[] {
  return text
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean)
    .map((item) => {
      const match = /^(udp|tcp):(\d{1,5})$/.exec(item);
      const port = Number(match?.[2]);
      if (!match || port < 1 || port > 65535) throw new RangeError(`"${item}" is not udp:PORT or tcp:PORT`);
      return { protocol: match[1] as 'udp' | 'tcp', port };
    });
}
