/**
 * Proves the fault controller's side of the kernel-fault contract, on the real
 * cluster view and a recording command sender, with mock timers:
 * - every push carries the lease (`ttlMs`, the configured one by default) and, for a
 *   scenario step, its tag;
 * - while an agent holds rules, its lease is renewed every third of it; once healed,
 *   renewals stop and the tag is forgotten;
 * - `degrade` sets delay and jitter on both directions of a link;
 * - an agent's refusal surfaces as a `conflict` naming the agent and its reason.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import type { AgentCommand } from '../core/protocol';
import { ClusterState } from './cluster-view';
import { FaultController } from './fault-controller';

function cluster(): ClusterState {
  const state = new ClusterState('c', 'c', false, () => true);
  for (const id of ['n1', 'n2', 'n3']) state.node(id);
  return state;
}

function recorder(answer: (agentId: string) => boolean | { refused: string } = () => true) {
  const sent: { agentId: string; command: AgentCommand }[] = [];
  const send = async (_clusterId: string, agentId: string, command: AgentCommand) => {
    sent.push({ agentId, command });
    return answer(agentId);
  };
  return { sent, send };
}

describe('FaultController leases', () => {
  beforeEach(() => mock.timers.enable({ apis: ['setInterval'] }));
  afterEach(() => mock.timers.reset());

  it('pushes the lease and the step\'s tag, renews while rules are held, stops after heal', async () => {
    const { sent, send } = recorder();
    const controller = new FaultController(send, { ttlMs: 30_000 });
    const state = cluster();
    await controller.replaceAll(state, new Map([['n1', [{ peerId: 'n2', dropOutbound: true, dropInbound: false }]]]), [], { tag: 'exp-1' });
    assert.deepEqual(sent.map((entry) => [entry.agentId, entry.command]), [
      ['n1', { type: 'set-faults', rules: [{ peerId: 'n2', dropOutbound: true, dropInbound: false }], ttlMs: 30_000, tag: 'exp-1' }],
    ]);
    sent.length = 0;
    mock.timers.tick(10_000);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(sent.map((entry) => [entry.agentId, entry.command.type, (entry.command as { tag?: string }).tag]), [['n1', 'set-faults', 'exp-1']], 'renewed after a third of the lease');
    sent.length = 0;
    await controller.heal(state);
    assert.deepEqual(sent.map((entry) => [entry.agentId, entry.command]), [['n1', { type: 'set-faults', rules: [], ttlMs: 30_000, tag: 'exp-1' }]]);
    sent.length = 0;
    mock.timers.tick(30_000);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(sent, [], 'nothing held, nothing renewed');
    assert.deepEqual(controller.leaseOf('c'), { ttlMs: 30_000 }, 'the tag went with the rules');
    controller.close();
  });

  it('degrade sets delay and jitter both ways under the default lease', async () => {
    const { sent, send } = recorder();
    const controller = new FaultController(send);
    await controller.degrade(cluster(), { from: 'n1', to: 'n2', delayMs: 150, jitterMs: 30 });
    assert.deepEqual(sent.map((entry) => [entry.agentId, entry.command]), [
      ['n1', { type: 'set-faults', rules: [{ peerId: 'n2', dropOutbound: false, dropInbound: false, delayMs: 150, jitterMs: 30 }], ttlMs: 60_000 }],
      ['n2', { type: 'set-faults', rules: [{ peerId: 'n1', dropOutbound: false, dropInbound: false, delayMs: 150, jitterMs: 30 }], ttlMs: 60_000 }],
    ]);
    controller.close();
  });

  it('an agent\'s refusal is a conflict naming the agent and why', async () => {
    const { send } = recorder((agentId) => (agentId === 'n2' ? { refused: 'invalid_input: rules for peers this agent does not know: n1' } : true));
    const controller = new FaultController(send);
    await assert.rejects(controller.cut(cluster(), { from: 'n1', to: 'n2', oneWay: false }), (error: Error & { code?: string }) => {
      assert.equal(error.code, 'conflict');
      assert.equal(error.message, 'rules refused by n2: invalid_input: rules for peers this agent does not know: n1');
      return true;
    });
    controller.close();
  });
});
