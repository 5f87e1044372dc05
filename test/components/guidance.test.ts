/**
 * The overview's guidance line, one case per state: nothing to do when whole, what
 * happens by itself while degraded, the decision and its page in an emergency and
 * while a manual recovery waits, and the recovery to follow while it runs.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { guidanceFor } from '../../components/guidance';
import type { PartitionSummary, RecoveryRunView } from '../../core/realtime-contract';

const partition = (state: string, overrides: Partial<PartitionSummary> = {}): PartitionSummary => ({
  id: 'p1', clusterId: 'demo', type: 'complete', state, startedAtMs: 0, endedAtMs: null, components: [['node-3', 'node-4', 'node-5'], ['node-1', 'node-2']], cutLinks: [], nodeIds: [], outcome: null, divergenceMax: 0, recoveryMs: null, ...overrides,
});
const run = (status: RecoveryRunView['status'], strategy: RecoveryRunView['strategy'] = 'manual') => ({ id: 'r1', partitionId: 'p1', status, strategy }) as RecoveryRunView;

test('each state has its line, tone and link', () => {
  const noMajority = { components: [['node-1', 'node-2'], ['node-3', 'node-4'], ['node-5']] };
  const cases: [Parameters<typeof guidanceFor>[0], string, RegExp, string][] = [
    [{ partitioned: false, active: null, runs: [] }, 'ok', /nothing needs you/, '/chaos'],
    [{ partitioned: true, active: null, runs: [] }, 'watch', /being confirmed/, '/history'],
    [{ partitioned: true, active: partition('PartitionDetected'), runs: [] }, 'watch', /deciding how to handle it/, '/history/p1'],
    [{ partitioned: true, active: partition('DegradedOperation'), runs: [] }, 'watch', /Heal the network; the phased recovery then starts by itself/, '/history/p1'],
    [{ partitioned: true, active: partition('DegradedOperation', { type: 'partial' }), runs: [] }, 'watch', /the automatic recovery then starts by itself/, '/history/p1'],
    [{ partitioned: true, active: partition('EmergencyMode', noMajority), runs: [] }, 'act', /^Emergency: no majority side; .*Approve a manual recovery once the network is healed/, '/recovery'],
    [{ partitioned: false, active: partition('ReconciliationMode'), runs: [run('pending-approval')] }, 'act', /waits for your approval/, '/recovery?run=r1'],
    [{ partitioned: false, active: partition('ReconciliationMode'), runs: [run('running', 'phased')] }, 'watch', /Recovering \(phased, running\)/, '/recovery'],
    [{ partitioned: false, active: partition('ReconciliationMode'), runs: [run('paused', 'phased')] }, 'act', /paused: resume it/, '/recovery'],
    [{ partitioned: false, active: partition('ReconciliationMode'), runs: [run('failed')] }, 'watch', /being verified/, '/history/p1'],
  ];
  for (const [input, tone, text, href] of cases) {
    const line = guidanceFor(input);
    assert.deepEqual([line.tone, line.href], [tone, href], line.text);
    assert.match(line.text, text);
  }
});
