/**
 * The page the topology's browser test and benchmark load: the real Topology and
 * EvidencePanel components on snapshots of the catalog's shapes, built in the
 * page by bench/topology/shapes.ts, without a server. `window.topologyHarness`
 * lets the Node side pick a shape and the theme, and measure renders and frames.
 */
import { useState } from 'react';
import { flushSync } from 'react-dom';
import { createRoot } from 'react-dom/client';
import { EvidencePanel } from '../../components/evidence-panel';
import { Topology, type TopologySelection } from '../../components/topology';
import type { ClusterSnapshot } from '../../core/realtime-contract';
import { type Shape, largeShape, largeShapes, smallShapes, flaky, idsOf, partitioned } from './shapes';

let setSnapshot: (snapshot: ClusterSnapshot) => void = () => undefined;
const cache = new Map<string, Shape>();

function shapeNamed(name: string): ClusterSnapshot {
  if (cache.size === 0) for (const shape of smallShapes()) cache.set(shape.name, shape);
  if (!cache.has(name)) for (const shape of largeShapes()) cache.set(shape.name, shape);
  const found = cache.get(name);
  if (!found) throw new Error(`no shape ${name}`);
  return found.snapshot;
}

function App() {
  const [snapshot, set] = useState<ClusterSnapshot | null>(null);
  const [selection, setSelection] = useState<TopologySelection>(null);
  setSnapshot = set;
  if (!snapshot) return <p>waiting for a snapshot</p>;
  return (
    <main>
      <section className="panel">
        <Topology snapshot={snapshot} selection={selection} onSelect={setSelection} viewpoint={null} />
      </section>
      <section className="panel">
        <EvidencePanel snapshot={snapshot} selection={selection} nowMs={snapshot.atMs} />
      </section>
    </main>
  );
}

const nextFrame = () => new Promise<number>((resolve) => requestAnimationFrame(resolve));

/** Waits until the WebGL picture has drawn `nodes` nodes (or the SVG is in the page), then one more frame. */
async function rendered(nodes: number): Promise<void> {
  for (;;) {
    const svg = document.querySelector('[data-renderer="svg"]');
    const webgl = document.querySelector('[data-testid="topology-webgl"]') as HTMLElement | null;
    if (svg && nodes <= 60) break;
    if (webgl && Number(webgl.dataset.renderedNodes ?? 0) >= nodes) break;
    await nextFrame();
  }
  await nextFrame();
}

/** Snapshots the benchmark cycles through: 1,000 nodes with changing flaky links, split, isolated, healed. */
function updateSnapshots(count: number): ClusterSnapshot[] {
  const ids = idsOf(1000);
  const variants: ClusterSnapshot[] = [];
  for (let index = 0; index < count; index += 1) {
    const extra = flaky(ids, 12, 3, 100 + index);
    const base = index % 4 === 1 ? partitioned([ids.slice(0, 500), ids.slice(500)]) : () => true;
    variants.push({ ...largeShape(`update-${index}`, ids, (from, to) => base(from, to) && extra(from, to)).snapshot, name: 'bench', clusterId: 'bench', seq: index + 2 });
  }
  return variants;
}

const harness = {
  /** Shows a named shape; resolves with the ms from the state change to the drawn picture. */
  async show(name: string): Promise<number> {
    const snapshot = shapeNamed(name);
    const startedAt = performance.now();
    flushSync(() => setSnapshot(snapshot));
    await rendered(snapshot.nodes.length);
    return performance.now() - startedAt;
  },
  theme(theme: 'light' | 'dark'): void {
    document.documentElement.dataset.theme = theme;
  },
  /** Pushes `updates` new 1,000-node snapshots `intervalMs` apart while recording every frame's duration (ms). */
  async measureUpdates(updates: number, intervalMs: number): Promise<{ frameMs: number[]; updateMs: number[] }> {
    const variants = updateSnapshots(8);
    const frameMs: number[] = [];
    const updateMs: number[] = [];
    let running = true;
    void (async () => {
      let last = await nextFrame();
      while (running) {
        const now = await nextFrame();
        frameMs.push(now - last);
        last = now;
      }
    })();
    for (let index = 0; index < updates; index += 1) {
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
      const startedAt = performance.now();
      flushSync(() => setSnapshot(variants[index % variants.length]!));
      updateMs.push(performance.now() - startedAt);
    }
    await nextFrame();
    running = false;
    return { frameMs, updateMs };
  },
};

(window as unknown as { topologyHarness: typeof harness }).topologyHarness = harness;
createRoot(document.getElementById('root')!).render(<App />);
