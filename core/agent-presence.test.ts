/**
 * Proves the presence rules: a connected agent is present, an away one is
 * returning during the grace and missing after it, forgotten past the known
 * window; readiness counts only agents not back since the start; a duplicate
 * connection is refused while the holder was heard recently and replaces a
 * silent holder.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Presence, type PresenceEntry, duplicateDecision, presenceOf, presenceUnreadyReason, summarisePresence } from './agent-presence';

const options = { knownWindowMs: 60_000, reconnectGraceMs: 10_000 };
const startedAtMs = 1_000_000;
const entry = (overrides: Partial<PresenceEntry>): PresenceEntry => ({
  clusterId: 'c',
  agentId: 'a',
  lastSeenAtMs: startedAtMs - 5000,
  connected: false,
  awaySinceMs: startedAtMs,
  returnedSinceStart: false,
  ...overrides,
});

const cases: { name: string; entry: PresenceEntry; nowMs: number; expected: Presence }[] = [
  { name: 'connected', entry: entry({ connected: true }), nowMs: startedAtMs + 99_000, expected: 'present' },
  { name: 'away, inside the grace', entry: entry({}), nowMs: startedAtMs + 10_000, expected: 'returning' },
  { name: 'away, past the grace', entry: entry({}), nowMs: startedAtMs + 10_001, expected: 'missing' },
  { name: 'away past the known window', entry: entry({}), nowMs: startedAtMs - 5000 + 60_001, expected: 'forgotten' },
  { name: 'left after returning, inside the grace', entry: entry({ returnedSinceStart: true, lastSeenAtMs: startedAtMs + 30_000, awaySinceMs: startedAtMs + 30_000 }), nowMs: startedAtMs + 35_000, expected: 'returning' },
];

for (const { name, entry: given, nowMs, expected } of cases) {
  test(`presence: ${name}`, () => assert.equal(presenceOf(given, nowMs, options), expected));
}

test('readiness counts only agents not back since the start', () => {
  const nowMs = startedAtMs + 20_000;
  const entries = [
    entry({ agentId: 'back', connected: true, returnedSinceStart: true }),
    entry({ agentId: 'never-back' }),
    entry({ agentId: 'left-again', returnedSinceStart: true, awaySinceMs: startedAtMs + 1000 }),
    entry({ agentId: 'long-gone', lastSeenAtMs: startedAtMs - 50_000 }),
  ];
  const summary = summarisePresence(entries, nowMs, options);
  assert.deepEqual(summary, { known: 3, connected: 1, missing: 2, missingSinceStart: 1 });
  assert.match(presenceUnreadyReason(summary, options) ?? '', /1 of 3 known agents have not reconnected/);
  assert.equal(presenceUnreadyReason({ ...summary, missingSinceStart: 0 }, options), null);
});

test('duplicates: refuse while the holder is heard, replace a silent one', () => {
  assert.equal(duplicateDecision(1000, 1000 + 30_000, 30_000), 'refuse-newcomer');
  assert.equal(duplicateDecision(1000, 1000 + 30_001, 30_000), 'replace-holder');
});
