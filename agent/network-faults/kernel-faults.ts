/**
 * The kernel layer of fault injection: runs the scripts of nft-script.ts (drops,
 * loss, corruption) and the commands of netem-commands.ts (delay) in the agent's
 * own network namespace. The probe says whether this process may and can; the
 * start-up cleanup removes what a killed earlier run left.
 */
import { execFile } from 'node:child_process';
import type { FaultRule } from '../../core/protocol';
import { type NetemDevicePlan, buildNetemCommands, netemHealCommands, planNetem, rootQdiscOwner } from './netem-commands';
import { type ClusterPort, type PeerAddress, buildNftScript, nftHealScript, nftTableName } from './nft-script';

/** Longest one nft, tc or ip call may take (ms). */
export const kernelCommandTimeoutMs = 5000;

/** The outcome of one command: whether it exited 0, and what it wrote. */
export interface CommandResult {
  ok: boolean;
  stdout: string;
  stderr: string;
}

/** Runs a command with optional standard input; never throws. */
export type CommandRunner = (command: string, args: readonly string[], input?: string) => Promise<CommandResult>;

/** The real runner: execFile with a timeout. */
export const runCommand: CommandRunner = (command, args, input) =>
  new Promise((resolve) => {
    const child = execFile(command, [...args], { timeout: kernelCommandTimeoutMs, maxBuffer: 4 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ ok: !error, stdout: String(stdout), stderr: String(stderr || (error?.message ?? '')) });
    });
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(input ?? '');
  });

const firstLine = (text: string) => text.trim().split('\n')[0]?.slice(0, 160) ?? '';

/** What the probe found: nftables usable (and the reason when not), netem present. */
export interface KernelProbe {
  usable: boolean;
  netem: boolean;
  reason: string;
}

/** Whether the kernel has netem: tried on a device of the probe's own (dummy, or a veth pair where there is no dummy), removed at once. */
async function probeNetem(run: CommandRunner): Promise<{ netem: boolean; why: string }> {
  const device = `flnetem${process.pid % 100_000}`;
  let created = await run('ip', ['link', 'add', device, 'type', 'dummy']);
  if (!created.ok) created = await run('ip', ['link', 'add', device, 'type', 'veth', 'peer', 'name', `${device}p`]);
  if (!created.ok) return { netem: false, why: `netem not tried (no probe device: ${firstLine(created.stderr)}): delay in the transport` };
  try {
    const netem = await run('tc', ['qdisc', 'add', 'dev', device, 'root', 'netem', 'delay', '1ms']);
    return netem.ok ? { netem: true, why: 'netem for delay' } : { netem: false, why: `no netem in this kernel (${firstLine(netem.stderr)}): delay in the transport` };
  } finally {
    await run('ip', ['link', 'del', device]);
  }
}

/**
 * Whether this process can inject faults in the kernel: nft installed and allowed
 * (CAP_NET_ADMIN in its network namespace), and whether netem exists. Changes
 * nothing but a dummy device it removes again.
 */
export async function probeKernelFaults(run: CommandRunner = runCommand): Promise<KernelProbe> {
  const listed = await run('nft', ['list', 'tables']);
  if (!listed.ok) {
    const missing = /ENOENT|not found/i.test(listed.stderr);
    const reason = missing ? 'nft is not installed (apt-get install nftables)' : `nft refused (${firstLine(listed.stderr)}): needs root or CAP_NET_ADMIN`;
    return { usable: false, netem: false, reason };
  }
  const { netem, why } = await probeNetem(run);
  return { usable: true, netem, reason: `nftables table inet ${nftTableName} for drops, loss and corruption; ${why}` };
}

/** The egress device of each peer (`ip route get`), for netem; peers without one are left out. */
export async function devicesOf(peers: ReadonlyMap<string, PeerAddress>, run: CommandRunner = runCommand): Promise<Map<string, string>> {
  const devices = new Map<string, string>();
  for (const [peerId, peer] of peers) {
    const route = await run('ip', ['-o', peer.family === 'ip6' ? '-6' : '-4', 'route', 'get', peer.address]);
    const device = /\bdev (\S+)/.exec(route.stdout)?.[1];
    if (route.ok && device) devices.set(peerId, device);
  }
  return devices;
}

