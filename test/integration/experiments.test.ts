/**
 * Experiments end to end on real PostgreSQL, against a demo-style cluster of six
 * real agent processes on loopback (real UDP, real store APIs): `npm run chaos --
 * run scenarios/split-halves.json` as a process prints the verdicts and exits by
 * them, with the verdicts stored; a second experiment while one runs is refused
 * (409, with the reason), and so is a plain scenario start; a file whose
 * expectation is wrong fails its detection verdict and the CLI exits non-zero; an
 * invalid file gets every problem with its JSON path (API and CLI); an experiment
 * affecting more nodes than the blast-radius limit is refused with the reason.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ExperimentReport } from '../../core/experiments/experiment-views';
import { type TestServer, callApi, startTestServer, waitFor } from '../helpers/server-harness';

/** Runs the chaos CLI; resolves with its exit code and output. */
function runCli(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/chaos.ts', ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 170_000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}

const reportOf = async (url: string, id: string) => {
  const { payload } = await callApi<ExperimentReport>(url, `/api/experiments/${id}`);
  assert.ok(payload.ok, JSON.stringify(payload));
  return payload.data;
};

describe('experiments against real agents', { timeout: 175_000 }, () => {
  let test: TestServer;
  let scratch: string;
  before(async () => {
    test = await startTestServer({ agents: 6, env: { FAULTLINE_STABILITY_WINDOW_MS: '1000', FAULTLINE_EXPERIMENT_SAMPLE_MS: '500' } });
    scratch = await mkdtemp(path.join(tmpdir(), 'faultline-experiments-'));
    await waitFor('six connected agents with stores', async () => {
      const { payload } = await callApi<{ nodes: { connected: boolean; dataPlane: unknown }[] }>(test.url, '/api/cluster');
      return payload.ok && payload.data.nodes.length === 6 && payload.data.nodes.every((node) => node.connected && node.dataPlane);
    }, 60_000, 200);
  });
  after(async () => {
    await test?.stop();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it('refuses an invalid file with every problem and its JSON path (API and CLI)', async () => {
    const bad = { name: 'bad', nodes: 1, seed: -1, durationMs: 0, faults: [{ kind: 'partition', atMs: 'soon', groups: [['n1']] }], expect: [], experiment: { recoveryWithinMs: -5 } };
    const { status, payload } = await callApi(test.url, '/api/experiments', { method: 'POST', body: { scenario: bad } });
    assert.equal(status, 400);
    assert.ok(!payload.ok);
    for (const where of ['$.nodes', '$.seed', '$.durationMs', '$.faults[0].atMs', '$.faults[0].groups', '$.expect', '$.experiment.recoveryWithinMs']) assert.match(payload.message, new RegExp(where.replace(/[.$[\]]/g, '\\$&')), where);
    const validation = await callApi<{ ok: boolean; issues: { path: string }[] }>(test.url, '/api/experiments/validate', { method: 'POST', body: { scenario: bad } });
    assert.ok(validation.payload.ok);
    assert.equal(validation.payload.data.ok, false);
    assert.ok(validation.payload.data.issues.length >= 7, JSON.stringify(validation.payload.data.issues));
    const file = path.join(scratch, 'bad.json');
    await writeFile(file, JSON.stringify(bad));
    const cli = await runCli(['run', file, '--target', test.url, '--token', test.adminToken]);
    assert.equal(cli.code, 2, cli.stderr);
    assert.match(cli.stderr, /\$\.faults\[0\]\.atMs: /);
    assert.match(cli.stderr, /\$\.experiment\.recoveryWithinMs: /);
  });

  it('refuses an experiment past the blast-radius limit, with the reason', async () => {
    const wide = { name: 'wide', nodes: 6, seed: 1, durationMs: 10_000, faults: ['n1', 'n2', 'n3', 'n4'].map((node) => ({ kind: 'isolate', nodes: [node], atMs: 1000, untilMs: 5000 })), expect: [{ kind: 'healed', afterMs: 5000, withinMs: 5000 }] };
    const { status, payload } = await callApi(test.url, '/api/experiments', { method: 'POST', body: { scenario: wide } });
    assert.equal(status, 400);
    assert.ok(!payload.ok);
    assert.match(payload.message, /blast radius: 4 of 6 nodes affected \(67 %.*above the limit of 50 %/);
    const current = await callApi(test.url, '/api/experiments/current');
    assert.deepEqual(current.payload, { ok: true, data: null });
  });

  it('runs split-halves from the CLI, refuses a second experiment meanwhile, and stores the verdicts', async () => {
    const cli = runCli(['run', 'scenarios/split-halves.json', '--target', test.url, '--token', test.adminToken]);
    const progress = await waitFor('the experiment to be running', async () => {
      const { payload } = await callApi<{ runId: string } | null>(test.url, '/api/experiments/current');
      return payload.ok ? payload.data : null;
    }, 30_000, 100);
    const second = await callApi(test.url, '/api/experiments', { method: 'POST', body: { name: 'isolate-one' } });
    assert.equal(second.status, 409);
    assert.ok(!second.payload.ok);
    assert.match(second.payload.message, new RegExp(`experiment ${progress.runId} \\(split-halves\\) is running`));
    const plain = await callApi(test.url, '/api/scenarios/isolate-one/start', { method: 'POST', body: {} });
    assert.equal(plain.status, 409);
    const { code, stdout, stderr } = await cli;
    const report = await reportOf(test.url, progress.runId);
    process.stdout.write(`# split-halves on 6 real agents: ${report.status}; ${report.verdictDetails.map((verdict) => `${verdict.validator} ${verdict.outcome} (${verdict.summary})`).join('; ')}\n`);
    assert.deepEqual(report.verdictDetails.map((verdict) => verdict.validator), ['detection', 'consistency', 'availability', 'recovery', 'tripwires']);
    assert.equal(code, report.status === 'passed' ? 0 : 1, `${stdout}\n${stderr}`);
    for (const verdict of report.verdictDetails) assert.match(stdout, new RegExp(`${verdict.outcome.toUpperCase()}\\s+${verdict.validator}: `));
    const detection = report.verdictDetails.find((verdict) => verdict.validator === 'detection')!;
    assert.equal(detection.outcome, 'pass', JSON.stringify(detection));
    assert.equal(report.verdictDetails.find((verdict) => verdict.validator === 'recovery')!.outcome, 'pass');
    assert.equal(report.verdictDetails.find((verdict) => verdict.validator === 'consistency')!.outcome, 'pass', JSON.stringify(report.verdictDetails[1]));
    assert.ok(report.partitionIds.length >= 1, 'the partition it caused is linked');
    assert.ok(report.samples.length > 10 && report.steps.every((step) => step.appliedAtMs !== null));
    assert.ok(report.events.some((event) => event.kind === 'partition-recorded'));
    const junit = await fetch(`${test.url}/api/experiments/${progress.runId}/export?format=junit`, { headers: { authorization: `Bearer ${test.adminToken}` } });
    assert.match(await junit.text(), /<testcase classname="faultline.experiment.split-halves" name="detection">/);
  });

  it('fails the detection verdict when the expectation is wrong, and the CLI exits non-zero', async () => {
    const scenario = JSON.parse(await readFile('scenarios/split-halves.json', 'utf8')) as Record<string, unknown>;
    Object.assign(scenario, { name: 'wrong-expectation', durationMs: 8_000, faults: [{ kind: 'partition', groups: [['n1', 'n2', 'n3'], ['n4', 'n5', 'n6']], atMs: 1000, untilMs: 6000 }], experiment: { expect: { type: 'complete', sides: [5, 1] }, detectionWithinMs: 8000 } });
    delete scenario.$schema;
    const file = path.join(scratch, 'wrong.json');
    await writeFile(file, JSON.stringify(scenario));
    const { code, stdout } = await runCli(['run', file, '--target', test.url, '--token', test.adminToken]);
    assert.equal(code, 1, stdout);
    assert.match(stdout, /FAIL\s+detection: not recorded as expected within 8000 ms: /);
    const id = /experiment ([0-9a-f-]{36})/.exec(stdout)![1]!;
    const report = await reportOf(test.url, id);
    assert.equal(report.status, 'failed');
    assert.equal(report.verdictDetails[0]!.outcome, 'fail');
    const listed = await callApi<{ id: string; status: string }[]>(test.url, '/api/experiments');
    assert.ok(listed.payload.ok && listed.payload.data.some((run) => run.id === id && run.status === 'failed'));
    const coverage = await callApi<{ shapes: { shape: string; runs: number; last: { status: string } | null }[] }>(test.url, '/api/experiments/coverage');
    assert.ok(coverage.payload.ok);
    const halves = coverage.payload.data.shapes.find((shape) => shape.shape === 'halves')!;
    assert.equal(halves.runs, 2);
    assert.equal(halves.last?.status, 'failed');
  });
});
