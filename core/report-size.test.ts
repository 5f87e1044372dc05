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
import { fitReportBytes, fitsJsonBytes, jsonBytesBound, parseAgentReport, reportAuthBytesMax } from './report-size';

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

test('the byte bound never undercounts, so fitsJsonBytes decides as JSON.stringify would', () => {
  const utf8 = (value: unknown) => Buffer.byteLength(JSON.stringify(value) ?? '', 'utf8');
  const exact = (value: unknown, bytesMax: number) => {
    try {
      // What JSON cannot write at all (a function, undefined) has nothing to count.
      return JSON.stringify(value) === undefined || utf8(value) <= bytesMax;
    } catch {
      return false;
    }
  };
  // Deterministic pseudo-random values: escapes, controls, lone surrogates, wide characters, extreme numbers, holes, nesting.
  let seed = 7;
  const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const pieces = ['"', '\\', '\n', '\u0001', '\ud800', '🙂', '€', 'é', 'a', '\u2028'];
  const numbers = [0, -0, 1e21, -2.2250738585072014e-308, -1.7976931348623157e308, 5e-324, Number.NaN, -Number.MAX_SAFE_INTEGER, 0.1];
  const make = (depth: number): unknown => {
    const pick = Math.floor(next() * (depth > 4 ? 4 : 7));
    if (pick === 0) return Array.from({ length: Math.floor(next() * 8) }, () => pieces[Math.floor(next() * pieces.length)]).join('');
    if (pick === 1) return numbers[Math.floor(next() * numbers.length)];
    if (pick === 2) return [true, false, null, undefined][Math.floor(next() * 4)];
    if (pick === 3) return () => 1;
    if (pick === 4) return Object.fromEntries(Array.from({ length: Math.floor(next() * 5) }, (_, index) => [`${pieces[index % pieces.length]}k${index}`, make(depth + 1)]));
    if (pick === 5) return [, make(depth + 1)];
    return Array.from({ length: Math.floor(next() * 5) }, () => make(depth + 1));
  };
  for (let round = 0; round < 3000; round += 1) {
    const value = make(0);
    const bound = jsonBytesBound(value, Number.MAX_SAFE_INTEGER);
    if (bound >= 0 && typeof value !== 'function' && value !== undefined) assert.ok(bound >= utf8(value), `${JSON.stringify(value)}: bound ${bound}`);
    const size = JSON.stringify(value) === undefined ? 0 : utf8(value);
    for (const bytesMax of [0, size - 1, size, size + 1, 4 * size + 8]) assert.equal(fitsJsonBytes(value, bytesMax), exact(value, bytesMax), JSON.stringify(value));
  }
  // Not plain data: decided by JSON.stringify (toJSON, class instances, bigints).
  assert.equal(jsonBytesBound({ at: new Date(0) }, reportBytesMax), -1);
  assert.equal(fitsJsonBytes({ at: new Date(0) }, 10), false);
  assert.equal(fitsJsonBytes({ n: BigInt(1) }, reportBytesMax), false);
});
