/**
 * A digest of what a simulation run produced: its published timeline (every verdict in
 * full), the untrusted-traffic sightings, and the run's counts (events, messages,
 * reports, classifications). Two runs with equal digests published the same thing at
 * the same virtual times from the same stream of events; the speed work on the
 * simulator is held to that (sim/timeline-digest.test.ts).
 */
import { createHash } from 'node:crypto';
import type { SimulationResult } from './cluster-sim';

/** Hex SHA-256 of the run's timeline, sightings and counts (wall time left out). */
export function timelineDigest(result: SimulationResult): string {
  const { wallMs: _wallMs, ...counts } = result.metrics;
  return createHash('sha256').update(JSON.stringify({ timeline: result.timeline, untrusted: result.untrusted, counts })).digest('hex');
}
