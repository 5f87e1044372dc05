/**
 * Pure: the delays of an agent's fault rules → the `tc` commands that add them to
 * the node's real traffic with netem, on the device that carries each peer's
 * traffic, as Pumba does it: a `prio` root qdisc whose default bands keep every
 * other packet as before, one extra band per distinct delay holding a netem qdisc,
 * and u32 filters that send only the cluster's ports of the delayed peers there.
 * Nothing here runs a command.
 *
 * Ownership: the root qdisc gets Faultline's own handle (`fa17:`), so heal removes
 * only a root that carries it; a device whose root is not a kernel default is left
 * alone (its delay then goes through the agent's transport, and the status says so).
 * netem has no expiry of its own: its deadline is the agent's timer, its dead man's
 * switch and its start-up cleanup (nftables' loss and corruption also expire in the kernel).
 */
import type { FaultRule } from '../../core/protocol';
import type { ClusterPort, PeerAddress } from './nft-script';

/** Handle major of Faultline's root qdisc (hex): how heal knows the root is its own. */
export const netemRootHandle = 'fa17';
/** The `prio` bands a packet that no filter picks uses (the kernel's default priomap over bands 1-3). */
const defaultBands = 3;
/** Most bands a `prio` qdisc has: past the three default ones, this many distinct delays per device. */
export const netemProfilesMax = 16 - defaultBands;
/** The kernel's default priomap (TOS → band), kept so unmatched traffic is queued as without Faultline. */
const priomap = ['1', '2', '2', '2', '1', '2', '0', '0', '1', '1', '1', '1', '1', '1', '1', '1'];
/** Root qdiscs a device has when nobody configured it: only those are replaced. */
export const defaultRootQdiscs = ['noqueue', 'pfifo_fast', 'mq', 'fq_codel', 'pfifo', 'fq'];

/** The peers one device carries, with the delay each gets. */
export interface NetemDevicePlan {
  device: string;
  peers: { peer: PeerAddress; delayMs: number; jitterMs: number }[];
  ports: readonly ClusterPort[];
}

/** Groups the rules with a delay by the device their peer's traffic leaves on. */
export function planNetem(
  rules: readonly FaultRule[],
  peers: ReadonlyMap<string, PeerAddress>,
  deviceOf: ReadonlyMap<string, string>,
  ports: readonly ClusterPort[],
): NetemDevicePlan[] {
  const byDevice = new Map<string, NetemDevicePlan>();
  for (const rule of rules) {
    const peer = peers.get(rule.peerId);
    const device = deviceOf.get(rule.peerId);
    if (!peer || !device || (rule.delayMs ?? 0) <= 0) continue;
    const plan = byDevice.get(device) ?? { device, peers: [], ports };
    plan.peers.push({ peer, delayMs: rule.delayMs!, jitterMs: rule.jitterMs ?? 0 });
    byDevice.set(device, plan);
  }
  return [...byDevice.values()].sort((a, b) => a.device.localeCompare(b.device));
}

const protocolNumber = { udp: '17', tcp: '6' } as const;

/** The u32 filters that send one peer's cluster ports (either end) to `band`. */
function filtersFor(device: string, peer: PeerAddress, ports: readonly ClusterPort[], band: number): string[][] {
  const six = peer.family === 'ip6';
  const base = ['filter', 'add', 'dev', device, 'parent', `${netemRootHandle}:`, 'protocol', six ? 'ipv6' : 'ip', 'prio', '1', 'u32'];
  const destination = six ? ['match', 'ip6', 'dst', `${peer.address}/128`] : ['match', 'ip', 'dst', `${peer.address}/32`];
  return ports.flatMap((port) =>
    (['dport', 'sport'] as const).map((end) => [
      ...base,
      ...destination,
      ...(six ? ['match', 'ip6', 'protocol', protocolNumber[port.protocol], '0xff'] : ['match', 'ip', 'protocol', protocolNumber[port.protocol], '0xff']),
      'match', six ? 'ip6' : 'ip', end, String(port.port), '0xffff',
      'flowid', `${netemRootHandle}:${band}`,
    ]),
  );
}

/**
 * The `tc` argument lists that give `plan.device` exactly these delays (run in order,
 * after `netemHealCommands` when the device held some). Throws RangeError past
 * `netemProfilesMax` distinct delays on one device.
 */
export function buildNetemCommands(plan: NetemDevicePlan): string[][] {
  const profiles = [...new Set(plan.peers.map((entry) => `${entry.delayMs}/${entry.jitterMs}`))].sort();
  if (profiles.length > netemProfilesMax) throw new RangeError(`${plan.device}: more than ${netemProfilesMax} distinct delays`);
  const bands = defaultBands + profiles.length;
  const commands: string[][] = [['qdisc', 'add', 'dev', plan.device, 'root', 'handle', `${netemRootHandle}:`, 'prio', 'bands', String(bands), 'priomap', ...priomap]];
  profiles.forEach((profile, index) => {
    const [delayMs, jitterMs] = profile.split('/').map(Number) as [number, number];
    const band = defaultBands + index + 1;
    commands.push([
      'qdisc', 'add', 'dev', plan.device, 'parent', `${netemRootHandle}:${band}`, 'handle', `${(0xfa20 + index).toString(16)}:`,
      'netem', 'delay', `${delayMs}ms`, ...(jitterMs > 0 ? [`${jitterMs}ms`, 'distribution', 'normal'] : []),
    ]);
  });
  const sortedPeers = [...plan.peers].sort((a, b) => a.peer.peerId.localeCompare(b.peer.peerId));
  for (const entry of sortedPeers) {
    const band = defaultBands + 1 + profiles.indexOf(`${entry.delayMs}/${entry.jitterMs}`);
    commands.push(...filtersFor(plan.device, entry.peer, plan.ports, band));
  }
  return commands;
}

/** Removes Faultline's root qdisc (and with it its bands, netem and filters) from `device`; the kernel puts its default back. */
export const netemHealCommands = (device: string): string[][] => [['qdisc', 'del', 'dev', device, 'root', 'handle', `${netemRootHandle}:`]];

/** What `tc qdisc show dev D root` says about the root: Faultline's own, a kernel default, or someone else's. */
export function rootQdiscOwner(showOutput: string): 'faultline' | 'default' | 'foreign' {
  const match = /^qdisc (\S+) (\S+)/m.exec(showOutput);
  if (!match) return 'default';
  if (match[2] === `${netemRootHandle}:`) return 'faultline';
  return defaultRootQdiscs.includes(match[1]!) && match[2] === '0:' ? 'default' : 'foreign';
}
