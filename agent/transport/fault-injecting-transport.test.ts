/**
 * Proves the fault-injecting transport's rules over the in-memory twin: drop rules
 * cut one direction or both; a loss ratio loses that fraction of datagrams sent to
 * the peer (exactly, for a seeded random source); a corrupt ratio flips exactly one
 * byte of each affected datagram; a delay holds each datagram that long (± its
 * jitter); clearing the rules restores clean delivery.
 */
import assert from 'node:assert/strict';
import { describe, it, mock } from 'node:test';
import { FaultInjectingTransport } from './fault-injecting-transport';
import { MemoryNetwork, MemoryTransport } from './transport';

/** A small deterministic random source (LCG), so counts are exact. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

async function pair(random: () => number) {
  const network = new MemoryNetwork();
  const a = { host: '127.0.0.1', port: 1 };
  const b = { host: '127.0.0.1', port: 2 };
  const sender = new FaultInjectingTransport(new MemoryTransport(network, a), (peer) => (peer === 'b' ? b : undefined), random);
  const receiver = new MemoryTransport(network, b);
  const received: Uint8Array[] = [];
  receiver.onMessage((bytes) => received.push(bytes));
  const sendMany = async (count: number) => {
    for (let i = 0; i < count; i += 1) sender.send(b, Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]));
    await new Promise((resolve) => setImmediate(resolve));
  };
  return { sender, received, sendMany };
}

describe('FaultInjectingTransport', () => {
  it('a drop rule stops datagrams to the peer, and clearing it restores them', async () => {
    const { sender, received, sendMany } = await pair(seeded(1));
    sender.setRules([{ peerId: 'b', dropOutbound: true, dropInbound: false }]);
    await sendMany(10);
    assert.equal(received.length, 0);
    assert.equal(sender.droppedCount, 10);
    sender.setRules([]);
    await sendMany(10);
    assert.equal(received.length, 10);
  });

  it('a loss ratio loses that fraction of datagrams', async () => {
    const random = seeded(42);
    const expected = (() => {
      const copy = seeded(42);
      let delivered = 0;
      for (let i = 0; i < 2000; i += 1) if (!(copy() < 0.3)) delivered += 1;
      return delivered;
    })();
    const { sender, received, sendMany } = await pair(random);
    sender.setRules([{ peerId: 'b', dropOutbound: false, dropInbound: false, lossRatio: 0.3 }]);
    await sendMany(2000);
    assert.equal(received.length, expected);
    assert.ok(received.length > 1300 && received.length < 1500, `about 70 % delivered, got ${received.length}`);
  });

  it('a corrupt ratio of 1 flips exactly one byte of every datagram', async () => {
    const { sender, received, sendMany } = await pair(seeded(7));
    sender.setRules([{ peerId: 'b', dropOutbound: false, dropInbound: false, corruptRatio: 1 }]);
    await sendMany(50);
    assert.equal(received.length, 50);
    for (const bytes of received) {
      const differing = [...bytes].filter((value, index) => value !== index + 1).length;
      assert.equal(differing, 1);
    }
    assert.equal(sender.corruptedCount, 50);
  });

  it('a delay rule delivers every datagram, and none before the delay', async () => {
    const { sender, received } = await pair(seeded(3));
    sender.setRules([{ peerId: 'b', dropOutbound: false, dropInbound: false, delayMs: 120, jitterMs: 40 }]);

    for (let i = 0; i < 20; i += 1) sender.send({ host: '127.0.0.1', port: 2 }, Uint8Array.from([i]));
    await new Promise((resolve) => setTimeout(resolve, 60));
    assert.equal(received.length, 0, 'nothing arrives before the delay');
    await new Promise((resolve) => setTimeout(resolve, 400));
    assert.equal(received.length, 20, 'every datagram still arrives');
    assert.deepEqual([...received.map((bytes) => bytes[0]!)].sort((x, y) => x - y), Array.from({ length: 20 }, (_, i) => i));
    await sender.close();
  });

  it('a delay holds every datagram to the peer that long, and close drops what is still held', async () => {
    mock.timers.enable({ apis: ['setTimeout'] });
    try {
      const { sender, received, sendMany } = await pair(seeded(3));
      sender.setRules([{ peerId: 'b', dropOutbound: false, dropInbound: false, delayMs: 100 }]);
      await sendMany(5);
      mock.timers.tick(99);
      await new Promise((resolve) => setImmediate(resolve));
      assert.equal(received.length, 0, 'nothing before the delay');
      mock.timers.tick(1);
      await new Promise((resolve) => setImmediate(resolve));
      assert.equal(received.length, 5);
      await sendMany(3);
      await sender.close();
      mock.timers.tick(100);
      await new Promise((resolve) => setImmediate(resolve));
      assert.equal(received.length, 5, 'held datagrams are dropped at close');
    } finally {
      mock.timers.reset();
    }
  });
});
