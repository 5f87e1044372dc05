/**
 * The topology in real headless Chromium (WebGL through SwiftShader), on the
 * harness page that renders the real Topology and EvidencePanel components for the
 * catalog's shapes. Proves, from what the page actually draws (SVG elements'
 * screen positions; for WebGL, sigma's own display data mapped to the viewport):
 * (1) no drawn edge passes within a node radius of a node it does not join, and
 * every edge the layout routes is drawn, for every shape, small ones in SVG and
 * 1,000-node ones in WebGL, in light and dark themes; (2) the legend names each
 * side in the side's own colour; (3) the keyboard focus ring is visible and
 * contrasts at least 3:1 with the halo around it (the panel colour), and sits
 * outside the node, in both themes and both renderers (it was blue on blue);
 * (4) at 1,000 nodes the WebGL topology is reached with Tab, walked with the
 * arrows, a node picked with Enter and another found with the search box, and the
 * evidence panel follows; (5) the WebGL colours follow a theme switch.
 * Screenshots go to artifacts/topology/.
 */
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { type Harness, launchChromium, startHarness } from '../../bench/topology/harness';
import { largeShapes, smallShapes } from '../../bench/topology/shapes';
import { edgesOverNodes } from '../../components/topology/geometry';
import { layoutTopology } from '../../components/topology/layout';
import type { RenderedGeometry } from '../../components/topology/types';

const artifacts = path.resolve('artifacts/topology');
const small = smallShapes();
const large = largeShapes();
/** Least contrast for a focus indicator against what is next to it (WCAG 2.2, 1.4.11 and 2.4.13). */
const focusContrastMin = 3;

/** What the page draws, in viewport pixels, read from the SVG's elements or from sigma. */
function readGeometry(page: Page): Promise<RenderedGeometry> {
  return page.evaluate(() => {
    const webgl = document.querySelector('[data-testid="topology-webgl"]') as (HTMLElement & { topologyGeometry?: () => RenderedGeometry }) | null;
    if (webgl?.topologyGeometry) return webgl.topologyGeometry();
    const svg = document.querySelector('svg[data-testid="topology"]') as SVGSVGElement;
    const matrix = svg.getScreenCTM()!;
    const toScreen = (x: number, y: number) => ({ x: matrix.a * x + matrix.c * y + matrix.e, y: matrix.b * x + matrix.d * y + matrix.f });
    const nodes = [...svg.querySelectorAll('g.topology-node')].map((group) => {
      const dot = group.querySelector('circle.node-dot')!;
      const box = dot.getBoundingClientRect();
      return { id: group.getAttribute('data-testid')!.slice('node-'.length), x: box.x + box.width / 2, y: box.y + box.height / 2, radius: box.width / 2 };
    });
    const edges = [...svg.querySelectorAll('g[data-joins]')].map((group) => {
      const line = group.querySelector('polyline.edge-line') as SVGPolylineElement;
      const points = [...line.points].map((point) => toScreen(point.x, point.y));
      return { key: group.getAttribute('data-testid')!.replace(/^(link|bundle)-/, ''), joins: (group.getAttribute('data-joins') ?? '').split(' ').filter(Boolean), points };
    });
    return { nodes, edges };
  });
}

