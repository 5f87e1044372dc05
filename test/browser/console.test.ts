/**
 * The console's four flows in real headless Chromium against a real server, real
 * PostgreSQL and five real demo agents on loopback UDP: (1) the topology changes
 * when a link is cut (and how long that took is printed), (2) an operator
 * acknowledges an alert with a note, (3) an operator approves a manual recovery,
 * (4) history is browsed, sorted, paged and a partition opened. And: a viewer sees
 * no action buttons and, when it calls the API anyway from its own signed-in
 * page, the server refuses. Screenshots of each page go to artifacts/screenshots/.
 * Needs `npm run build` first (the test script runs it).
 */
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type Browser, type BrowserContext, type Page, chromium } from 'playwright-core';
import { type TestServer, callApi, startTestServer, testAdminPassword, waitFor } from '../helpers/server-harness';

const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const chromiumArgs = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const screenshotDir = path.resolve('artifacts/screenshots');
/**
 * The target (a cut in the demo appears on the open page within 1 s at the demo
 * profile, 250 ms heartbeats) is measured and printed here, not asserted: a timed
 * assertion on a shared 2-core machine would flake. The test asserts that the cut
 * shows at all.
 */
const cutToPageTargetMs = 1000;
/** Cuts measured (cut, watch, heal) to take a median rather than one noisy sample. */
const cutMeasurements = 3;

const users = { operator: { name: 'olga', password: 'olga-password-1' }, viewer: { name: 'victor', password: 'victor-password-1' } };

