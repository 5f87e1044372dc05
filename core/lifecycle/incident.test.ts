// Proves alert grouping: one incident per partition with duplicates folded in,
// firing → acknowledged → resolved, re-escalation when an acknowledgement times out,
// and re-firing when severity rises.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Incident, stepIncident } from './incident';

test('fire, fold duplicates, acknowledge, time out, escalate, resolve', () => {
  let incident: Incident | null = null;
  let result = stepIncident(incident, 'p1', { type: 'alert', reason: 'partition', severity: 'warning' }, 0);
  incident = result.incident;
  assert.equal(result.effects[1]?.kind === 'notify' && result.effects[1].why, 'fired');
  for (let node = 0; node < 5; node++) incident = stepIncident(incident, 'p1', { type: 'alert', reason: 'partition', severity: 'warning' }, 1).incident;
  assert.deepEqual([incident?.reasons, incident?.alertCount], [['partition'], 6]);
  incident = stepIncident(incident, 'p1', { type: 'acknowledge', actor: 'alice', note: 'looking' }, 10).incident;
  assert.equal(incident?.status, 'acknowledged');
  assert.deepEqual(stepIncident(incident, 'p1', { type: 'tick', acknowledgementTimeoutMs: 100 }, 50).effects, []);
  result = stepIncident(incident, 'p1', { type: 'tick', acknowledgementTimeoutMs: 100 }, 110);
  incident = result.incident;
  assert.deepEqual([incident?.status, incident?.escalations], ['firing', 1]);
  assert.equal(result.effects[1]?.kind === 'notify' && result.effects[1].why, 'escalated');
  incident = stepIncident(incident, 'p1', { type: 'resolve' }, 200).incident;
  assert.deepEqual([incident?.status, incident?.resolvedAtMs], ['resolved', 200]);
  assert.deepEqual(stepIncident(incident, 'p1', { type: 'alert', reason: 'late', severity: 'critical' }, 300).effects, []);
});

test('a critical alert re-fires an acknowledged warning incident', () => {
  let incident = stepIncident(null, 'p1', { type: 'alert', reason: 'partition', severity: 'warning' }, 0).incident;
  incident = stepIncident(incident, 'p1', { type: 'acknowledge', actor: 'alice', note: '' }, 1).incident;
  const result = stepIncident(incident, 'p1', { type: 'alert', reason: 'emergency', severity: 'critical' }, 2);
  assert.deepEqual([result.incident?.status, result.incident?.severity], ['firing', 'critical']);
  assert.equal(result.effects[1]?.kind === 'notify' && result.effects[1].why, 'severity-raised');
});
