/**
 * Proves the agent's own limits on what a `set-faults` command may touch: rules for
 * unknown peers, two rules for one peer, or more rules than peers are refused with
 * the reason; a rule set within the agent's peers is taken. And the cluster ports:
 * the agent's and the peers' heartbeat ports plus the configured ones, once each.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { clusterPorts, parseFaultPorts, refusalOf } from './fault-scope';

const known = new Set(['n2', 'n3']);
const rule = (peerId: string) => ({ peerId, dropOutbound: true, dropInbound: true });

describe('fault scope', () => {
  it('takes rules for known peers, an empty set included', () => {
    assert.equal(refusalOf([rule('n2'), rule('n3')], known), null);
    assert.equal(refusalOf([], known), null);
  });

  it('refuses a peer it does not know, naming it', () => {
    assert.equal(refusalOf([rule('n2'), rule('x9')], known), 'rules for peers this agent does not know: x9');
  });

  it('refuses more rules than it has peers, and two rules for one peer', () => {
    assert.equal(refusalOf([rule('n2'), rule('n3'), rule('n2')], known), '3 rules for an agent with 2 peers');
    assert.equal(refusalOf([rule('n2'), rule('n2')], known), 'two rules for peer n2');
  });

  it('lists the cluster ports once each, sorted', () => {
    assert.deepEqual(clusterPorts(7946, [7946, 7947], [{ protocol: 'tcp', port: 6379 }, { protocol: 'udp', port: 7947 }]), [
      { protocol: 'tcp', port: 6379 },
      { protocol: 'udp', port: 7946 },
      { protocol: 'udp', port: 7947 },
    ]);
  });

  it('parses --fault-ports and names a bad item', () => {
    assert.deepEqual(parseFaultPorts('tcp:6379, udp:5000'), [{ protocol: 'tcp', port: 6379 }, { protocol: 'udp', port: 5000 }]);
    assert.deepEqual(parseFaultPorts(''), []);
    assert.throws(() => parseFaultPorts('tcp:6379,sctp:9'), /"sctp:9" is not udp:PORT or tcp:PORT/);
    assert.throws(() => parseFaultPorts('udp:70000'), /"udp:70000"/);
  });
});
