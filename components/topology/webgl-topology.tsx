'use client';
/**
 * The topology in WebGL (sigma.js on a graphology graph), for clusters above
 * `svgNodesMax` nodes: 1,000 nodes redraw in a few milliseconds. It draws the
 * same layout as the SVG: routed edges become chains of straight segments through
 * tiny bend points (so no edge runs over a node it does not join), a bundle of
 * cut links runs between two sides' outlines. Sigma has no dashes, so cut links
 * are told apart by width, colour and a ✕; side outlines, their names, the ✕
 * marks, the bundles' counts and the focus ring are an SVG overlay kept in step
 * with sigma's camera. The geometry sigma actually displays is exposed on the
 * element (`topologyGeometry()`) for the browser tests.
 */
import type Graph from 'graphology';
import { useEffect, useRef, useState } from 'react';
import type Sigma from 'sigma';
import { viewFrom } from '../topology-layout';
import { midpointOf } from './geometry';
import type { RoutedEdge, TopologyLayout } from './layout';
import { linkColourVariable, sideColourVariable, sideLabel, viewColourVariable } from './marks';
import type { RenderedGeometry, TopologyDrawing, TopologyProps } from './types';

/** Edge widths in layout units, by kind (bends are drawn as dots of the edge's width so a chain looks continuous). */
const edgeWidths = { up: 1, cut: 3, bundle: 20 } as const;

type Colours = (variable: string) => string;

/** The ids of the graph nodes an edge's polyline runs through: its end nodes (or hubs) and its bends. */
function pointIds(edge: RoutedEdge): string[] {
  return edge.points.map((_, index) => {
    if (edge.kind === 'link' && index === 0) return edge.link!.workingDirection?.from ?? edge.link!.a;
    if (edge.kind === 'link' && index === edge.points.length - 1) return edge.link!.workingDirection?.to ?? edge.link!.b;
    return `bend:${edge.key}:${index}`;
  });
}

function nodeColour(props: TopologyProps, drawing: TopologyDrawing, id: string, colours: Colours): string {
  const placed = drawing.layout.nodes.get(id)!;
  const mark = drawing.marks.get(id);
  if (mark && (mark.stale || mark.silent)) return colours('--muted');
  if (props.viewpoint && props.viewpoint !== id) return colours(viewColourVariable[viewFrom(props.viewpoint, id, drawing.broken)]);
  return colours(sideColourVariable(drawing.layout.sides[placed.side]!));
}

/** Makes the graph hold exactly this drawing (nodes, bends, segments), changing only what differs. */
function syncGraph(graph: Graph, props: TopologyProps, drawing: TopologyDrawing, colours: Colours, drawn: Map<string, string>): void {
  // Merging a node's attributes makes sigma reprocess it: skip the ones whose attributes did not change (most of 1,000 between two updates).
  const mergeNode = (id: string, attributes: Record<string, unknown>) => {
    const signature = JSON.stringify(attributes);
    if (drawn.get(id) === signature && graph.hasNode(id)) return;
    drawn.set(id, signature);
    graph.mergeNode(id, attributes);
  };
  const wantedNodes = new Set<string>();
  const wantedEdges = new Set<string>();
  const selectedId = props.selection?.kind === 'node' ? props.selection.id : null;
  const radius = drawing.layout.nodeRadius;
  for (const node of drawing.layout.nodes.values()) {
    wantedNodes.add(node.id);
    const selected = node.id === selectedId || node.id === props.viewpoint;
    mergeNode(node.id, { x: node.x, y: -node.y, size: selected ? radius * 1.3 : radius, color: nodeColour(props, drawing, node.id, colours), label: node.id, forceLabel: selected, zIndex: 2, kind: 'node' });
  }
  for (const edge of drawing.layout.edges) {
    const ids = pointIds(edge);
    const width = edge.kind === 'bundle' ? edgeWidths.bundle : edge.state === 'up' || edge.state === 'unknown' ? edgeWidths.up : edgeWidths.cut;
    const colour = colours(linkColourVariable(edge.state));
    ids.forEach((id, index) => {
      if (wantedNodes.has(id)) return;
      wantedNodes.add(id);
      const point = edge.points[index]!;
      mergeNode(id, { x: point.x, y: -point.y, size: width / 2, color: colour, label: '', zIndex: 0, kind: 'bend' });
    });
    for (let index = 1; index < ids.length; index += 1) {
      const key = `${edge.key}#${index}`;
      wantedEdges.add(key);
      const type = edge.state === 'one-way' && index === ids.length - 1 ? 'arrow' : 'line';
      const attributes = { size: width, color: colour, type, zIndex: edge.state === 'up' ? 0 : 1 };
      if (graph.hasEdge(key) && (graph.source(key) !== ids[index - 1] || graph.target(key) !== ids[index])) graph.dropEdge(key);
      if (graph.hasEdge(key)) graph.mergeEdgeAttributes(key, attributes);
      else graph.addDirectedEdgeWithKey(key, ids[index - 1]!, ids[index]!, attributes);
    }
  }
  graph.forEachEdge((key) => {
    if (!wantedEdges.has(key)) graph.dropEdge(key);
  });
  graph.forEachNode((id) => {
    if (wantedNodes.has(id)) return;
    graph.dropNode(id);
    drawn.delete(id);
  });
}

