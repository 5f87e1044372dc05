/**
 * Pure: an agent's fault rules and its peers' addresses → the nftables script that
 * injects them into the node's real traffic (`nft -f -`), and the script that
 * removes them. Nothing here runs a command.
 *
 * Safety by construction:
 * - everything lives in one table, `inet faultline`, that nothing else uses: heal
 *   deletes that table and so can only ever remove Faultline's own rules;
 * - every apply replaces the whole table in one nftables transaction (add, delete,
 *   create), so a change never leaves a window with half the rules;
 * - traffic is picked by peer address in verdict maps whose elements carry a
 *   `timeout`: the kernel forgets them when the lease runs out, so the faults stop
 *   even if the agent was killed (only an inert, empty table is left, which the next
 *   agent start removes);
 * - only the cluster's ports are touched (the `ports` set: the peers' heartbeat
 *   ports, the agent's own, and `--fault-ports`): other hosts, and other ports of a
 *   peer (SSH, the control server), are never matched.
 *
 * Every statement counts what it hit (`counter`), so `nft list table inet faultline`
 * shows how many packets the kernel dropped or corrupted for each peer.
 *
 * A packet is looked up once per direction: the base chain `goto`s the peer's
 * chain, whose return ends the evaluation at the base chain's policy (accept), so a
 * datagram whose source and destination ports are both cluster ports is never rolled
 * for loss twice.
 */
import type { FaultRule } from '../../core/protocol';

/** The nftables table that holds every Faultline rule, and only those. */
export const nftTableName = 'faultline';
/** Hook priority of the table's chains: ahead of the usual filter chains (0), so the fault is seen first. */
export const nftChainPriority = -10;
/** Loss and corruption ratios are rolled in steps of 1/`ratioSteps` (`numgen random mod 10000`). */
export const ratioSteps = 10_000;
/**
 * Which byte a corrupted datagram gets flipped (all 8 bits), in bits from the start
 * of the UDP header: byte 1 of the payload, the first byte of a Faultline datagram's
 * HMAC (so the receiver sees a bad signature); for another UDP protocol, a payload byte.
 */
export const corruptBitOffset = 72;

/** A peer as the kernel sees it: an IP literal. */
export interface PeerAddress {
  peerId: string;
  address: string;
  family: 'ip' | 'ip6';
}

/** A port of the cluster's traffic (heartbeats, replication, a store's port). */
export interface ClusterPort {
  protocol: 'udp' | 'tcp';
  port: number;
}

/** Everything one apply needs. */
export interface NftPlan {
  rules: readonly FaultRule[];
  /** Peer id → its address; every rule's peer must be here. */
  peers: ReadonlyMap<string, PeerAddress>;
  ports: readonly ClusterPort[];
  /** Lease (ms): the kernel forgets the peers' map elements after it. */
  ttlMs: number;
  /** Written into the table's comment, with the expiry, for whoever lists the ruleset. */
  tag: string | null;
  /** When the lease ends (ms since epoch), for the comment. */
  expiresAtMs: number;
}

const steps = (ratio: number | undefined) => Math.min(ratioSteps, Math.max(0, Math.round((ratio ?? 0) * ratioSteps)));

/** The statements of the chain a peer's outbound packets go to, or none when nothing acts outbound. */
function outboundStatements(rule: FaultRule): string[] {
  const who = `faultline peer=${rule.peerId}`;
  if (rule.dropOutbound) return [`counter drop comment "${who} drop-outbound"`];
  const statements: string[] = [];
  const loss = steps(rule.lossRatio);
  if (loss >= ratioSteps) statements.push(`counter drop comment "${who} loss=1"`);
  else if (loss > 0) statements.push(`numgen random mod ${ratioSteps} < ${loss} counter drop comment "${who} loss=${rule.lossRatio}"`);
  const corrupt = steps(rule.corruptRatio);
  const flip = `@th,${corruptBitOffset},8 set @th,${corruptBitOffset},8 ^ 0xff`;
  if (loss < ratioSteps && corrupt >= ratioSteps) statements.push(`meta l4proto udp ${flip} counter comment "${who} corrupt=1"`);
  else if (loss < ratioSteps && corrupt > 0) {
    statements.push(`meta l4proto udp numgen random mod ${ratioSteps} < ${corrupt} ${flip} counter comment "${who} corrupt=${rule.corruptRatio}"`);
  }
  return statements;
}

