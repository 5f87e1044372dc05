/**
 * `npm run chaos -- run FILE [--target URL] [--cluster ID]`: runs a scenario file as
 * an experiment on a live Faultline server (the demo cluster by default), prints
 * its progress and the verdicts, and exits 0 when every validator passed, 1 when
 * one failed (or the run was aborted or could not finish), 2 when the file or the
 * request was refused (every problem of a bad file is printed with its JSON path).
 *
 * Auth as the API requires: a bearer API token (`--token` or FAULTLINE_TOKEN; an
 * admin creates one on the admin page), or a sign-in (`--user`, default `admin`,
 * and `--password` or FAULTLINE_ADMIN_PASSWORD).
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import type { ExperimentProgress, ExperimentReport, ExperimentRunView } from '../core/experiments/experiment-views';
import { validateScenarioFile } from '../server/experiments/experiment-plan';

/** Longest a run is followed before the CLI gives up (ms): the brief's recovery limit plus the longest scenario. */
const followMsMax = 2 * 3_600_000;
const pollMs = 1_000;

type Envelope<T> = { ok: true; data: T } | { ok: false; code: string; message: string };

class Api {
  private cookie: string | null = null;
  private csrf: string | null = null;

  constructor(
    private readonly target: string,
    private readonly token: string | undefined,
  ) {}

  async signIn(name: string, password: string): Promise<void> {
    const response = await fetch(`${this.target}/api/auth/sign-in`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name, password }) });
    const payload = (await response.json()) as Envelope<{ csrfToken: string }>;
    if (!payload.ok) throw new Error(`sign-in refused: ${payload.message}`);
    this.cookie = (response.headers.get('set-cookie') ?? '').split(';')[0] ?? null;
    this.csrf = payload.data.csrfToken;
  }

  async call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<Envelope<T>> {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    if (this.cookie) headers.cookie = this.cookie;
    if (this.csrf && method === 'POST') headers['x-csrf-token'] = this.csrf;
    const response = await fetch(`${this.target}${path}`, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    return (await response.json()) as Envelope<T>;
  }
}

const seconds = (ms: number) => `${Math.max(0, Math.round(ms / 1000))} s`;

function progressLine(progress: ExperimentProgress, nowMs: number): string {
  const seen = progress.seen.partition ? `${progress.seen.partition.type} ${progress.seen.partition.components.map((side) => `[${side.join(',')}]`).join(' | ')}` : 'no partition';
  return `  ${progress.phase.padEnd(8)} step ${progress.stepIndex + 1}/${progress.stepsAtMs.length}, ${seconds(progress.phaseDeadlineMs - nowMs)} left at most; seen: ${seen}; client ${progress.seen.clientServed} served, ${progress.seen.clientRefused} refused`;
}

async function run(file: string, options: { target: string; cluster?: string; token?: string; user: string; password?: string }): Promise<number> {
  const scenario: unknown = JSON.parse(await readFile(file, 'utf8'));
  const validation = validateScenarioFile(scenario);
  if (!validation.ok) {
    console.error(`${file}: ${validation.issues.length} problem(s)`);
    for (const issue of validation.issues) console.error(`  ${issue.path}: ${issue.message}`);
    return 2;
  }
  const api = new Api(options.target.replace(/\/$/, ''), options.token);
  if (!options.token) {
    if (!options.password) throw new Error('give --token (or FAULTLINE_TOKEN), or --password (or FAULTLINE_ADMIN_PASSWORD)');
    await api.signIn(options.user, options.password);
  }
  const started = await api.call<ExperimentRunView>('POST', '/api/experiments', { scenario, ...(options.cluster ? { clusterId: options.cluster } : {}) });
  if (!started.ok) {
    console.error(`refused (${started.code}): ${started.message}`);
    return 2;
  }
  const runId = started.data.id;
  console.log(`experiment ${runId}: ${started.data.scenario} on cluster ${started.data.clusterId}; affected nodes: ${started.data.affectedNodes.join(', ') || 'none'}`);
  const query = `?clusterId=${encodeURIComponent(started.data.clusterId)}`;
  let lastLine = '';
  for (const deadline = Date.now() + followMsMax; Date.now() < deadline; ) {
    const current = await api.call<ExperimentProgress | null>('GET', `/api/experiments/current${query}`);
    if (!current.ok || current.data === null || current.data.runId !== runId) break;
    const line = progressLine(current.data, Date.now());
    if (line !== lastLine) console.log(line);
    lastLine = line;
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
  let report = await api.call<ExperimentReport>('GET', `/api/experiments/${runId}`);
  for (let attempt = 0; report.ok && report.data.status === 'running' && attempt < 30; attempt += 1) {
    await new Promise((resolve) => setTimeout(resolve, pollMs));
    report = await api.call<ExperimentReport>('GET', `/api/experiments/${runId}`);
  }
  if (!report.ok) throw new Error(`report not read: ${report.message}`);
  console.log(`status: ${report.data.status}`);
  for (const verdict of report.data.verdictDetails) console.log(`  ${verdict.outcome.toUpperCase().padEnd(7)} ${verdict.validator}: ${verdict.summary}`);
  console.log(`report: ${options.target.replace(/\/$/, '')}/chaos/experiments/${runId}`);
  return report.data.status === 'passed' ? 0 : 1;
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      target: { type: 'string', default: process.env.FAULTLINE_URL ?? 'http://127.0.0.1:3000' },
      cluster: { type: 'string' },
      token: { type: 'string' },
      user: { type: 'string', default: 'admin' },
      password: { type: 'string' },
    },
  });
  const [command, file] = positionals;
  if (command !== 'run' || !file) {
    console.error('usage: npm run chaos -- run FILE [--target URL] [--cluster ID] [--token T | --user NAME --password P]');
    return 2;
  }
  const token = values.token ?? process.env.FAULTLINE_TOKEN;
  const password = values.password ?? process.env.FAULTLINE_ADMIN_PASSWORD;
  return run(file, { target: values.target, user: values.user, ...(values.cluster ? { cluster: values.cluster } : {}), ...(token ? { token } : {}), ...(password ? { password } : {}) });
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`chaos: ${(error as Error).message}`);
    process.exit(2);
  },
);