/** What sigma displays, in viewport pixels. */
function renderedGeometry(renderer: Sigma, layout: TopologyLayout): RenderedGeometry {
  const at = (id: string) => {
    const data = renderer.getNodeDisplayData(id)!;
    return { ...renderer.framedGraphToViewport(data), radius: renderer.scaleSize(data.size) };
  };
  return {
    nodes: [...layout.nodes.keys()].map((id) => ({ id, ...at(id), colour: renderer.getNodeDisplayData(id)!.color })),
    edges: layout.edges.map((edge) => ({ key: edge.key, joins: edge.joins, points: pointIds(edge).map((id) => ({ x: at(id).x, y: at(id).y })) })),
  };
}

/** Maps layout points to viewport pixels for the overlay, as sigma's camera stands now. */
interface ViewportMap {
  at: (point: { x: number; y: number }) => { x: number; y: number };
  scale: number;
  width: number;
  height: number;
}

function viewportMap(renderer: Sigma): ViewportMap {
  const dimensions = renderer.getDimensions();
  return { at: (point) => renderer.graphToViewport({ x: point.x, y: -point.y }), scale: renderer.scaleSize(1), width: dimensions.width, height: dimensions.height };
}

function Overlay({ drawing, map, focusedId, selectedId }: { drawing: TopologyDrawing; map: ViewportMap; focusedId: string | null; selectedId: string | null }) {
  const { layout } = drawing;
  const ring = (id: string | null, className: string) => {
    const node = id ? layout.nodes.get(id) : undefined;
    if (!node) return null;
    const p = map.at(node);
    const r = layout.nodeRadius * map.scale * 1.3 + 5;
    return className === 'focus-ring' ? (
      <g data-testid="topology-focus-ring">
        <circle className="focus-halo" cx={p.x} cy={p.y} r={r} fill="none" strokeWidth={7} />
        <circle className="focus-ring" cx={p.x} cy={p.y} r={r} fill="none" strokeWidth={3} />
      </g>
    ) : (
      <circle cx={p.x} cy={p.y} r={r - 2} fill="none" stroke="var(--text)" strokeWidth={2} />
    );
  };
  return (
    <svg className="topology-overlay" width={map.width} height={map.height} aria-hidden="true" style={{ position: 'absolute', inset: 0, pointerEvents: 'none', overflow: 'visible' }}>
      {layout.sides.map((side) => {
        const p = map.at(side.center);
        return (
          <g key={side.index} data-testid={`side-${side.index}`} data-colour={sideColourVariable(side)}>
            <circle cx={p.x} cy={p.y} r={side.radius * map.scale} fill={`var(${sideColourVariable(side)})`} fillOpacity={0.06} stroke={`var(${sideColourVariable(side)})`} strokeWidth={1.5} />
            <text x={p.x} y={p.y - side.radius * map.scale - 6} textAnchor="middle" fontSize={12} fill="var(--text)">
              {sideLabel(side)}
            </text>
          </g>
        );
      })}
      {layout.edges.map((edge) => {
        if (edge.state !== 'down' && edge.state !== 'mixed' && edge.kind !== 'bundle') return null;
        const p = map.at(midpointOf(edge.points));
        const total = Object.values(edge.counts ?? {}).reduce((sum, count) => sum + count, 0);
        return (
          <g key={edge.key} data-testid={edge.kind === 'bundle' ? `bundle-${edge.key}` : `link-${edge.key}`} data-state={edge.state}>
            <text x={p.x} y={p.y + 4} textAnchor="middle" fontSize={12} fill={`var(${linkColourVariable(edge.state)})`}>
              ✕
            </text>
            {edge.kind === 'bundle' ? (
              <text x={p.x} y={p.y - 10} textAnchor="middle" fontSize={12} fill="var(--text)" stroke="var(--panel)" strokeWidth={3} paintOrder="stroke">
                {total.toLocaleString('en')} cut links
              </text>
            ) : null}
          </g>
        );
      })}
      {ring(selectedId, 'selected')}
      {ring(focusedId, 'focus-ring')}
    </svg>
  );
}

