/**
 * What the browser tests share: Chromium launched as STACK-NOTES says, a signed-in
 * page per user and theme, screenshots into test-artifacts/<suite>/, the theme
 * switched on a live page, and a text-contrast check (axe-core's color-contrast rule
 * plus a computed-style check of every text node, so it covers whatever text a
 * matrix cell holds).
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import axe from 'axe-core';
import { type Browser, type BrowserContext, type Page, chromium } from 'playwright-core';
import type { PartitionSummary } from '../../core/realtime-contract';
import { type TestServer, callApi, startTestServer, waitFor } from './server-harness';

const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const chromiumArgs = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** WCAG AA contrast for normal-size text. */
export const contrastRatioMin = 4.5;

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath, args: chromiumArgs });
}

/** A page signed in as `user` at `baseUrl`, in `theme`. */
export async function signedInPage(browser: Browser, baseUrl: string, user: { name: string; password: string }, theme: 'light' | 'dark' = 'light'): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: { width: 1400, height: 1000 }, timezoneId: 'Europe/Berlin', colorScheme: theme });
  const page = await context.newPage();
  page.on('pageerror', (error) => process.stderr.write(`page error: ${error.message}\n`));
  await page.goto(`${baseUrl}/`);
  await page.waitForURL(/\/sign-in/);
  await page.getByTestId('sign-in-name').fill(user.name);
  await page.getByTestId('sign-in-password').fill(user.password);
  await page.getByTestId('sign-in-submit').click();
  await page.waitForURL(`${baseUrl}/`);
  await page.getByTestId('whoami').waitFor();
  return { context, page };
}

/** Screenshots of one suite, under test-artifacts/<suite>/ (git-ignored). */
export async function artifactShooter(suite: string): Promise<(page: Page, name: string) => Promise<string>> {
  const directory = path.resolve('test-artifacts', suite);
  await mkdir(directory, { recursive: true });
  return async (page, name) => {
    const file = path.join(directory, `${name}.png`);
    await page.screenshot({ path: file, fullPage: true });
    return file;
  };
}

/** Switches the theme of an open page the way the header's toggle does. */
export async function setTheme(page: Page, theme: 'light' | 'dark'): Promise<void> {
  await page.evaluate(`document.documentElement.dataset.theme = ${JSON.stringify(theme)}; localStorage.setItem('faultline-theme', ${JSON.stringify(theme)});`);
}

/** One piece of text whose contrast was measured. */
export interface TextContrast {
  /** The cell (its data-testid) or element holding the text. */
  where: string;
  text: string;
  ratio: number;
}

/**
 * Contrast of every non-empty text node inside `selector`: its element's computed
 * colour against the first opaque background up its ancestors (alpha blended).
 */
export async function measureTextContrast(page: Page, selector: string): Promise<TextContrast[]> {
  // Plain JavaScript in a string: tsx's helpers (`__name`) do not exist in the page.
  return (await page.evaluate(`(${measureScript})(${JSON.stringify(selector)})`)) as TextContrast[];
}

const measureScript = `function (root) {
  const parse = (value) => {
    const parts = ((/rgba?\\(([^)]+)\\)/.exec(value) || [])[1] || '0,0,0,0').split(/[\\s,/]+/).filter(Boolean).map(Number);
    return { r: parts[0] || 0, g: parts[1] || 0, b: parts[2] || 0, a: parts[3] === undefined ? 1 : parts[3] };
  };
  const blend = (top, under) => ({ r: top.r * top.a + under.r * (1 - top.a), g: top.g * top.a + under.g * (1 - top.a), b: top.b * top.a + under.b * (1 - top.a), a: 1 });
  const channel = (value) => { const v = value / 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
  const luminance = (c) => 0.2126 * channel(c.r) + 0.7152 * channel(c.g) + 0.0722 * channel(c.b);
  const background = (element) => {
    const layers = [];
    for (let at = element; at; at = at.parentElement) {
      const colour = parse(getComputedStyle(at).backgroundColor);
      if (colour.a > 0) layers.push(colour);
      if (colour.a >= 1) break;
    }
    return layers.reduceRight((under, top) => blend(top, under), { r: 255, g: 255, b: 255, a: 1 });
  };
  const results = [];
  for (const container of document.querySelectorAll(root)) {
    const walker = document.createTreeWalker(container, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const text = (node.textContent || '').trim();
      const element = node.parentElement;
      if (!text || !element) continue;
      const under = background(element);
      const fore = blend(parse(getComputedStyle(element).color), under);
      const [light, dark] = [luminance(fore), luminance(under)].sort((a, b) => b - a);
      const cell = element.closest('[data-testid]');
      results.push({ where: cell ? cell.getAttribute('data-testid') : element.tagName, text, ratio: Math.round(((light + 0.05) / (dark + 0.05)) * 100) / 100 });
    }
  }
  return results;
}`;

/** axe-core's color-contrast violations inside `selector` (axe-core injected into the page once). */
export async function axeContrastViolations(page: Page, selector: string): Promise<{ id: string; targets: string[]; summary: string }[]> {
  if (!(await page.evaluate('"axe" in window'))) await page.addScriptTag({ content: axe.source });
  const script = `axe.run({ include: [${JSON.stringify(selector)}] }, { runOnly: { type: 'rule', values: ['color-contrast'] }, resultTypes: ['violations'] })
    .then((result) => result.violations.flatMap((violation) => violation.nodes.map((node) => ({ id: violation.id, targets: node.target.map(String), summary: node.failureSummary || '' }))))`;
  return (await page.evaluate(script)) as { id: string; targets: string[]; summary: string }[];
}

/** The operator the console suites sign in as. */
export const suiteOperator = { name: 'olga', password: 'olga-password-1' };

/** A console suite's server (web, five demo agents reporting, the operator created) and Chromium. */
export async function startConsoleSuite(env: Record<string, string>): Promise<{ server: TestServer; browser: Browser }> {
  const server = await startTestServer({ web: true, agents: 5, env: { FAULTLINE_DEMO_HEARTBEAT_MS: '250', ...env } });
  const created = await callApi(server.url, '/api/users', { method: 'POST', body: { ...suiteOperator, role: 'operator' } });
  if (!created.payload.ok) throw new Error(`operator not created: ${JSON.stringify(created.payload)}`);
  const browser = await launchChromium();
  await waitFor('five agents reporting', async () => {
    const cluster = await callApi<{ nodes: { stale: boolean }[] }>(server.url, '/api/cluster?clusterId=demo');
    return cluster.payload.ok && cluster.payload.data.nodes.length === 5 && cluster.payload.data.nodes.every((node) => !node.stale);
  }, 60_000);
  return { server, browser };
}

/** The demo cluster's open partition, or null. */
export async function activePartitionOf(server: TestServer): Promise<PartitionSummary | null> {
  const cluster = await callApi<{ activePartition: PartitionSummary | null }>(server.url, '/api/cluster?clusterId=demo');
  return cluster.payload.ok ? cluster.payload.data.activePartition : null;
}
