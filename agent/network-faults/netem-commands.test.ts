/**
 * Proves the netem builder: delays of rules → the exact `tc` argument lists, per
 * egress device (a `prio` root with Faultline's handle, the kernel's priomap for
 * every other packet, one netem band per distinct delay, u32 filters for the
 * delayed peers' cluster ports at either end); heal removes only Faultline's root;
 * a root qdisc is read as Faultline's, a kernel default, or someone else's.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildNetemCommands, netemHealCommands, netemProfilesMax, planNetem, rootQdiscOwner } from './netem-commands';
import type { PeerAddress } from './nft-script';

const peers = new Map<string, PeerAddress>([
  ['n2', { peerId: 'n2', address: '198.51.100.66', family: 'ip' }],
  ['n3', { peerId: 'n3', address: '198.51.100.67', family: 'ip' }],
  ['n4', { peerId: 'n4', address: '2001:db8::4', family: 'ip6' }],
]);
const devices = new Map([['n2', 'eth0'], ['n3', 'eth0'], ['n4', 'eth1']]);
const ports = [{ protocol: 'udp' as const, port: 7946 }];

describe('netem commands', () => {
  it('plans delays per device and leaves out rules without one', () => {
    const plans = planNetem([
      { peerId: 'n2', dropOutbound: false, dropInbound: false, delayMs: 100, jitterMs: 20 },
      { peerId: 'n3', dropOutbound: true, dropInbound: false },
      { peerId: 'n4', dropOutbound: false, dropInbound: false, delayMs: 50 },
    ], peers, devices, ports);
    assert.deepEqual(plans.map((plan) => [plan.device, plan.peers.map((entry) => [entry.peer.peerId, entry.delayMs, entry.jitterMs])]), [
      ['eth0', [['n2', 100, 20]]],
      ['eth1', [['n4', 50, 0]]],
    ]);
  });

  it('writes the prio root, one netem band per distinct delay and the filters of each peer', () => {
    const [plan] = planNetem([
      { peerId: 'n2', dropOutbound: false, dropInbound: false, delayMs: 100, jitterMs: 20 },
      { peerId: 'n3', dropOutbound: false, dropInbound: false, delayMs: 100, jitterMs: 20 },
    ], peers, devices, ports);
    const priomap = ['1', '2', '2', '2', '1', '2', '0', '0', '1', '1', '1', '1', '1', '1', '1', '1'];
    const filter = (address: string, end: string) => [
      'filter', 'add', 'dev', 'eth0', 'parent', 'fa17:', 'protocol', 'ip', 'prio', '1', 'u32',
      'match', 'ip', 'dst', `${address}/32`, 'match', 'ip', 'protocol', '17', '0xff', 'match', 'ip', end, '7946', '0xffff', 'flowid', 'fa17:4',
    ];
    assert.deepEqual(buildNetemCommands(plan!), [
      ['qdisc', 'add', 'dev', 'eth0', 'root', 'handle', 'fa17:', 'prio', 'bands', '4', 'priomap', ...priomap],
      ['qdisc', 'add', 'dev', 'eth0', 'parent', 'fa17:4', 'handle', 'fa20:', 'netem', 'delay', '100ms', '20ms', 'distribution', 'normal'],
      filter('198.51.100.66', 'dport'),
      filter('198.51.100.66', 'sport'),
      filter('198.51.100.67', 'dport'),
      filter('198.51.100.67', 'sport'),
    ]);
  });

  it('matches IPv6 peers with ip6 selectors', () => {
    const [plan] = planNetem([{ peerId: 'n4', dropOutbound: false, dropInbound: false, delayMs: 50 }], peers, devices, ports);
    const commands = buildNetemCommands(plan!);
    assert.deepEqual(commands[1], ['qdisc', 'add', 'dev', 'eth1', 'parent', 'fa17:4', 'handle', 'fa20:', 'netem', 'delay', '50ms']);
    assert.deepEqual(commands[2]!.slice(6, 8), ['protocol', 'ipv6']);
    assert.deepEqual(commands[2]!.slice(11, 15), ['match', 'ip6', 'dst', '2001:db8::4/128']);
  });

  it('refuses more distinct delays than a prio qdisc has bands for', () => {
    const many = new Map([...Array(netemProfilesMax + 1).keys()].map((index) => [`p${index}`, { peerId: `p${index}`, address: `198.51.100.${70 + index}`, family: 'ip' as const }]));
    const rules = [...many.keys()].map((peerId, index) => ({ peerId, dropOutbound: false, dropInbound: false, delayMs: 10 + index }));
    const [plan] = planNetem(rules, many, new Map([...many.keys()].map((peerId) => [peerId, 'eth0'])), ports);
    assert.throws(() => buildNetemCommands(plan!), /more than 13 distinct delays/);
  });

  it('heals by deleting only the root with Faultline\'s handle', () => {
    assert.deepEqual(netemHealCommands('eth0'), [['qdisc', 'del', 'dev', 'eth0', 'root', 'handle', 'fa17:']]);
  });

  it('tells Faultline\'s root from a kernel default and from someone else\'s', () => {
    assert.equal(rootQdiscOwner('qdisc prio fa17: root refcnt 2 bands 4 priomap 1 2 2 2 1 2 0 0 1 1 1 1 1 1 1 1\n'), 'faultline');
    assert.equal(rootQdiscOwner('qdisc noqueue 0: root refcnt 2\n'), 'default');
    assert.equal(rootQdiscOwner('qdisc fq_codel 0: root refcnt 2 limit 10240p flows 1024\n'), 'default');
    assert.equal(rootQdiscOwner(''), 'default');
    assert.equal(rootQdiscOwner('qdisc htb 1: root refcnt 2 r2q 10 default 0x30\n'), 'foreign');
  });
});