/** Reads the theme's colours from the page, re-read when the theme changes. */
function useColours(element: HTMLElement | null): { colours: Colours; version: number } {
  const [version, setVersion] = useState(0);
  useEffect(() => {
    const observer = new MutationObserver(() => setVersion((value) => value + 1));
    observer.observe(document.documentElement, { attributes: true, attributeFilter: ['data-theme', 'class'] });
    const media = window.matchMedia('(prefers-color-scheme: dark)');
    const onChange = () => setVersion((value) => value + 1);
    media.addEventListener('change', onChange);
    return () => {
      observer.disconnect();
      media.removeEventListener('change', onChange);
    };
  }, []);
  const cache = new Map<string, string>();
  const style = element ? getComputedStyle(element) : null;
  const colours: Colours = (variable) => {
    let found = cache.get(variable);
    if (found === undefined) {
      found = style?.getPropertyValue(variable).trim() || '#888888';
      cache.set(variable, found);
    }
    return found;
  };
  return { colours, version };
}

/** The WebGL picture; keyboard, search and hidden options are the wrapper's. */
export function WebglTopology({ props, drawing, focusedId }: { props: TopologyProps; drawing: TopologyDrawing; focusedId: string | null }) {
  const containerRef = useRef<HTMLDivElement>(null);
  const rendererRef = useRef<Sigma | null>(null);
  const graphRef = useRef<Graph | null>(null);
  const drawnRef = useRef(new Map<string, string>());
  const propsRef = useRef(props);
  propsRef.current = props;
  const [map, setMap] = useState<ViewportMap | null>(null);
  const [ready, setReady] = useState(false);
  const [failure, setFailure] = useState<string | null>(null);
  const { colours, version } = useColours(containerRef.current);
  const { layout } = drawing;

  useEffect(() => {
    let cancelled = false;
    let renderer: Sigma | null = null;
    void Promise.all([import('sigma'), import('graphology')])
      .then(([{ default: SigmaRenderer }, { default: GraphClass }]) => {
        if (cancelled || !containerRef.current) return;
        const graph = new GraphClass({ type: 'directed', multi: false });
        drawnRef.current.clear();
        renderer = new SigmaRenderer(graph, containerRef.current, {
          itemSizesReference: 'positions',
          zoomToSizeRatioFunction: (ratio: number) => ratio,
          labelRenderedSizeThreshold: 7,
          labelSize: 12,
          labelColor: { color: getComputedStyle(containerRef.current).getPropertyValue('--text').trim() || '#888' },
          stagePadding: 0,
          zIndex: true,
          defaultEdgeType: 'line',
          allowInvalidContainer: true,
        });
        let last = '';
        renderer.on('afterRender', () => {
          const state = renderer!.getCamera().getState();
          const dimensions = renderer!.getDimensions();
          const key = `${state.x},${state.y},${state.ratio},${dimensions.width},${dimensions.height},${graph.order}`;
          if (key !== last) {
            last = key;
            if (containerRef.current) containerRef.current.dataset.renderedNodes = String(graph.order);
            setMap(viewportMap(renderer!));
          }
        });
        renderer.on('clickNode', ({ node }) => {
          if (graph.getNodeAttribute(node, 'kind') === 'node') propsRef.current.onSelect({ kind: 'node', id: node });
        });
        renderer.on('clickStage', () => propsRef.current.onSelect(null));
        rendererRef.current = renderer;
        graphRef.current = graph;
        setReady(true);
      })
      .catch((error: unknown) => setFailure(error instanceof Error ? error.message : String(error)));
    return () => {
      cancelled = true;
      renderer?.kill();
      rendererRef.current = null;
      graphRef.current = null;
    };
  }, []);

  useEffect(() => {
    const renderer = rendererRef.current;
    const graph = graphRef.current;
    if (!ready || !renderer || !graph) return;
    renderer.setCustomBBox({ x: [0, layout.width], y: [-layout.height, 0] });
    renderer.setSetting('labelColor', { color: colours('--text') });
    syncGraph(graph, props, drawing, colours, drawnRef.current);
    const element = containerRef.current as (HTMLDivElement & { topologyGeometry?: () => RenderedGeometry }) | null;
    if (element) element.topologyGeometry = () => renderedGeometry(renderer, layout);
    // colours is rebuilt every render; the theme's version says when its values change.
  }, [ready, drawing, props.selection, props.viewpoint, version]);

  const selectedId = props.selection?.kind === 'node' ? props.selection.id : null;
  return (
    <div style={{ position: 'relative', width: '100%', aspectRatio: `${layout.width} / ${layout.height}`, maxHeight: 560, marginTop: 18 }}>
      <div ref={containerRef} data-testid="topology-webgl" data-ready={ready && map !== null} aria-hidden="true" style={{ position: 'absolute', inset: 0, cursor: 'pointer' }} />
      {map ? <Overlay drawing={drawing} map={map} focusedId={focusedId} selectedId={selectedId} /> : null}
      {failure ? <p className="notice error">The WebGL topology could not start: {failure}</p> : null}
    </div>
  );
}
