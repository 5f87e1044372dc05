/**
 * Proves the fault layer's safety rules in transport mode (the kernel mode is proven
 * on real kernels by test/netns/chaos-kernel-faults.test.ts), with Node's mock
 * timers so no assertion waits on the wall clock:
 * - the status says transport and why, and the rules, tag and expiry held;
 * - a refused rule set (unknown peer) changes nothing that is held;
 * - the lease: rules are healed by the agent itself when `ttlMs` passes, and a
 *   renewal before that moves the deadline;
 * - the dead man's switch: a server gone for `serverLossHealMs` heals; a link back
 *   in time disarms it;
 * - an empty rule set (the abort) heals at once;
 * - in kernel mode the transport keeps only the delays netem did not take.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import { FaultInjectingTransport } from '../transport/fault-injecting-transport';
import { MemoryNetwork, MemoryTransport } from '../transport/transport';
import { FaultLayer, transportShare } from './fault-layer';

const self = { host: '198.51.100.65', port: 7946 };
const peer = { host: '198.51.100.66', port: 7946 };

async function layerWithPeer() {
  const network = new MemoryNetwork();
  const transport = new FaultInjectingTransport(new MemoryTransport(network, self), (id) => (id === 'n2' ? peer : undefined));
  const received: number[] = [];
  new MemoryTransport(network, peer).onMessage(() => received.push(1));
  let nowMs = 1_000_000;
  const logs: string[] = [];
  const layer = await FaultLayer.start({
    mode: 'transport',
    transport,
    peers: [{ id: 'n2', endpoint: peer }],
    listenPort: self.port,
    extraPorts: [],
    defaultTtlMs: 300_000,
    serverLossHealMs: 5000,
    log: (_level, message) => logs.push(message),
    nowMs: () => nowMs,
  });
  /** Sends one datagram to the peer and says whether it arrived. */
  const delivered = async () => {
    const before = received.length;
    transport.send(peer, Uint8Array.from([1, 2, 3]));
    await new Promise((resolve) => setImmediate(resolve));
    return received.length > before;
  };
  const advance = (ms: number) => {
    nowMs += ms;
    mock.timers.tick(ms);
  };
  return { layer, delivered, advance, logs };
}

/** Lets the layer's queued work (a self-heal after a timer) finish. */
const settle = () => new Promise((resolve) => setImmediate(resolve));
const cut = [{ peerId: 'n2', dropOutbound: true, dropInbound: true }];

describe('FaultLayer (transport mode)', () => {
  beforeEach(() => mock.timers.enable({ apis: ['setTimeout'] }));
  afterEach(() => mock.timers.reset());

  it('says transport and why, and what it holds', async () => {
    const { layer, delivered, logs } = await layerWithPeer();
    assert.deepEqual(layer.status(), {
      layer: 'transport', delayLayer: 'transport', reason: "--network-faults transport (the default): faults act in the agent's own transport only",
      rules: 0, expiresAtMs: null, tag: null, lastSelfHeal: null,
    });
    assert.ok(logs.includes('fault injection layer'));
    assert.deepEqual(await layer.apply({ rules: cut, ttlMs: 10_000, tag: 'exp-1' }), { ok: true, data: null });
    assert.equal(await delivered(), false);
    assert.deepEqual({ ...layer.status(), reason: '' }, { layer: 'transport', delayLayer: 'transport', reason: '', rules: 1, expiresAtMs: 1_010_000, tag: 'exp-1', lastSelfHeal: null });
  });

  it('refuses rules for a peer it does not know and keeps what it held', async () => {
    const { layer, delivered } = await layerWithPeer();
    await layer.apply({ rules: cut, ttlMs: 10_000 });
    const refused = await layer.apply({ rules: [{ peerId: 'x9', dropOutbound: true, dropInbound: false }] });
    assert.deepEqual(refused, { ok: false, code: 'invalid_input', message: 'rules for peers this agent does not know: x9' });
    assert.equal(layer.status().rules, 1);
    assert.equal(await delivered(), false);
  });

  it('heals by itself when the lease passes, and a renewal moves the deadline', async () => {
    const { layer, delivered, advance } = await layerWithPeer();
    await layer.apply({ rules: cut, ttlMs: 10_000 });
    advance(9000);
    await layer.apply({ rules: cut, ttlMs: 10_000 });
    advance(9000);
    await settle();
    assert.equal(await delivered(), false, 'renewed at 9 s: still cut at 18 s');
    advance(1000);
    await settle();
    assert.equal(await delivered(), true);
    assert.deepEqual(layer.status().lastSelfHeal, { atMs: 1_019_000, reason: 'deadline' });
    assert.equal(layer.status().rules, 0);
  });

  it('heals when the server has been gone for serverLossHealMs, not when it came back in time', async () => {
    const { layer, delivered, advance } = await layerWithPeer();
    await layer.apply({ rules: cut, ttlMs: 60_000 });
    layer.serverLinkChanged(false);
    advance(4000);
    layer.serverLinkChanged(true);
    advance(4000);
    await settle();
    assert.equal(await delivered(), false, 'back after 4 s: the switch is disarmed');
    layer.serverLinkChanged(false);
    advance(5000);
    await settle();
    assert.equal(await delivered(), true);
    assert.equal(layer.status().lastSelfHeal?.reason, 'server-lost');
  });

  it('an empty rule set heals at once', async () => {
    const { layer, delivered } = await layerWithPeer();
    await layer.apply({ rules: cut, ttlMs: 60_000 });
    assert.deepEqual(await layer.apply({ rules: [] }), { ok: true, data: null });
    assert.equal(await delivered(), true);
    assert.equal(layer.status().rules, 0);
    assert.equal(layer.status().lastSelfHeal, null, 'an abort is not a self-heal');
  });
});

describe('transportShare', () => {
  it('keeps only the delays the kernel did not take, never a drop, loss or corruption', () => {
    const rules = [
      { peerId: 'n2', dropOutbound: true, dropInbound: true, delayMs: 100, jitterMs: 10 },
      { peerId: 'n3', dropOutbound: false, dropInbound: false, lossRatio: 0.5, delayMs: 50 },
      { peerId: 'n4', dropOutbound: false, dropInbound: false, corruptRatio: 0.5 },
    ];
    assert.deepEqual(transportShare(rules, new Set(['n3'])), [{ peerId: 'n2', dropOutbound: false, dropInbound: false, delayMs: 100, jitterMs: 10 }]);
    assert.deepEqual(transportShare(rules, new Set(['n2', 'n3'])), []);
  });
});