const quote = (text: string) => `"${text.replace(/["\\]/g, '')}"`;

/** One verdict map of peer addresses (with their lease) → the peer's chain; no `elements` line when empty. */
function verdictMap(name: string, family: 'ip' | 'ip6', elements: string[]): string[] {
  return [
    `\tmap ${name} {`,
    `\t\ttype ${family === 'ip' ? 'ipv4_addr' : 'ipv6_addr'} : verdict`,
    '\t\tflags timeout',
    ...(elements.length > 0 ? [`\t\telements = { ${elements.join(', ')} }`] : []),
    '\t}',
  ];
}

/**
 * The script that makes the table hold exactly `plan` (an empty plan still leaves the
 * table, empty: use `nftHealScript` to remove it). Throws RangeError for a rule whose
 * peer has no address (the caller refuses such rules first).
 */
export function buildNftScript(plan: NftPlan): string {
  const ports = [...new Map(plan.ports.map((port) => [`${port.protocol} . ${port.port}`, port])).keys()].sort();
  const chains: string[] = [];
  const elements = { out: { ip: [] as string[], ip6: [] as string[] }, in: { ip: [] as string[], ip6: [] as string[] } };
  const rules = [...plan.rules].sort((a, b) => a.peerId.localeCompare(b.peerId));
  rules.forEach((rule, index) => {
    const peer = plan.peers.get(rule.peerId);
    if (!peer) throw new RangeError(`no address for peer ${rule.peerId}`);
    const outbound = outboundStatements(rule);
    if (outbound.length > 0) {
      chains.push(`\tchain out_${index} {`, ...outbound.map((statement) => `\t\t${statement}`), '\t}');
      elements.out[peer.family].push(`${peer.address} timeout ${plan.ttlMs}ms : goto out_${index}`);
    }
    if (rule.dropInbound) {
      chains.push(`\tchain in_${index} {`, `\t\tcounter drop comment "faultline peer=${rule.peerId} drop-inbound"`, '\t}');
      elements.in[peer.family].push(`${peer.address} timeout ${plan.ttlMs}ms : goto in_${index}`);
    }
  });
  const present = (['ip', 'ip6'] as const).filter((family) => [...plan.peers.values()].some((peer) => peer.family === family));
  const families = present.length > 0 ? present : (['ip'] as const);
  const suffix = (family: 'ip' | 'ip6') => (family === 'ip' ? '4' : '6');
  const lookups = (addressField: 'daddr' | 'saddr', map: 'out' | 'in') =>
    families.flatMap((family) => ['dport', 'sport'].map((port) => `\t\tmeta l4proto . th ${port} @ports ${family} ${addressField} vmap @${map}${suffix(family)}`));
  const comment = `faultline tag=${plan.tag ?? 'none'} expires=${new Date(plan.expiresAtMs).toISOString()}`;
  return [
    `table inet ${nftTableName}`,
    `delete table inet ${nftTableName}`,
    `table inet ${nftTableName} {`,
    `\tcomment ${quote(comment)}`,
    '\tset ports {',
    '\t\ttype inet_proto . inet_service',
    ...(ports.length > 0 ? [`\t\telements = { ${ports.join(', ')} }`] : []),
    '\t}',
    ...chains,
    ...families.flatMap((family) => [...verdictMap(`out${suffix(family)}`, family, elements.out[family]), ...verdictMap(`in${suffix(family)}`, family, elements.in[family])]),
    '\tchain output {',
    `\t\ttype filter hook output priority ${nftChainPriority}; policy accept;`,
    ...lookups('daddr', 'out'),
    '\t}',
    '\tchain input {',
    `\t\ttype filter hook input priority ${nftChainPriority}; policy accept;`,
    ...lookups('saddr', 'in'),
    '\t}',
    '}',
    '',
  ].join('\n');
}

/** Removes the table and everything in it; does nothing (and succeeds) when there is none. Touches no other table. */
export const nftHealScript = `table inet ${nftTableName}\ndelete table inet ${nftTableName}\n`;