/** WCAG contrast ratio of two CSS colours as the browser computed them (rgb(…)). */
function contrast(first: string, second: string): number {
  const luminance = (colour: string) => {
    const [r, g, b] = (colour.match(/[\d.]+/g) ?? []).slice(0, 3).map((part) => {
      const channel = Number(part) / 255;
      return channel <= 0.03928 ? channel / 12.92 : ((channel + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
  };
  const [light, dark] = [luminance(first), luminance(second)].sort((a, b) => b - a);
  return (light! + 0.05) / (dark! + 0.05);
}

describe('topology in Chromium', () => {
  let harness: Harness;
  let browser: Browser;
  const pages: Record<'light' | 'dark', Page | null> = { light: null, dark: null };

  before(async () => {
    await mkdir(artifacts, { recursive: true });
    harness = await startHarness();
    browser = await launchChromium();
    for (const theme of ['light', 'dark'] as const) {
      const page = await browser.newPage({ viewport: { width: 1300, height: 900 } });
      // tsx compiles this file keeping function names (a __name helper) inside page.evaluate callbacks too.
      await page.addInitScript('window.__name = (target) => target');
      page.on('pageerror', (error) => process.stderr.write(`page error: ${error.message}\n`));
      await page.goto(harness.url);
      await page.waitForFunction(() => 'topologyHarness' in window);
      await page.evaluate((name) => (window as unknown as { topologyHarness: { theme: (name: string) => void } }).topologyHarness.theme(name), theme);
      pages[theme] = page;
    }
  });

  after(async () => {
    await browser?.close();
    await harness?.close();
  });

  const show = (page: Page, name: string) => page.evaluate((shape) => (window as unknown as { topologyHarness: { show: (name: string) => Promise<number> } }).topologyHarness.show(shape), name);

  for (const theme of ['light', 'dark'] as const) {
    test(`${theme}: every shape drawn with no edge over a node it does not join, and the legend in the sides' colours`, async () => {
      const page = pages[theme]!;
      for (const shape of [...small, ...large]) {
        await show(page, shape.name);
        const renderer = await page.getAttribute('[data-testid="topology"]', 'data-renderer');
        assert.equal(renderer, shape.snapshot.nodes.length > 60 ? 'webgl' : 'svg', shape.name);
        const drawn = await readGeometry(page);
        const layout = layoutTopology(shape.snapshot);
        assert.equal(drawn.nodes.length, shape.snapshot.nodes.length, `${shape.name}: every node drawn`);
        assert.deepEqual(drawn.edges.map((edge) => edge.key).sort(), layout.edges.map((edge) => edge.key).sort(), `${shape.name}: every routed edge drawn`);
        assert.ok(drawn.nodes.every((node) => node.radius > 1), `${shape.name}: nodes visible`);
        assert.deepEqual(edgesOverNodes(drawn.nodes, drawn.edges), [], `${shape.name}: no edge over a node it does not join (${theme})`);
        const legend = await page.evaluate(() =>
          [...document.querySelectorAll('[data-testid^="legend-side-"]')].map((entry) => ({ text: entry.textContent ?? '', colour: getComputedStyle(entry.querySelector('circle')!).fill })),
        );
        const sideColours = await page.evaluate(() => [...document.querySelectorAll('[data-testid^="side-"] circle')].map((circle) => getComputedStyle(circle).stroke));
        assert.equal(legend.length, layout.sides.length, `${shape.name}: one legend entry per side`);
        if (sideColours.length > 0) assert.deepEqual(legend.map((entry) => entry.colour), sideColours, `${shape.name}: legend swatch = side outline colour`);
        if (layout.sides.length > 1) assert.equal(new Set(legend.map((entry) => entry.colour)).size, legend.length, `${shape.name}: sides told apart by colour`);
        if (['split-7', 'three-way', 'split-halves-1000', 'isolate-one-1000'].includes(shape.name)) await page.screenshot({ path: path.join(artifacts, `${theme}-${shape.name}.png`) });
      }
    });

    test(`${theme}: the focus ring shows, outside the node, at least ${focusContrastMin}:1 against its halo`, async () => {
      const page = pages[theme]!;
      for (const name of ['split-7', 'split-halves-1000']) {
        await show(page, name);
        await page.locator('body').click({ position: { x: 1, y: 1 } });
        let found = false;
        for (let presses = 0; presses < 40 && !found; presses += 1) {
          await page.keyboard.press('Tab');
          found = await page.evaluate(() => document.activeElement?.matches('g.topology-node, [data-renderer="webgl"]') ?? false);
        }
        assert.ok(found, `${name}: Tab reaches the topology`);
        if (name.endsWith('1000')) await page.keyboard.press('ArrowRight');
        const ring = await page.evaluate(() => {
          const scope = document.activeElement?.matches('g.topology-node') ? document.activeElement : document.querySelector('[data-testid="topology-focus-ring"]');
          const ringElement = scope?.querySelector('.focus-ring');
          const halo = scope?.querySelector('.focus-halo');
          const dot = document.activeElement?.querySelector('circle.node-dot');
          const panel = getComputedStyle(document.querySelector('section.panel')!).backgroundColor;
          if (!ringElement || !halo) return null;
          const style = getComputedStyle(ringElement);
          return {
            visible: style.visibility === 'visible',
            ring: style.stroke,
            halo: getComputedStyle(halo).stroke,
            panel,
            ringRadius: Number(ringElement.getAttribute('r')),
            haloWidth: Number(halo.getAttribute('stroke-width')),
            nodeOuter: dot ? Number(dot.getAttribute('r')) + Number(dot.getAttribute('stroke-width')) / 2 : null,
          };
        });
        assert.ok(ring, `${name}: a focus ring is drawn`);
        assert.ok(ring.visible, `${name}: it is visible`);
        assert.equal(ring.halo, ring.panel, `${name}: the halo is the panel colour`);
        const ratio = contrast(ring.ring, ring.halo);
        process.stdout.write(`# ${theme} ${name}: focus ring ${ring.ring} on halo ${ring.halo}: ${ratio.toFixed(1)}:1\n`);
        assert.ok(ratio >= focusContrastMin, `${name}: focus ring contrast ${ratio.toFixed(2)}`);
        if (ring.nodeOuter !== null) assert.ok(ring.ringRadius - ring.haloWidth / 2 >= ring.nodeOuter, `${name}: the halo starts outside the node, so the ring never lies on the side colour`);
        await page.screenshot({ path: path.join(artifacts, `${theme}-focus-${name}.png`) });
      }
    });
  }

  test('WebGL follows a theme switch: node colours are re-read from the theme', async () => {
    const page = pages.light!;
    await show(page, 'split-halves-1000');
    const colourOf = async () => (await readGeometry(page)).nodes.find((node) => node.id === 'n1')!.colour;
    const sideZero = () => page.evaluate(() => getComputedStyle(document.documentElement).getPropertyValue('--side-0').trim());
    assert.equal(await colourOf(), await sideZero());
    const setTheme = (theme: string) => page.evaluate((name) => (window as unknown as { topologyHarness: { theme: (name: string) => void } }).topologyHarness.theme(name), theme);
    await setTheme('dark');
    const dark = await sideZero();
    await page.waitForFunction((expected) => {
      const element = document.querySelector('[data-testid="topology-webgl"]') as HTMLElement & { topologyGeometry?: () => RenderedGeometry };
      return element.topologyGeometry?.().nodes.find((node) => node.id === 'n1')?.colour === expected;
    }, dark);
    await setTheme('light');
  });

  test('1,000 nodes: Tab, arrows and Enter select a node; the search box finds another; the evidence panel follows', async () => {
    const page = pages.light!;
    await show(page, 'split-halves-1000');
    const topology = page.locator('[data-testid="topology"][data-renderer="webgl"]');
    await page.getByTestId('topology-search').focus();
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('data-renderer')), 'webgl');
    await page.keyboard.press('Home');
    assert.equal(await topology.getAttribute('data-active-node'), 'n1');
    await page.keyboard.press('ArrowRight');
    assert.equal(await topology.getAttribute('data-active-node'), 'n2');
    await page.keyboard.press('End');
    assert.equal(await topology.getAttribute('data-active-node'), 'n1000');
    await page.keyboard.press('Enter');
    await page.getByTestId('evidence-panel').locator('dd', { hasText: /^n1000$/ }).waitFor();
    assert.equal(await page.getByTestId('node-option-n1000').getAttribute('aria-selected'), 'true');
    await page.getByTestId('topology-search').fill('n77');
    await page.getByTestId('topology-search-result-n77').waitFor();
    await page.getByTestId('topology-search').press('Enter');
    await page.getByTestId('evidence-panel').locator('dd', { hasText: /^n77$/ }).waitFor();
    assert.equal(await topology.getAttribute('data-active-node'), 'n77');
    await topology.focus();
    await page.keyboard.press('Escape');
    await page.getByTestId('evidence-panel').locator('dd', { hasText: /^n77$/ }).waitFor({ state: 'detached' });
  });
});
