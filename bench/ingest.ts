/**
 * Benchmark: the server's report ingest beside PostgreSQL's own bulk path, in one run
 * on one fresh database. For each repetition it loads N report rows into the empty
 * "AgentReport" table (primary key and indexes in place) twice:
 *   1. COPY … FROM STDIN (text format, pg-copy-streams): the baseline;
 *   2. the server's ReportWriter on the server's ingest pool (what an agent's report goes
 *      through after it is verified): batched `INSERT … SELECT * FROM unnest(…)`,
 *      idempotent, each write resolving once committed, `ingestPoolMax` batches at once,
 *      with up to the writer's queue bound of reports in flight (a sliding window);
 * then truncates. Prints both rates per repetition and, last, one JSON line with the
 * medians (`copyRowsPerS`, `ingestRowsPerS`; `ratio`: the median of each run's ingest / COPY,
 * the two loads of a run being back to back). Goal: ratio ≥ 0.5.
 *
 * `npm run bench:ingest -- [--rows N] [--runs R]` (defaults 50,000 rows, 5 runs).
 * Needs the PostgreSQL of TEST_DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/test).
 */
import { performance } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { AgentReport } from '../core/protocol';
import { applyMigrations, ingestPoolMax, queryTimeoutMs } from '../server/db/database';
import { type IngestRunner, poolIngestRunner } from '../server/db/ingest-query';
import { createLogger } from '../server/logger';
import { ReportWriter, reportInsertColumns, reportQueueMax, reportRow } from '../server/report-writer';
import { createTestDatabase } from '../test/helpers/database';

