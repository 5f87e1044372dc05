// Proves the report byte limit (`reportBytesMax`) holds at both ends: a report at the
// schema's limits for observations fits once signed; one at the limits for evidence too
// does not, and `fitReportBytes` makes it fit by leaving out untrusted evidence first and
// the oldest first, keeping contradictions; `parseAgentReport` refuses a larger input as
// `payload_too_large` before the schema (counting UTF-8 bytes, not characters) and names
// the bad field of a smaller one.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { nodeIdLengthMax } from './node-id';
import { type AgentReport, AgentReportSchema, type Evidence, type PeerObservation, isAccusingEvidenceKind, reportBytesMax, reportEvidenceMax, reportPeersMax, storableTimestampMsMax } from './protocol';
import { fitReportBytes, fitsJsonBytes, parseAgentReport, reportAuthBytesMax } from './report-size';

const longId = (index: number) => `${index}`.padStart(nodeIdLengthMax, 'n');
const observation = (index: number): PeerObservation => ({
  peerId: longId(index),
  reachable: false,
  lastHeardAtMs: storableTimestampMsMax,
  sinceMs: storableTimestampMsMax,
  suspicion: 123456.789,
  probe: 'inconclusive',
});
const evidence = (index: number): Evidence => ({
  peerId: longId(index),
  kind: index % 4 === 0 ? 'contradiction' : 'bad-signature',
  ...(index % 4 !== 0 && { source: `${'f'.repeat(290)}:${index}`.slice(-300), linkPeerId: longId(index + 1) }),
  count: 999_999_999,
  lastAtMs: 1_000_000 + index,
});
const largestAuth = { signedAtMs: storableTimestampMsMax, nonce: 'A'.repeat(22), signature: 'f'.repeat(64) };

function largestReport(evidenceCount: number): AgentReport {
  return {
    clusterId: longId(0),
    agentId: longId(1),
    incarnation: Number.MAX_SAFE_INTEGER,
    sequence: Number.MAX_SAFE_INTEGER,
    sentAtMs: storableTimestampMsMax,
    heartbeatIntervalMs: 600_000,
    observations: Array.from({ length: reportPeersMax }, (_, index) => observation(index)),
    evidence: Array.from({ length: evidenceCount }, (_, index) => evidence(index)),
    health: { score: 64, discounted: true, lastReason: 'probe-unanswered', missedDeadlines: Number.MAX_SAFE_INTEGER },
    outboxDepth: 1e9,
    outboxDropped: 2_147_483_647,
    dataPlane: { keyCount: Number.MAX_SAFE_INTEGER, writesAccepted: Number.MAX_SAFE_INTEGER, writesRefused: Number.MAX_SAFE_INTEGER, fence: { partitionId: 'p'.repeat(40), mode: 'critical-only' }, digestRoot: 'f'.repeat(16) },
  };
}

const bytes = (value: unknown) => Buffer.byteLength(JSON.stringify(value), 'utf8');

test('the auth reserve holds the largest auth member', () => {
  assert.ok(bytes({ auth: largestAuth }) - 2 + 1 <= reportAuthBytesMax, `${bytes({ auth: largestAuth })} bytes`);
});

test('a report at the schema limits for observations fits once signed, and is left alone', () => {
  const report = largestReport(0);
  assert.ok(bytes({ ...report, auth: largestAuth }) <= reportBytesMax, `${bytes({ ...report, auth: largestAuth })} bytes`);
  const fitted = fitReportBytes(report);
  assert.equal(fitted.evidenceDropped, 0);
  assert.equal(fitted.report, report);
});

test('a report at the schema limits for evidence is made to fit: untrusted and oldest items go first', () => {
  const report = largestReport(reportEvidenceMax);
  assert.equal(AgentReportSchema.safeParse(report).success, true, 'valid by the schema');
  const refused = parseAgentReport(JSON.parse(JSON.stringify(report)));
  assert.equal(refused.ok === false && refused.code, 'payload_too_large', 'too large by bytes');
  const fitted = fitReportBytes(report);
  const signed = { ...fitted.report, auth: largestAuth };
  assert.ok(bytes(signed) <= reportBytesMax, `${bytes(signed)} bytes`);
  assert.ok(fitted.evidenceDropped > 0);
  assert.equal(fitted.report.evidence.length, reportEvidenceMax - fitted.evidenceDropped);
  const contradictions = report.evidence.filter((item) => isAccusingEvidenceKind(item.kind));
  assert.deepEqual(fitted.report.evidence.filter((item) => isAccusingEvidenceKind(item.kind)), contradictions, 'every contradiction kept');
  const untrustedKept = fitted.report.evidence.filter((item) => !isAccusingEvidenceKind(item.kind));
  const untrustedAll = report.evidence.filter((item) => !isAccusingEvidenceKind(item.kind));
  assert.deepEqual(untrustedKept, untrustedAll.slice(untrustedAll.length - untrustedKept.length), 'the newest untrusted items kept');
  // Dropping one item fewer would not have fitted: nothing was left out for nothing.
  const oneMore = untrustedAll.slice(untrustedAll.length - untrustedKept.length - 1);
  assert.equal(fitsJsonBytes({ ...report, evidence: [...contradictions, ...oneMore], auth: largestAuth }, reportBytesMax), false);
  assert.equal(parseAgentReport(JSON.parse(JSON.stringify(signed))).ok, true);
});

test('the server refuses a larger input before the schema, counting bytes, and names bad fields of a smaller one', () => {
  const small = largestReport(0);
  const room = reportBytesMax - bytes(small);
  // Characters that fit, bytes that do not: three bytes of UTF-8 each.
  const wide = { ...small, padding: '€'.repeat(Math.ceil(room / 3) + 1) };
  assert.ok(JSON.stringify(wide).length <= reportBytesMax);
  assert.deepEqual(parseAgentReport(wide), { ok: false, code: 'payload_too_large', message: `report larger than ${reportBytesMax} bytes of JSON (reportBytesMax)` });
  const narrow = parseAgentReport({ ...small, padding: 'x' });
  assert.equal(narrow.ok === false && narrow.code, 'invalid_input');
  assert.match(narrow.ok === false ? narrow.message : '', /padding|unrecognized/i);
  const badField = parseAgentReport({ ...small, sequence: -1 });
  assert.match(badField.ok === false ? badField.message : '', /^sequence:/);
  assert.equal(fitsJsonBytes(undefined, 0), true);
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  assert.equal(fitsJsonBytes(cyclic, reportBytesMax), false);
});
