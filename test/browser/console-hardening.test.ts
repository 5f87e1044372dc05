/**
 * The console's holes closed, in real headless Chromium against a real server,
 * real PostgreSQL and 64 reporting agents (the real ServerLink over Socket.IO), so
 * the overview draws its topology in WebGL:
 * (1) the WebGL topology is reached with Tab, walked with the arrow keys and a
 *     node picked with Enter, and the overview and the chaos panel pass axe-core
 *     with no serious or critical violation;
 * (2) the chaos panel offers every scenario of `scenarios/` (from the API) and
 *     starts one on the live agents;
 * (3) after the server restarts on the same port, the open page says it is
 *     reconnecting, then shows the current state (an agent that joined after the
 *     restart) without a reload, even though the restarted server refused its
 *     first handshakes (its session query failing for a few seconds, as while a
 *     database comes back), which socket.io-client never retries by itself.
 * Needs `npx next build` first.
 */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { after, before, describe, test } from 'node:test';
import { PrismaPg } from '@prisma/adapter-pg';
import { type Browser, type Page, chromium } from 'playwright-core';
import { PrismaClient } from '../../generated/prisma/client';
import { type LoadAgent, startLoadAgent } from '../helpers/load-agent';
import { signInThroughForm } from '../helpers/sign-in-page';
import { type TestServer, callApi, startTestServer, testAdminPassword, waitFor } from '../helpers/server-harness';

const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const chromiumArgs = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const axePath = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
const clusterId = 'big';
/** Above the topology's 60-node SVG limit, so it draws in WebGL (sigma.js). */
const agentCount = 64;
const agentIds = Array.from({ length: agentCount }, (_, index) => `edge-${index + 1}`);
/** Most Tab presses to reach the topology from the top of the page. */
const tabsMax = 80;

const catalogNames = readdirSync('scenarios')
  .filter((name) => name.endsWith('.json') && !name.endsWith('.schema.json'))
  .map((file) => (JSON.parse(readFileSync(`scenarios/${file}`, 'utf8')) as { name: string }).name)
  .sort();

/** Violations of impact serious or critical that axe-core finds on the page, as readable lines. */
async function seriousViolations(page: Page): Promise<string[]> {
  await page.addScriptTag({ path: axePath });
  // Sent as source text: tsx would wrap a function argument in helpers the page does not have.
  const violations = (await page.evaluate(`axe.run(document, { resultTypes: ['violations'] }).then((result) => result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, targets: v.nodes.slice(0, 3).map((node) => node.target.join(' ')) })))`)) as {
    id: string;
    impact: string | null;
    help: string;
    targets: string[];
  }[];
  return violations.filter((violation) => violation.impact === 'serious' || violation.impact === 'critical').map((violation) => `${violation.impact} ${violation.id}: ${violation.help} (${violation.targets.join(', ')})`);
}

