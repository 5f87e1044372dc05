/**
 * The byte limit on one report (`reportBytesMax`), held at both ends: the server
 * refuses a larger report before it spends anything on it (`parseAgentReport`), and
 * the agent never writes one (`fitReportBytes`), since a refused report would be
 * dropped. The schema's count limits alone allow about 350 KiB (1024 peers and 256
 * evidence items at their longest), so the byte limit is a rule of its own.
 */
import { type AgentReport, AgentReportSchema, type ErrorCode, type Evidence, describeZodError, isAccusingEvidenceKind, reportBytesMax } from './protocol';

/** Bytes reserved for the `auth` member the agent adds at each transmission (its largest JSON, with the separating comma). */
export const reportAuthBytesMax = 160;

/** Bytes of UTF-8 in `text`, counted without allocating. */
function utf8Bytes(text: string): number {
  let bytes = 0;
  for (let index = 0; index < text.length; index += 1) {
    const code = text.charCodeAt(index);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (code >= 0xd800 && code <= 0xdbff && index + 1 < text.length) {
      bytes += 4;
      index += 1;
    } else bytes += 3;
  }
  return bytes;
}

/** Nesting the bound below walks; deeper (or cyclic) values are decided by `JSON.stringify`. */
const boundDepthMax = 64;
/** Longest JSON of a number: 17 significant digits, sign, point and a three-digit exponent (`-2.2250738585072014e-308`). */
const numberJsonMax = 24;

/**
 * An upper bound on the UTF-8 bytes of `value` as JSON, or -1 when the walk cannot
 * tell (not plain data: `toJSON`, a class instance, a bigint; nested past
 * `boundDepthMax`; past `limit` already). A string unit takes at most 6 bytes
 * (`\uXXXX`; a raw unit is at most 3), a number at most `numberJsonMax`.
 */
export function jsonBytesBound(value: unknown, limit: number, depth = 0): number {
  switch (typeof value) {
    case 'string':
      return value.length * 6 + 2;
    case 'number':
      return numberJsonMax;
    case 'boolean':
      return 5;
    case 'undefined':
    case 'function':
    case 'symbol':
      return 4;
    case 'bigint':
      return -1;
  }
  if (value === null) return 4;
  if (depth >= boundDepthMax || 'toJSON' in (value as object)) return -1;
  let total = 2;
  if (Array.isArray(value)) {
    total += value.length;
    for (let index = 0; index < value.length && total <= limit; index += 1) {
      const item = jsonBytesBound(value[index], limit, depth + 1);
      if (item < 0) return -1;
      total += item;
    }
    return total <= limit ? total : -1;
  }
  const prototype: unknown = Object.getPrototypeOf(value);
  if (prototype !== Object.prototype && prototype !== null) return -1;
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    const member = jsonBytesBound(record[key], limit, depth + 1);
    if (member < 0) return -1;
    total += key.length * 6 + 4 + member;
    if (total > limit) return -1;
  }
  return total;
}

/**
 * Whether `value`, as JSON, takes at most `bytesMax` bytes of UTF-8. A value JSON
 * cannot write out (too deep, cyclic) does not fit. Plain data well under the limit
 * (every report) is decided by `jsonBytesBound` without writing the JSON out; the
 * rest by `JSON.stringify`.
 */
export function fitsJsonBytes(value: unknown, bytesMax: number): boolean {
  const bound = value === undefined ? -1 : jsonBytesBound(value, bytesMax);
  if (bound >= 0 && bound <= bytesMax) return true;
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch {
    return false;
  }
  if (text === undefined) return true;
  // One UTF-16 unit is 1 to 3 bytes (a surrogate pair, 2 units, is 4): most texts are decided by their length alone.
  if (text.length > bytesMax) return false;
  if (text.length * 3 <= bytesMax) return true;
  return utf8Bytes(text) <= bytesMax;
}

/** What the server makes of a report's input: the report, or why not, with the code to answer. */
export type ReportParseResult = { ok: true; report: AgentReport } | { ok: false; code: Extract<ErrorCode, 'payload_too_large' | 'invalid_input'>; message: string };

/** Checks the size first (cheap, and a larger input is not worth parsing), then the schema, naming each bad field. */
export function parseAgentReport(input: unknown): ReportParseResult {
  if (!fitsJsonBytes(input, reportBytesMax)) return { ok: false, code: 'payload_too_large', message: `report larger than ${reportBytesMax} bytes of JSON (reportBytesMax)` };
  const parsed = AgentReportSchema.safeParse(input);
  if (!parsed.success) return { ok: false, code: 'invalid_input', message: describeZodError(parsed.error) };
  return { ok: true, report: parsed.data };
}

/** A report made to fit, and how many evidence items it lost to do so. */
export interface FittedReport {
  report: AgentReport;
  /** Evidence items left out (untrusted ones first, newest kept): 0 when the report fitted as it was. */
  evidenceDropped: number;
}

/**
 * Makes a report (without `auth`) fit `reportBytesMax` once signed: leaves out
 * evidence, untrusted items before contradictions and older before newer, until it
 * does. Observations are never dropped: at the schema's limits they fit on their own
 * (core/report-size.test.ts proves it), and the view is what the report is for.
 */
export function fitReportBytes(report: AgentReport): FittedReport {
  const bytesMax = reportBytesMax - reportAuthBytesMax;
  if (fitsJsonBytes(report, bytesMax)) return { report, evidenceDropped: 0 };
  // Keep order: contradictions last (dropped last), and within each kind the newest last.
  const byPriority = [...report.evidence].sort((x: Evidence, y: Evidence) => Number(isAccusingEvidenceKind(x.kind)) - Number(isAccusingEvidenceKind(y.kind)) || x.lastAtMs - y.lastAtMs);
  // Binary search on how many of the lowest-priority items to drop: each probe is one serialisation.
  let low = 1;
  let high = byPriority.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (fitsJsonBytes({ ...report, evidence: byPriority.slice(middle) }, bytesMax)) high = middle;
    else low = middle + 1;
  }
  const kept = new Set(byPriority.slice(low));
  return { report: { ...report, evidence: report.evidence.filter((item) => kept.has(item)) }, evidenceDropped: report.evidence.length - kept.size };
}
