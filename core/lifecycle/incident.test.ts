// Proves the incident machine the server's alerts run on: firing → acknowledged →
// resolved, refusals in the operator's words, firing again only after resolution,
// entries grouped under one incident (severity raised, acknowledgement kept),
// and re-escalation (critical, the acknowledgement kept in the note) once an
// acknowledgement outlives its timeout.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Incident, incidentEntriesMax, incidentNoteLengthMax, stepIncident } from './incident';

const fire = { type: 'fire', severity: 'warning', title: 'partition' } as const;

function fired(atMs = 0): Incident {
  const step = stepIncident(null, fire, atMs);
  assert.equal(step.change, 'fired');
  return step.incident!;
}

test('fire, acknowledge, time out, escalate, resolve', () => {
  let incident = fired(0);
  assert.deepEqual([incident.status, incident.severity, incident.firedAtMs], ['firing', 'warning', 0]);
  const acknowledged = stepIncident(incident, { type: 'acknowledge', actor: 'alice', note: 'looking' }, 10);
  assert.equal(acknowledged.change, 'acknowledged');
  incident = acknowledged.incident!;
  assert.deepEqual([incident.status, incident.acknowledgedBy, incident.acknowledgedAtMs, incident.note], ['acknowledged', 'alice', 10, 'looking']);
  assert.equal(stepIncident(incident, { type: 'tick', acknowledgementTimeoutMs: 100 }, 110).change, null, 'exactly at the timeout it does not fire yet');
  const escalated = stepIncident(incident, { type: 'tick', acknowledgementTimeoutMs: 120_000 }, 200_000);
  assert.equal(escalated.change, 'escalated');
  incident = escalated.incident!;
  assert.deepEqual([incident.status, incident.severity, incident.acknowledgedBy, incident.acknowledgedAtMs], ['firing', 'critical', null, null]);
  assert.equal(incident.note, 'acknowledged by alice (looking) but still open after 2 min');
  const resolved = stepIncident(incident, { type: 'resolve', actor: 'bob' }, 300_000);
  assert.deepEqual([resolved.change, resolved.incident?.status, resolved.incident?.resolvedBy, resolved.incident?.resolvedAtMs], ['resolved', 'resolved', 'bob', 300_000]);
});

test('firing again while open changes nothing; after resolution it starts over', () => {
  const open = fired(0);
  const again = stepIncident(open, { type: 'fire', severity: 'critical', title: 'other' }, 5);
  assert.deepEqual([again.change, again.refused, again.incident], [null, null, open]);
  const resolved = stepIncident(open, { type: 'resolve', actor: 'system' }, 6).incident!;
  const refired = stepIncident(resolved, { type: 'fire', severity: 'critical', title: 'back' }, 7);
  assert.equal(refired.change, 'refired');
  assert.deepEqual({ ...refired.incident, entries: [] }, { ...fired(7), severity: 'critical', title: 'back', entries: [] });
  assert.deepEqual(refired.incident?.entries.map((entry) => [entry.atMs, entry.title]), [[0, 'partition'], [7, 'back']], 'the earlier entries stay, the new one follows');
});

test('one incident per partition: a new rule adds an entry, raises the severity and keeps the acknowledgement', () => {
  let incident = stepIncident(null, { type: 'fire', rule: 'partition-detected', severity: 'warning', title: 'complete partition [a] | [b, c]' }, 0).incident!;
  incident = stepIncident(incident, { type: 'acknowledge', actor: 'alice', note: 'on it' }, 1).incident!;
  const emergency = stepIncident(incident, { type: 'fire', rule: 'emergency-mode', severity: 'critical', title: 'emergency: no-majority', link: '/recovery' }, 2);
  assert.equal(emergency.change, 'entry-added');
  assert.deepEqual([emergency.incident?.status, emergency.incident?.severity, emergency.incident?.acknowledgedBy, emergency.incident?.title], ['acknowledged', 'critical', 'alice', 'complete partition [a] | [b, c]']);
  assert.deepEqual(emergency.incident?.entries.map((entry) => [entry.rule, entry.severity, entry.link]), [['partition-detected', 'warning', null], ['emergency-mode', 'critical', '/recovery']]);
  const again = stepIncident(emergency.incident, { type: 'fire', rule: 'emergency-mode', severity: 'critical', title: 'emergency again' }, 3);
  assert.equal(again.change, null, 'the same rule again changes nothing');
  const warning = stepIncident(emergency.incident, { type: 'fire', rule: 'data-divergence', severity: 'warning', title: 'divergence 12 % over 10 %' }, 4);
  assert.equal(warning.incident?.severity, 'critical', 'severity never drops while open');
});

test('entries are bounded: the first and the newest are kept', () => {
  let incident: Incident = stepIncident(null, { type: 'fire', rule: 'first', severity: 'warning', title: 'first' }, 0).incident!;
  for (let index = 0; index < incidentEntriesMax + 10; index += 1) incident = stepIncident(incident, { type: 'fire', rule: `rule-${index}`, severity: 'warning', title: `${index}` }, index + 1).incident!;
  assert.equal(incident.entries.length, incidentEntriesMax);
  assert.equal(incident.entries[0]?.rule, 'first');
  assert.equal(incident.entries.at(-1)?.rule, `rule-${incidentEntriesMax + 9}`);
});

test('refusals say why: acknowledging a non-firing alert, resolving a resolved one, acting on none', () => {
  const acknowledged = stepIncident(fired(), { type: 'acknowledge', actor: 'alice', note: '' }, 1).incident!;
  assert.equal(stepIncident(acknowledged, { type: 'acknowledge', actor: 'bob', note: '' }, 2).refused, 'alert is acknowledged (acknowledged by alice); only a firing alert can be acknowledged');
  const resolved = stepIncident(acknowledged, { type: 'resolve', actor: 'bob' }, 3).incident!;
  assert.equal(stepIncident(resolved, { type: 'resolve', actor: 'bob' }, 4).refused, 'alert is already resolved');
  assert.match(stepIncident(resolved, { type: 'acknowledge', actor: 'bob', note: '' }, 4).refused ?? '', /^alert is resolved/);
  assert.equal(stepIncident(null, { type: 'resolve', actor: 'bob' }, 4).refused, 'no such alert');
  assert.deepEqual(stepIncident(null, { type: 'tick', acknowledgementTimeoutMs: 1 }, 4), { incident: null, change: null, refused: null });
});

test('a tick leaves firing and resolved incidents alone, and notes are bounded', () => {
  const incident = fired(0);
  assert.equal(stepIncident(incident, { type: 'tick', acknowledgementTimeoutMs: 1 }, 1_000_000).change, null);
  const long = stepIncident(incident, { type: 'acknowledge', actor: 'alice', note: 'x'.repeat(incidentNoteLengthMax + 10) }, 1).incident!;
  assert.equal(long.note?.length, incidentNoteLengthMax);
  const escalated = stepIncident(long, { type: 'tick', acknowledgementTimeoutMs: 1 }, 10).incident!;
  assert.equal(escalated.note?.length, incidentNoteLengthMax);
});