describe('console hardening in Chromium', () => {
  let server: TestServer;
  let restarted: TestServer | null = null;
  let browser: Browser;
  let page: Page;
  const agents: LoadAgent[] = [];

  const issue = async (target: TestServer, agentId: string) => (await target.server.credentials.issue({ clusterId, agentId, createdBy: 'test' })).token;
  const startAgent = async (target: TestServer, agentId: string, peers: string[], token?: string) => {
    agents.push(await startLoadAgent({ serverUrl: target.url, token: token ?? (await issue(target, agentId)), clusterId, agentId, peers, intervalMs: 1000 }));
  };
  const nodesNow = async (target: TestServer) => {
    const answer = await callApi<{ nodes: { id: string; stale: boolean }[] }>(target.url, `/api/cluster?clusterId=${clusterId}`);
    return answer.payload.ok ? answer.payload.data.nodes : [];
  };

  before(async () => {
    server = await startTestServer({ web: true });
    // Every credential first, so that no agent names a peer that is not a member yet.
    const tokens = new Map<string, string>();
    for (const agentId of agentIds) tokens.set(agentId, await issue(server, agentId));
    for (const agentId of agentIds) await startAgent(server, agentId, agentIds.filter((id) => id !== agentId), tokens.get(agentId));
    await waitFor(`${agentCount} agents reporting`, async () => {
      const nodes = await nodesNow(server);
      return nodes.length === agentCount && nodes.every((node) => !node.stale);
    }, 30_000, 250);
    browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumArgs });
    const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
    page = await context.newPage();
    page.on('pageerror', (error) => process.stderr.write(`page error: ${error.message}\n`));
    await signInThroughForm(page, server.url, 'admin', testAdminPassword);
  });

  after(async () => {
    await browser?.close();
    await Promise.all(agents.map((agent) => agent.close()));
    await restarted?.stop();
    await server?.stop();
  });

  test('the WebGL topology is reached and picked with the keyboard; axe finds nothing serious', async () => {
    const topology = page.locator('[data-testid="topology"][data-renderer="webgl"]');
    await topology.waitFor();
    await page.locator('[data-testid="connection"][data-status="live"]').waitFor();
    let reached = false;
    for (let presses = 0; presses < tabsMax && !reached; presses += 1) {
      await page.keyboard.press('Tab');
      reached = (await page.evaluate(`document.activeElement?.getAttribute('data-renderer')`)) === 'webgl';
    }
    assert.ok(reached, `Tab never reached the WebGL topology in ${tabsMax} presses`);
    await page.keyboard.press('ArrowRight');
    assert.equal(await topology.getAttribute('data-active-node'), 'edge-1');
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('ArrowRight');
    assert.equal(await topology.getAttribute('data-active-node'), 'edge-3', 'ids in numeric order');
    assert.equal(await topology.getAttribute('aria-activedescendant'), 'topology-node-edge-3');
    await page.keyboard.press('End');
    await page.keyboard.press('PageUp');
    assert.equal(await topology.getAttribute('data-active-node'), 'edge-54');
    await page.keyboard.press('Enter');
    await page.getByTestId('evidence-panel').locator('dd', { hasText: /^edge-54$/ }).waitFor();
    assert.equal(await page.getByTestId('node-option-edge-54').getAttribute('aria-selected'), 'true');
    await page.keyboard.press('Escape');
    await page.getByTestId('evidence-panel').locator('dd', { hasText: /^edge-54$/ }).waitFor({ state: 'detached' });
    assert.deepEqual(await seriousViolations(page), [], 'overview');
    await page.goto(`${server.url}/chaos`);
    await page.getByTestId(`scenario-${catalogNames[0]}`).waitFor();
    assert.deepEqual(await seriousViolations(page), [], 'chaos panel');
  });

  test('the chaos panel offers the whole catalog and starts a scenario on the live agents', async () => {
    if (!page.url().endsWith('/chaos')) await page.goto(`${server.url}/chaos`);
    await page.getByTestId(`scenario-${catalogNames.at(-1)}`).waitFor();
    const offered = await page.locator('[data-testid^="scenario-"]').evaluateAll((buttons) => buttons.map((button) => button.getAttribute('data-testid')!.slice('scenario-'.length)));
    assert.deepEqual([...offered].sort(), catalogNames);
    await page.getByTestId('scenario-one-way').click();
    await page.getByText(/scenario one-way for 20 s on n1=edge-1, n2=edge-2/).waitFor();
    const running = await callApi<{ scenario: string } | null>(server.url, `/api/scenarios/run?clusterId=${clusterId}`);
    assert.ok(running.payload.ok && running.payload.data?.scenario === 'one-way');
    await page.getByTestId('chaos-heal-all').click();
    await waitFor('the run ended by heal everything', async () => {
      const answer = await callApi(server.url, `/api/scenarios/run?clusterId=${clusterId}`);
      return answer.payload.ok && answer.payload.data === null;
    });
  });

  test('after a server restart the page says it is reconnecting, then shows the current state without a reload', async () => {
    await page.goto(`${server.url}/`);
    await page.locator('[data-testid="connection"][data-status="live"]').waitFor();
    await page.evaluate('window.__faultlineNoReload = true');
    const port = server.server.port;
    await server.server.close();
    await page.locator('[data-testid="connection"][data-status="reconnecting"]').waitFor({ timeout: 10_000 });
    // The database owner hides the sessions' table: the restarted server's handshake check fails (refused, not unreachable).
    const owner = new PrismaClient({ adapter: new PrismaPg({ connectionString: server.database!.url }) });
    await owner.$executeRawUnsafe('ALTER TABLE "Session" RENAME TO "SessionHidden"');
    try {
      restarted = await startTestServer({ web: true, reuseDatabase: server.database!, dataDir: server.dataDir, env: { PORT: String(port) } });
      // A node that exists only since the restart: the page can show it only from the new server.
      await startAgent(restarted, 'edge-65', agentIds);
      await page.waitForTimeout(4000);
      assert.equal(await page.getByTestId('connection').getAttribute('data-status'), 'reconnecting', 'refused while the sessions cannot be read');
    } finally {
      await owner.$executeRawUnsafe('ALTER TABLE "SessionHidden" RENAME TO "Session"');
      await owner.$disconnect();
    }
    await page.locator('[data-testid="connection"][data-status="live"]').waitFor({ timeout: 30_000 });
    await page.locator('[data-testid="topology"][aria-label*="65 nodes"]').waitFor({ timeout: 30_000 });
    assert.equal(await page.evaluate('window.__faultlineNoReload === true'), true, 'the page was not reloaded');
  });
});
