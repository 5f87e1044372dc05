/**
 * Experiments in the console, in real headless Chromium against a real server,
 * real PostgreSQL and five real demo agents: an admin starts a catalog scenario
 * as an experiment from the chaos page, watches its progress (phase, steps, time
 * left, what the server sees), opens its report (a verdict per validator, the
 * chart), exports it as JSON and JUnit XML, then reproduces the partition it
 * caused from that partition's page (the file downloads and runs as an
 * experiment), and aborts that run, which heals everything. A pasted invalid
 * file lists every problem with its JSON path. Needs `npx next build` first.
 */
import assert from 'node:assert/strict';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type Browser, type Page, chromium } from 'playwright-core';
import type { ExperimentReport } from '../../core/experiments/experiment-views';
import { type TestServer, callApi, startTestServer, testAdminPassword, waitFor } from '../helpers/server-harness';

const chromiumArgs = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const artifacts = path.resolve('test-artifacts/chaos-experiments');

describe('experiments in the console (Chromium)', { timeout: 175_000 }, () => {
  let server: TestServer;
  let browser: Browser;
  let page: Page;
  let runId: string;

  before(async () => {
    await mkdir(artifacts, { recursive: true });
    server = await startTestServer({ web: true, agents: 5, env: { FAULTLINE_DEMO_HEARTBEAT_MS: '250', FAULTLINE_STABILITY_WINDOW_MS: '1000', FAULTLINE_EXPERIMENT_SAMPLE_MS: '500' } });
    browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: chromiumArgs });
    await waitFor('five agents reporting', async () => {
      const cluster = await callApi<{ nodes: { stale: boolean }[] }>(server.url, '/api/cluster?clusterId=demo');
      return cluster.payload.ok && cluster.payload.data.nodes.length === 5 && cluster.payload.data.nodes.every((node) => !node.stale);
    }, 60_000);
    const context = await browser.newContext({ viewport: { width: 1400, height: 1000 }, acceptDownloads: true });
    page = await context.newPage();
    page.on('pageerror', (error) => process.stderr.write(`page error: ${error.message}\n`));
    await page.goto(`${server.url}/sign-in`);
    await page.getByTestId('sign-in-name').fill('admin');
    await page.getByTestId('sign-in-password').fill(testAdminPassword);
    await page.getByTestId('sign-in-submit').click();
    await page.getByTestId('whoami').waitFor();
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  test('a pasted invalid file lists every problem with its JSON path', async () => {
    await page.goto(`${server.url}/chaos`);
    await page.getByTestId('experiment-file').fill(JSON.stringify({ name: 'bad', nodes: 1, seed: 1, durationMs: 10, expect: [], faults: [{ kind: 'isolate', atMs: 'x', nodes: ['n1'] }] }));
    await page.getByTestId('experiment-start-file').click();
    const issues = page.getByTestId('experiment-issues');
    await issues.waitFor();
    const text = (await issues.textContent()) ?? '';
    for (const where of ['$.nodes', '$.expect', '$.faults[0].atMs']) assert.ok(text.includes(where), `${where} in ${text}`);
  });

  test('start an experiment from the chaos page and watch its progress', async () => {
    await page.goto(`${server.url}/chaos`);
    await page.getByTestId('experiment-scenario').selectOption('isolate-one');
    await page.getByTestId('experiment-start').click();
    await page.getByTestId('experiment-progress').waitFor({ timeout: 15_000 });
    assert.match((await page.getByTestId('experiment-time-left').textContent()) ?? '', /faults lifted in \d+ s/);
    await page.getByTestId('experiment-seen').filter({ hasText: 'complete' }).waitFor({ timeout: 30_000 });
    await page.getByTestId('active-faults').waitFor();
    await page.screenshot({ path: path.join(artifacts, '01-progress.png'), fullPage: true });
    await page.getByTestId('experiment-phase').filter({ hasText: /recovery|judging/ }).waitFor({ timeout: 40_000 });
    await page.getByTestId('experiment-progress').waitFor({ state: 'detached', timeout: 90_000 });
    await page.getByTestId('active-faults-none').waitFor();
  });

  test('open its report, with a verdict per validator, and export it', async () => {
    await page.getByTestId('experiment-open').first().click();
    await page.getByTestId('report-title').waitFor();
    runId = page.url().split('/').pop()!;
    for (const validator of ['detection', 'consistency', 'availability', 'recovery', 'tripwires']) await page.getByTestId('report-verdicts').getByTestId(`verdict-${validator}`).waitFor();
    await page.getByTestId('report-chart').locator('svg.recharts-surface').first().waitFor();
    await page.screenshot({ path: path.join(artifacts, '02-report.png'), fullPage: true });
    const [json] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-report-json').click()]);
    const exported = JSON.parse(await readFile((await json.path())!, 'utf8')) as ExperimentReport;
    assert.equal(exported.id, runId);
    assert.equal(exported.verdictDetails.length, 5);
    const [junit] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-report-junit').click()]);
    assert.match(await readFile((await junit.path())!, 'utf8'), /<testsuite name="isolate-one"/);
  });

  test('reproduce the partition it caused from history, and abort that run', async () => {
    const report = await callApi<ExperimentReport>(server.url, `/api/experiments/${runId}`);
    assert.ok(report.payload.ok && report.payload.data.partitionIds.length > 0, JSON.stringify(report.payload));
    await page.goto(`${server.url}/history/${report.payload.data.partitionIds[0]}`);
    await page.getByTestId('reproduce-write').click();
    await page.getByTestId('reproduce-file').waitFor();
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('reproduce-download').click()]);
    const file = JSON.parse(await readFile((await download.path())!, 'utf8')) as { faults: { kind: string; groups?: string[][] }[] };
    assert.equal(file.faults[0]!.kind, 'partition');
    assert.deepEqual(file.faults[0]!.groups!.map((group) => group.length).sort(), [1, 4]);
    await page.getByTestId('reproduce-run').click();
    await page.getByTestId('reproduce-started').waitFor();
    await page.goto(`${server.url}/chaos`);
    await page.getByTestId('experiment-progress').waitFor();
    await page.getByTestId('experiment-abort').click();
    await page.getByTestId('experiment-progress').waitFor({ state: 'detached', timeout: 30_000 });
    await page.getByTestId('active-faults-none').waitFor({ timeout: 10_000 });
    const runs = await callApi<{ scenario: string; status: string }[]>(server.url, '/api/experiments');
    assert.ok(runs.payload.ok);
    assert.equal(runs.payload.data[0]!.status, 'aborted');
    assert.match(runs.payload.data[0]!.scenario, /^reproduce-/);
  });
});