/** Applies and heals Faultline's kernel rules; one instance per agent, calls serialised by its caller. */
export class KernelFaults {
  /** The netem plan each device holds now, as applied (JSON), so an unchanged renewal is not re-applied. */
  private readonly netemHeld = new Map<string, string>();

  constructor(
    private readonly peers: ReadonlyMap<string, PeerAddress>,
    private readonly ports: readonly ClusterPort[],
    /** Peer → egress device, or null when the kernel has no netem (delay stays in the transport). */
    private readonly netemDevices: ReadonlyMap<string, string> | null,
    private readonly run: CommandRunner = runCommand,
  ) {}

  /**
   * Makes the kernel hold exactly `rules` with a lease of `ttlMs`; resolves the peers
   * whose delay netem took (the caller gives the transport the others'). Throws with
   * nft's or tc's message when a command fails.
   */
  async apply(rules: readonly FaultRule[], lease: { ttlMs: number; tag: string | null; expiresAtMs: number }): Promise<Set<string>> {
    const script = buildNftScript({ rules, peers: this.peers, ports: this.ports, ...lease });
    const applied = await this.run('nft', ['-f', '-'], script);
    if (!applied.ok) throw new Error(`nft: ${firstLine(applied.stderr)}`);
    return this.applyNetem(rules);
  }

  /** Removes every Faultline rule (nft table, own root qdiscs); touches nothing else. Resolves whether there was anything. */
  async heal(): Promise<boolean> {
    const existed = (await this.run('nft', ['list', 'table', 'inet', nftTableName])).ok;
    const removed = await this.run('nft', ['-f', '-'], nftHealScript);
    if (!removed.ok) throw new Error(`nft: ${firstLine(removed.stderr)}`);
    let qdiscs = false;
    for (const device of await this.devicesWithOurRoot()) {
      for (const args of netemHealCommands(device)) await this.run('tc', args);
      qdiscs = true;
    }
    this.netemHeld.clear();
    return existed || qdiscs;
  }

  /** Devices whose root qdisc is Faultline's (every device of the namespace is looked at: a killed run may have used any). */
  private async devicesWithOurRoot(): Promise<string[]> {
    if (this.netemDevices === null) return [];
    const links = await this.run('ip', ['-o', 'link', 'show']);
    const devices = [...links.stdout.matchAll(/^\d+: ([^:@\s]+)/gm)].map((match) => match[1]!);
    const ours: string[] = [];
    for (const device of devices) {
      const shown = await this.run('tc', ['qdisc', 'show', 'dev', device, 'root']);
      if (shown.ok && rootQdiscOwner(shown.stdout) === 'faultline') ours.push(device);
    }
    return ours;
  }

  private async applyNetem(rules: readonly FaultRule[]): Promise<Set<string>> {
    const inKernel = new Set<string>();
    if (this.netemDevices === null) return inKernel;
    const plans = new Map(planNetem(rules, this.peers, this.netemDevices, this.ports).map((plan) => [plan.device, plan]));
    for (const device of new Set([...this.netemHeld.keys(), ...plans.keys()])) {
      const plan = plans.get(device);
      if (await this.applyDevice(device, plan)) plan?.peers.forEach((entry) => inKernel.add(entry.peer.peerId));
    }
    return inKernel;
  }

  /** Gives one device its plan (or none); false when the device's root belongs to someone else, so netem was not used there. */
  private async applyDevice(device: string, plan: NetemDevicePlan | undefined): Promise<boolean> {
    const wanted = plan ? JSON.stringify(plan) : null;
    if (wanted !== null && this.netemHeld.get(device) === wanted) return true;
    const owner = rootQdiscOwner((await this.run('tc', ['qdisc', 'show', 'dev', device, 'root'])).stdout);
    if (owner === 'foreign') return false;
    if (owner === 'faultline') for (const args of netemHealCommands(device)) await this.run('tc', args);
    this.netemHeld.delete(device);
    if (!plan) return true;
    for (const args of buildNetemCommands(plan)) {
      const result = await this.run('tc', args);
      if (!result.ok) throw new Error(`tc ${args.slice(0, 3).join(' ')}: ${firstLine(result.stderr)}`);
    }
    this.netemHeld.set(device, wanted!);
    return true;
  }
}
