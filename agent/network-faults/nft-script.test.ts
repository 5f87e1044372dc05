/**
 * Proves the nftables builder turns fault rules and peer addresses into exactly the
 * script expected: one `inet faultline` table replaced in one transaction; peers
 * picked by address in verdict maps whose elements carry the lease as a kernel
 * timeout; only the cluster's ports matched, either end; drops in and out, loss
 * and corruption as `numgen` rolls in ten-thousandths, corruption only on UDP;
 * IPv6 peers in maps of their own; the tag and the expiry in the table's comment;
 * and heal deletes that table alone.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type PeerAddress, buildNftScript, nftHealScript } from './nft-script';

const peers = new Map<string, PeerAddress>([
  ['n2', { peerId: 'n2', address: '198.51.100.66', family: 'ip' }],
  ['n3', { peerId: 'n3', address: '198.51.100.67', family: 'ip' }],
]);
const ports = [{ protocol: 'udp' as const, port: 7946 }, { protocol: 'tcp' as const, port: 6379 }, { protocol: 'udp' as const, port: 7946 }];
const lease = { ttlMs: 60_000, tag: 'exp-7', expiresAtMs: Date.UTC(2026, 11, 3, 17, 0, 0) };

describe('buildNftScript', () => {
  it('writes drops both ways, loss and corruption as the exact script', () => {
    const script = buildNftScript({
      rules: [
        { peerId: 'n3', dropOutbound: false, dropInbound: false, lossRatio: 0.25, corruptRatio: 0.1 },
        { peerId: 'n2', dropOutbound: true, dropInbound: true },
      ],
      peers,
      ports,
      ...lease,
    });
    assert.equal(script, [
      'table inet faultline',
      'delete table inet faultline',
      'table inet faultline {',
      '\tcomment "faultline tag=exp-7 expires=2026-12-03T17:00:00.000Z"',
      '\tset ports {',
      '\t\ttype inet_proto . inet_service',
      '\t\telements = { tcp . 6379, udp . 7946 }',
      '\t}',
      '\tchain out_0 {',
      '\t\tcounter drop comment "faultline peer=n2 drop-outbound"',
      '\t}',
      '\tchain in_0 {',
      '\t\tcounter drop comment "faultline peer=n2 drop-inbound"',
      '\t}',
      '\tchain out_1 {',
      '\t\tnumgen random mod 10000 < 2500 counter drop comment "faultline peer=n3 loss=0.25"',
      '\t\tmeta l4proto udp numgen random mod 10000 < 1000 @th,72,8 set @th,72,8 ^ 0xff counter comment "faultline peer=n3 corrupt=0.1"',
      '\t}',
      '\tmap out4 {',
      '\t\ttype ipv4_addr : verdict',
      '\t\tflags timeout',
      '\t\telements = { 198.51.100.66 timeout 60000ms : goto out_0, 198.51.100.67 timeout 60000ms : goto out_1 }',
      '\t}',
      '\tmap in4 {',
      '\t\ttype ipv4_addr : verdict',
      '\t\tflags timeout',
      '\t\telements = { 198.51.100.66 timeout 60000ms : goto in_0 }',
      '\t}',
      '\tchain output {',
      '\t\ttype filter hook output priority -10; policy accept;',
      '\t\tmeta l4proto . th dport @ports ip daddr vmap @out4',
      '\t\tmeta l4proto . th sport @ports ip daddr vmap @out4',
      '\t}',
      '\tchain input {',
      '\t\ttype filter hook input priority -10; policy accept;',
      '\t\tmeta l4proto . th dport @ports ip saddr vmap @in4',
      '\t\tmeta l4proto . th sport @ports ip saddr vmap @in4',
      '\t}',
      '}',
      '',
    ].join('\n'));
  });

  it('a one-way cut drops only inbound from the peer: no outbound chain, no outbound element', () => {
    const script = buildNftScript({ rules: [{ peerId: 'n2', dropOutbound: false, dropInbound: true }], peers, ports, ...lease });
    assert.doesNotMatch(script, /chain out_/);
    assert.match(script, /map out4 \{\n\t\ttype ipv4_addr : verdict\n\t\tflags timeout\n\t\}/);
    assert.match(script, /elements = \{ 198\.51\.100\.66 timeout 60000ms : goto in_0 \}/);
  });

  it('a full loss is a drop and leaves no corruption roll; a ratio too small to roll is left out', () => {
    const total = buildNftScript({ rules: [{ peerId: 'n2', dropOutbound: false, dropInbound: false, lossRatio: 1, corruptRatio: 0.5 }], peers, ports, ...lease });
    assert.match(total, /chain out_0 \{\n\t\tcounter drop comment "faultline peer=n2 loss=1"\n\t\}/);
    const tiny = buildNftScript({ rules: [{ peerId: 'n2', dropOutbound: false, dropInbound: false, lossRatio: 0.00001, corruptRatio: 1 }], peers, ports, ...lease });
    assert.match(tiny, /chain out_0 \{\n\t\tmeta l4proto udp @th,72,8 set @th,72,8 \^ 0xff counter comment "faultline peer=n2 corrupt=1"\n\t\}/);
  });

  it('delay alone is not nftables\' business: no chain, no element', () => {
    const script = buildNftScript({ rules: [{ peerId: 'n2', dropOutbound: false, dropInbound: false, delayMs: 200 }], peers, ports, ...lease });
    assert.doesNotMatch(script, /chain (out|in)_/);
    assert.doesNotMatch(script, /goto/);
  });

  it('IPv6 peers get maps and lookups of their own, IPv4 ones keep theirs', () => {
    const mixed = new Map<string, PeerAddress>([...peers, ['n4', { peerId: 'n4', address: '2001:db8::4', family: 'ip6' }]]);
    const script = buildNftScript({ rules: [{ peerId: 'n4', dropOutbound: true, dropInbound: false }], peers: mixed, ports, ...lease });
    assert.match(script, /map out6 \{\n\t\ttype ipv6_addr : verdict\n\t\tflags timeout\n\t\telements = \{ 2001:db8::4 timeout 60000ms : goto out_0 \}/);
    assert.match(script, /meta l4proto \. th dport @ports ip6 daddr vmap @out6/);
    assert.match(script, /meta l4proto \. th sport @ports ip daddr vmap @out4/);
  });

  it('a rule for a peer without an address is a RangeError, not a rule for nobody', () => {
    assert.throws(() => buildNftScript({ rules: [{ peerId: 'n9', dropOutbound: true, dropInbound: false }], peers, ports, ...lease }), /no address for peer n9/);
  });

  it('heal deletes the faultline table and nothing else, and succeeds when there is none', () => {
    assert.equal(nftHealScript, 'table inet faultline\ndelete table inet faultline\n');
  });
});