function numberArgument(name: string, fallback: number): number {
  const index = process.argv.indexOf(name);
  if (index === -1) return fallback;
  const value = Number(process.argv[index + 1]);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} needs a positive integer`);
  return value;
}

const rowCount = numberArgument('--rows', 50_000);
const runs = numberArgument('--runs', 5);
/** Agents the rows are spread over (one report per agent per sequence number). */
const agentCount = 1000;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** N signed-looking reports of a 1,000-agent cluster, each with 32 observations. */
function makeReports(count: number, baseMs: number): Array<{ report: AgentReport; receivedAtMs: number }> {
  return Array.from({ length: count }, (_, index) => {
    const agent = index % agentCount;
    const sentAtMs = baseMs + index;
    const report: AgentReport = {
      clusterId: 'bench',
      agentId: `n${agent + 1}`,
      incarnation: 1,
      sequence: Math.floor(index / agentCount) + 1,
      sentAtMs,
      heartbeatIntervalMs: 250,
      observations: Array.from({ length: 32 }, (__, peer) => ({ peerId: `n${((agent + peer + 1) % agentCount) + 1}`, reachable: peer !== 0, lastHeardAtMs: sentAtMs, sinceMs: 0, suspicion: 0 })),
      evidence: [],
      outboxDepth: 1,
      outboxDropped: 0,
      auth: { signedAtMs: sentAtMs, nonce: `nonce-${index}`, signature: 'x' },
    } as AgentReport;
    return { report, receivedAtMs: sentAtMs + 3 };
  });
}

/** COPY text-format field: `\N` for null, backslash and control characters escaped. */
function copyField(value: unknown): string {
  if (value === null || value === undefined) return '\\N';
  return String(value).replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r');
}

/** The same rows as the writer stores, as COPY text lines (the column arrays transposed). */
function copyLines(rows: ReturnType<typeof makeReports>): string[] {
  const columns = reportInsertColumns(rows.map(({ report, receivedAtMs }) => reportRow(report, receivedAtMs)));
  return rows.map((_, index) => `${columns.map((column) => copyField(column[index])).join('\t')}\n`);
}

async function timeCopy(client: pg.Client, lines: string[]): Promise<number> {
  const startedMs = performance.now();
  const stream = client.query(
    copyFrom(`COPY "AgentReport" ("clusterId", "agentId", "incarnation", "sequence", "sentAt", "receivedAt", "reachableCount", "peerCount", "outboxDepth", "outboxDropped", "nonce") FROM STDIN`),
  );
  // Chunks of 1,000 lines: one write per line would measure the stream, not the database.
  const chunks = function* () {
    for (let index = 0; index < lines.length; index += 1000) yield lines.slice(index, index + 1000).join('');
  };
  await pipeline(Readable.from(chunks()), stream);
  return performance.now() - startedMs;
}

async function timeIngest(writer: ReportWriter, rows: ReturnType<typeof makeReports>): Promise<number> {
  const startedMs = performance.now();
  // As agents do: reports keep arriving while earlier ones are written, up to the writer's
  // queue bound in flight; each one written lets the next in (a sliding window, not waves
  // that let the writer drain between them).
  let next = 0;
  const sender = async () => {
    while (next < rows.length) {
      const { report, receivedAtMs } = rows[next++]!;
      if ((await writer.write(report, receivedAtMs)).duplicate) throw new Error('a fresh row was taken for a duplicate');
    }
  };
  await Promise.all(Array.from({ length: Math.min(reportQueueMax, rows.length) }, sender));
  return performance.now() - startedMs;
}

async function main(): Promise<void> {
  const logger = createLogger('warn');
  const database = await createTestDatabase('faultline_bench');
  const client = new pg.Client({ connectionString: database.url });
  let ingest: IngestRunner | null = null;
  try {
    await applyMigrations(database.url, logger);
    await client.connect();
    ingest = poolIngestRunner({ connectionString: database.url, max: ingestPoolMax, connectionTimeoutMillis: 5000, queryTimeoutMs });
    const writer = new ReportWriter(ingest.query, 5, logger, ingestPoolMax);
    const rows = makeReports(rowCount, Date.UTC(2026, 11, 3));
    const lines = copyLines(rows);
    const count = async () => Number((await client.query<{ count: string }>('SELECT count(*) FROM "AgentReport"')).rows[0]!.count);
    const copyRates: number[] = [];
    const ingestRates: number[] = [];
    console.log(`${rowCount} rows per load, ${runs} runs, into "AgentReport" with its primary key and indexes`);
    for (let run = 1; run <= runs; run += 1) {
      await client.query('TRUNCATE "AgentReport"');
      const copyMs = await timeCopy(client, lines);
      if ((await count()) !== rowCount) throw new Error('COPY stored a different number of rows');
      await client.query('TRUNCATE "AgentReport"');
      const ingestMs = await timeIngest(writer, rows);
      if ((await count()) !== rowCount) throw new Error('ingest stored a different number of rows');
      copyRates.push((rowCount / copyMs) * 1000);
      ingestRates.push((rowCount / ingestMs) * 1000);
      console.log(`run ${run}: COPY ${copyRates.at(-1)!.toFixed(0)} rows/s, ingest ${ingestRates.at(-1)!.toFixed(0)} rows/s, ratio ${(ingestRates.at(-1)! / copyRates.at(-1)!).toFixed(2)}`);
    }
    // Idempotence under load: the whole set again is all duplicates and stores nothing.
    const replayed = await Promise.all(rows.slice(0, reportQueueMax).map(({ report, receivedAtMs }) => writer.write(report, receivedAtMs)));
    if (!replayed.every((result) => result.duplicate) || (await count()) !== rowCount) throw new Error('a replayed report was stored twice');
    const copyRowsPerS = Math.round(median(copyRates));
    const ingestRowsPerS = Math.round(median(ingestRates));
    // Each run's two loads are back to back, so their ratio cancels most of what a shared
    // machine's load does to both; the median of those pairs is the figure to read.
    const ratio = median(ingestRates.map((rate, index) => rate / copyRates[index]!));
    console.log(JSON.stringify({ rows: rowCount, runs, copyRowsPerS, ingestRowsPerS, ratio: Number(ratio.toFixed(3)) }));
  } finally {
    await ingest?.close();
    await client.end();
    await database.drop();
  }
}

await main();