describe('operator console in Chromium', () => {
  let server: TestServer;
  let browser: Browser;
  let partitionId: string;

  async function signedInPage(user: { name: string; password: string }, theme: 'light' | 'dark' = 'light'): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser.newContext({ viewport: { width: 1400, height: 1000 }, timezoneId: 'Europe/Berlin', colorScheme: theme });
    const page = await context.newPage();
    page.on('pageerror', (error) => process.stderr.write(`page error: ${error.message}\n`));
    await page.goto(`${server.url}/`);
    await page.waitForURL(/\/sign-in/);
    await page.getByTestId('sign-in-name').fill(user.name);
    await page.getByTestId('sign-in-password').fill(user.password);
    await page.getByTestId('sign-in-submit').click();
    await page.waitForURL(`${server.url}/`);
    await page.getByTestId('whoami').waitFor();
    return { context, page };
  }

  const shoot = (page: Page, name: string) => page.screenshot({ path: path.join(screenshotDir, `${name}.png`), fullPage: true });

  before(async () => {
    await mkdir(screenshotDir, { recursive: true });
    server = await startTestServer({ web: true, agents: 5, env: { FAULTLINE_DEMO_HEARTBEAT_MS: '250' } });
    for (const [role, user] of Object.entries(users)) {
      const created = await callApi(server.url, '/api/users', { method: 'POST', body: { ...user, role } });
      assert.ok(created.payload.ok, JSON.stringify(created.payload));
    }
    browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumArgs });
    await waitFor('five agents reporting', async () => {
      const cluster = await callApi<{ nodes: { stale: boolean }[] }>(server.url, '/api/cluster?clusterId=demo');
      return cluster.payload.ok && cluster.payload.data.nodes.length === 5 && cluster.payload.data.nodes.every((node) => !node.stale);
    });
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  test('sign-in refuses a wrong password and shows why', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${server.url}/sign-in`);
    await page.getByTestId('sign-in-name').fill('admin');
    await page.getByTestId('sign-in-password').fill('not-the-password');
    await page.getByTestId('sign-in-submit').click();
    await page.getByTestId('sign-in-error').waitFor();
    assert.match((await page.getByTestId('sign-in-error').textContent()) ?? '', /wrong name or password/);
    await shoot(page, '00-sign-in');
    await context.close();
  });

  test('flow 1: the topology changes when a link is cut', async () => {
    const { context, page } = await signedInPage(users.operator);
    await page.locator('[data-testid="connection"][data-status="live"]').waitFor();
    await page.locator('[data-testid="link-node-1|node-2"][data-state="up"]').waitFor();
    await shoot(page, '01-overview-whole');
    const link = (state: string) => page.locator(`[data-testid="link-node-1|node-2"][data-state="${state}"]`);
    const measuredMs: number[] = [];
    for (let attempt = 0; attempt < cutMeasurements; attempt += 1) {
      if (attempt > 0) {
        assert.ok((await callApi(server.url, '/api/faults/heal', { method: 'POST', body: {} })).payload.ok);
        await link('up').waitFor({ timeout: 15_000 });
        await page.waitForTimeout(1500);
      }
      const startedAt = performance.now();
      const cut = await callApi(server.url, '/api/faults/cut', { method: 'POST', body: { from: 'node-1', to: 'node-2' } });
      assert.ok(cut.payload.ok, JSON.stringify(cut.payload));
      await link('down').waitFor({ timeout: 10_000 });
      measuredMs.push(Math.round(performance.now() - startedAt));
    }
    const medianMs = [...measuredMs].sort((a, b) => a - b)[Math.floor(measuredMs.length / 2)]!;
    process.stdout.write(`# measured (demo profile, 250 ms heartbeats): link cut → page shows it down: ${measuredMs.join(', ')} ms; median ${medianMs} ms (target ${cutToPageTargetMs} ms)\n`);
    await page.locator('[data-testid="cluster-state"]', { hasText: 'partitioned' }).waitFor({ timeout: 10_000 });
    await page.locator('[data-testid="cell-node-1-node-2"][data-state="down"]').waitFor();
    await page.locator('[data-testid="link-node-1|node-2"]').click();
    await page.getByTestId('evidence-panel').getByText('node-1 ↔ node-2').waitFor();
    await page.getByTestId('viewpoint').selectOption('node-1');
    await page.getByTestId('lifecycle-state').waitFor({ timeout: 10_000 });
    await page.locator('[data-testid="state-diagram"][data-drawn="true"]').waitFor();
    await shoot(page, '02-overview-cut');
    partitionId = await waitFor('the partition to be recorded', () => server.server.service.findCluster('demo')?.activePartition?.id);
    await context.close();
  });

  test('flow 2: an operator acknowledges an alert with a note', async () => {
    const alert = await server.server.console.alerts.raise({ clusterId: 'demo', partitionId, rule: 'partition-detected', severity: 'critical', title: 'Partition between node-1 and node-2' });
    const { context, page } = await signedInPage(users.operator);
    await page.goto(`${server.url}/alerts`);
    const row = page.locator(`[data-testid="alert-row"][data-alert-id="${alert.id}"]`);
    await row.waitFor();
    await shoot(page, '03-alerts-firing');
    await row.getByTestId('ack-open').click();
    await row.getByTestId('ack-note').fill('Looking at the switch between rack 1 and 2');
    await row.getByTestId('ack-submit').click();
    await page.locator(`[data-testid="alert-row"][data-alert-id="${alert.id}"][data-status="acknowledged"]`).waitFor();
    assert.match((await row.getByTestId('ack-by').textContent()) ?? '', /olga.*Looking at the switch/s);
    const stored = await server.server.database.prisma.alert.findUniqueOrThrow({ where: { id: alert.id } });
    assert.deepEqual([stored.status, stored.acknowledgedBy, stored.note], ['acknowledged', 'olga', 'Looking at the switch between rack 1 and 2']);
    await shoot(page, '04-alerts-acknowledged');
    await context.close();
  });

  test('flow 3: an operator approves a manual recovery', async () => {
    // A recorded complete partition (3 | 2) that the lifecycle runner does not drive, so
    // the run stays where the operator puts it; the run itself goes through the service.
    // The database keeps one open partition per cluster: flow 1's is healed and closed first.
    assert.ok((await callApi(server.url, '/api/faults/heal', { method: 'POST', body: {} })).payload.ok);
    await waitFor('flow 1\'s partition closed', async () => (await server.server.database.prisma.partition.count({ where: { clusterId: 'demo', endedAt: null } })) === 0, 90_000, 250);
    const recorded = await server.server.database.prisma.partition.create({
      data: {
        clusterId: 'demo',
        type: 'complete',
        state: 'EmergencyMode',
        startedAt: new Date(Date.now() - 120_000),
        detail: { components: [['node-1', 'node-2', 'node-3'], ['node-4', 'node-5']], cutLinks: [], majorityIndex: 0 },
        nodeIds: ['node-4', 'node-5'],
      },
    });
    const run = await server.server.console.recovery.request({ partitionId: recorded.id, strategy: 'manual', requestedBy: 'system' });
    const { context, page } = await signedInPage(users.operator);
    await page.goto(`${server.url}/recovery`);
    const card = page.locator(`[data-testid="recovery-run"][data-run-id="${run.id}"]`);
    await card.getByTestId('dry-run').waitFor();
    assert.match((await card.getByTestId('dry-run').textContent()) ?? '', /3 of 5 nodes/);
    await shoot(page, '05-recovery-pending');
    await card.getByTestId('recovery-reason').fill('Majority side intact, data checked');
    await card.getByTestId('recovery-approve').click();
    await page.locator(`[data-testid="recovery-run"][data-run-id="${run.id}"][data-status="approved"]`).waitFor();
    const stored = await server.server.database.prisma.recoveryRun.findUniqueOrThrow({ where: { id: run.id } });
    assert.deepEqual([stored.status, stored.decidedBy, stored.reason], ['approved', 'olga', 'Majority side intact, data checked']);
    await shoot(page, '06-recovery-approved');
    await context.close();
  });

  test('flow 4: browse the history and open a partition', async () => {
    const prisma = server.server.database.prisma;
    const base = Date.now() - 6 * 3_600_000;
    for (let index = 0; index < 40; index += 1) {
      await prisma.partition.create({
        data: {
          clusterId: 'demo',
          type: ['complete', 'partial', 'asymmetric'][index % 3]!,
          state: 'Normal',
          startedAt: new Date(base + index * 300_000),
          endedAt: new Date(base + index * 300_000 + (index + 1) * 7000),
          detail: { components: [['node-1', 'node-2', 'node-3'], ['node-4', 'node-5']], cutLinks: [], majorityIndex: 0 },
          nodeIds: ['node-4', 'node-5'],
          outcome: index % 4 === 0 ? 'recovered' : 'healed',
          recoveryMs: index % 4 === 0 ? 2000 + index * 100 : null,
          divergenceMax: (index % 10) / 100,
          events: { create: [{ at: new Date(base + index * 300_000), kind: 'detected', state: 'PartitionDetected', cause: 'classified complete' }] },
        },
      });
    }
    const partialCount = await prisma.partition.count({ where: { type: 'partial' } });
    const { context, page } = await signedInPage(users.operator, 'dark');
    await page.goto(`${server.url}/history`);
    await page.getByTestId('history-table').waitFor();
    assert.match((await page.getByTestId('history-total').textContent()) ?? '', /^4\d partitions/);
    await page.getByTestId('sort-duration').click();
    await page.waitForURL(/sort=duration/);
    await page.getByTestId('page-next').click();
    await page.getByTestId('page-label').getByText('Page 2').waitFor();
    await page.getByTestId('filter-type').selectOption('partial');
    await page.waitForURL(/type=partial/);
    await page.locator('[data-testid="history-total"]', { hasText: `${partialCount} partitions` }).waitFor();
    await shoot(page, '07-history');
    const csvHref = (await page.getByTestId('export-csv').getAttribute('href'))!;
    const csv = (await page.evaluate(`fetch(${JSON.stringify(csvHref)}).then((response) => response.text())`)) as string;
    assert.equal(csv.trim().split('\r\n').length, partialCount + 1, 'CSV has a header and the filtered rows');
    await page.getByTestId('history-open').first().click();
    await page.waitForURL(/\/history\/[0-9a-f-]{36}$/);
    await page.getByTestId('partition-title').waitFor();
    await page.getByTestId('state-diagram').locator('svg').first().waitFor();
    await page.getByTestId('chart-reachability').waitFor();
    await shoot(page, '08-partition-page');
    await page.goto(`${server.url}/history/${partitionId}`);
    await page.getByTestId('chart-reachability').locator('svg.recharts-surface[role="application"]').waitFor({ timeout: 10_000 });
    await shoot(page, '09-partition-live');
    await context.close();
  });

  test('a viewer sees no action and the server refuses acknowledge and approve', async () => {
    // Partition-less, so it is firing: the partition's one incident was acknowledged in flow 2.
    const alert = await server.server.console.alerts.raise({ clusterId: 'demo', partitionId: null, rule: 'viewer-check', severity: 'warning', title: 'Viewer check' });
    const pending = await server.server.console.recovery.request({ partitionId: (await server.server.database.prisma.partition.findFirstOrThrow({ where: { endedAt: { not: null } } })).id, strategy: 'manual', requestedBy: 'system' });
    const { context, page } = await signedInPage(users.viewer);
    await page.goto(`${server.url}/alerts`);
    const row = page.locator(`[data-testid="alert-row"][data-alert-id="${alert.id}"]`);
    await row.waitFor();
    assert.equal(await row.getByTestId('ack-open').count(), 0, 'no acknowledge button for a viewer');
    await shoot(page, '10-alerts-viewer');
    // Sent as source text: tsx would wrap a function argument in helpers the page does not have.
    const refused = (await page.evaluate(`(async () => {
      const session = await (await fetch('/api/auth/session')).json();
      const post = async (url, body) => {
        const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-csrf-token': session.data.csrfToken }, body: JSON.stringify(body) });
        return { status: response.status, body: await response.json() };
      };
      return {
        acknowledge: await post('/api/alerts/${alert.id}/acknowledge', { note: 'I should not be able to' }),
        approve: await post('/api/recovery/${pending.id}/approve', { reason: 'nor this' }),
        cut: await post('/api/faults/heal', {}),
      };
    })()`)) as Record<'acknowledge' | 'approve' | 'cut', { status: number; body: { code: string } }>;
    assert.deepEqual([refused.acknowledge.status, refused.acknowledge.body.code], [403, 'forbidden']);
    assert.deepEqual([refused.approve.status, refused.approve.body.code], [403, 'forbidden']);
    assert.equal(refused.cut.status, 403);
    assert.equal((await server.server.database.prisma.alert.findUniqueOrThrow({ where: { id: alert.id } })).status, 'firing');
    assert.equal((await server.server.database.prisma.recoveryRun.findUniqueOrThrow({ where: { id: pending.id } })).status, 'pending-approval');
    await page.goto(`${server.url}/recovery`);
    await page.locator(`[data-testid="recovery-run"][data-run-id="${pending.id}"]`).waitFor();
    assert.equal(await page.getByTestId('recovery-approve').count(), 0, 'no approve button for a viewer');
    await shoot(page, '11-recovery-viewer');
    await context.close();
  });

  test('admin pages and the chaos panel render', async () => {
    const { context, page } = await signedInPage({ name: 'admin', password: testAdminPassword });
    await page.goto(`${server.url}/admin`);
    await page.getByTestId('audit-log').waitFor();
    assert.match((await page.getByTestId('audit-log').textContent()) ?? '', /alert\.acknowledge/);
    await shoot(page, '12-admin');
    await page.goto(`${server.url}/chaos`);
    await page.getByTestId('topology').waitFor();
    await page.getByTestId('chaos-heal-all').click();
    await page.locator('[data-testid="link-node-1|node-2"][data-state="up"]').waitFor({ timeout: 10_000 });
    await shoot(page, '13-chaos');
    await context.close();
  });
});
