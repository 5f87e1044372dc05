'use client';
/**
 * The live topology. Each side of a partition is drawn in its own area; links are
 * told apart by more than colour: up = thin solid, down = thick dashed with a
 * cross, one-way = dotted with an arrow in the direction that still works,
 * unknown = sparse dots. Nodes: hollow = no recent report, "?" = silent to
 * everyone (crashed or isolated), dashed ring = isolated, "!" with a double ring
 * = byzantine. Up to `svgNodesMax` nodes it is SVG (every element focusable and
 * clickable); above, a canvas draws the same picture so 200+ nodes stay fast. The
 * canvas is a listbox for the keyboard and screen readers: Tab reaches it, arrows
 * (PageUp/PageDown by ten, Home/End) walk the nodes side by side, Enter or Space
 * picks one, Escape clears; the active node is ringed on the canvas and named to
 * assistive technology through hidden options.
 * "View from node" colours every other node by what the chosen node can reach.
 */
import { type KeyboardEvent, useEffect, useMemo, useRef, useState } from 'react';
import type { ClusterSnapshot } from '../core/realtime-contract';
import type { Link } from '../core/reachability';
import { keyboardMove, keyboardNodeOrder, layoutTopology, pairKey, viewFrom } from './topology-layout';

/** Above this many nodes, healthy links are not drawn (they would hide the cut ones). */
const drawHealthyLinksNodesMax = 40;
/** Above this many nodes the canvas renderer is used. */
export const svgNodesMax = 60;
const size = 520;

/** What the operator clicked. */
export type TopologySelection = { kind: 'node'; id: string } | { kind: 'link'; a: string; b: string } | null;

interface Props {
  snapshot: ClusterSnapshot;
  selection: TopologySelection;
  onSelect: (selection: TopologySelection) => void;
  /** Node whose view is shown, or null. */
  viewpoint: string | null;
}

interface NodeMarks {
  side: number;
  stale: boolean;
  silent: boolean;
  isolated: boolean;
  byzantine: boolean;
}

function useDrawing(snapshot: ClusterSnapshot) {
  return useMemo(() => {
    const positions = layoutTopology(snapshot, size);
    const sideOf = new Map<string, number>();
    snapshot.verdict.components.forEach((component, index) => component.forEach((id) => sideOf.set(id, index)));
    const broken = new Map<string, Link>(snapshot.links.map((link) => [pairKey(link.a, link.b), link]));
    const silent = new Set(snapshot.verdict.silentNodes ?? []);
    const isolated = new Set(snapshot.verdict.isolatedNodes ?? []);
    const byzantine = new Set(snapshot.verdict.byzantine?.nodes ?? []);
    const marks = new Map<string, NodeMarks>(
      snapshot.nodes.map((node) => [
        node.id,
        { side: sideOf.get(node.id) ?? 0, stale: node.stale, silent: silent.has(node.id), isolated: isolated.has(node.id), byzantine: byzantine.has(node.id) },
      ]),
    );
    const links: Link[] = [];
    const nodes = snapshot.nodes;
    if (nodes.length <= drawHealthyLinksNodesMax) {
      for (let i = 0; i < nodes.length; i += 1) {
        for (let j = i + 1; j < nodes.length; j += 1) {
          const a = nodes[i]!.id;
          const b = nodes[j]!.id;
          links.push(broken.get(pairKey(a, b)) ?? { a, b, state: 'up' });
        }
      }
    } else {
      links.push(...snapshot.links);
    }
    return { positions, marks, links, broken, nodesById: new Map(nodes.map((node) => [node.id, node])) };
  }, [snapshot]);
}

const viewColour = { both: 'var(--ok)', 'hears-only': 'var(--oneway)', 'heard-only': 'var(--oneway)', none: 'var(--down)', unknown: 'var(--muted)' } as const;

function linkStyle(link: Link) {
  switch (link.state) {
    case 'down':
      return { stroke: 'var(--down)', strokeWidth: 2.5, strokeDasharray: '6 5' };
    case 'one-way':
      return { stroke: 'var(--oneway)', strokeWidth: 2.5, strokeDasharray: '2 3', markerEnd: 'url(#arrow)' };
    case 'unknown':
      return { stroke: 'var(--muted)', strokeWidth: 1, strokeDasharray: '1 4' };
    default:
      return { stroke: 'var(--up)', strokeWidth: 1, opacity: 0.5 };
  }
}

function describeLink(link: Link): string {
  return `${link.a} ↔ ${link.b}: ${link.state}${link.workingDirection ? ` (only ${link.workingDirection.from} → ${link.workingDirection.to} works)` : ''}`;
}

function onActivate(handler: () => void) {
  return (event: KeyboardEvent) => {
    if (event.key === 'Enter' || event.key === ' ') {
      event.preventDefault();
      handler();
    }
  };
}

function SvgTopology({ snapshot, selection, onSelect, viewpoint }: Props) {
  const { positions, marks, links, broken } = useDrawing(snapshot);
  return (
    <svg
      viewBox={`0 0 ${size} ${size}`}
      role="group"
      aria-label={`Topology of ${snapshot.name}: ${snapshot.nodes.length} nodes, ${snapshot.links.length} links not fully up`}
      style={{ width: '100%', maxWidth: 560, display: 'block', margin: '0 auto' }}
      data-testid="topology"
      data-renderer="svg"
    >
      <defs>
        <marker id="arrow" viewBox="0 0 10 10" refX="22" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
          <path d="M 0 0 L 10 5 L 0 10 z" fill="var(--oneway)" />
        </marker>
      </defs>
      {links.map((link) => {
        const from = link.workingDirection?.from ?? link.a;
        const to = link.workingDirection?.to ?? link.b;
        const p = positions.get(from);
        const q = positions.get(to);
        if (!p || !q) return null;
        const selected = selection?.kind === 'link' && pairKey(selection.a, selection.b) === pairKey(link.a, link.b);
        const faded = viewpoint !== null && link.a !== viewpoint && link.b !== viewpoint;
        const select = () => onSelect({ kind: 'link', a: link.a, b: link.b });
        return (
          <g
            key={pairKey(link.a, link.b)}
            data-testid={`link-${pairKey(link.a, link.b)}`}
            data-state={link.state}
            tabIndex={link.state === 'up' ? -1 : 0}
            role="button"
            aria-label={describeLink(link)}
            onClick={select}
            onKeyDown={onActivate(select)}
            style={{ cursor: 'pointer', opacity: faded ? 0.15 : 1 }}
          >
            <title>{describeLink(link)}</title>
            <line x1={p.x} y1={p.y} x2={q.x} y2={q.y} stroke="transparent" strokeWidth={10} />
            <line x1={p.x} y1={p.y} x2={q.x} y2={q.y} {...linkStyle(link)} {...(selected ? { strokeWidth: 5 } : {})} />
            {link.state === 'down' ? (
              <text x={(p.x + q.x) / 2} y={(p.y + q.y) / 2 + 4} textAnchor="middle" fontSize="12" fill="var(--down)">
                ✕
              </text>
            ) : null}
          </g>
        );
      })}
      {snapshot.nodes.map((node) => {
        const p = positions.get(node.id);
        const mark = marks.get(node.id);
        if (!p || !mark) return null;
        const colour = viewpoint && viewpoint !== node.id ? viewColour[viewFrom(viewpoint, node.id, broken)] : `var(--side-${mark.side % 4})`;
        const hollow = mark.stale || mark.silent;
        const selected = (selection?.kind === 'node' && selection.id === node.id) || viewpoint === node.id;
        const select = () => onSelect({ kind: 'node', id: node.id });
        const status = [mark.silent ? 'silent: crashed or isolated' : '', mark.isolated ? 'isolated' : '', mark.byzantine ? 'byzantine' : '', node.stale ? 'no recent report' : '']
          .filter(Boolean)
          .join(', ');
        return (
          <g
            key={node.id}
            data-testid={`node-${node.id}`}
            data-side={mark.side}
            data-stale={node.stale}
            data-byzantine={mark.byzantine}
            tabIndex={0}
            role="button"
            aria-label={`${node.id}${status ? ` (${status})` : ''}`}
            onClick={select}
            onKeyDown={onActivate(select)}
            style={{ cursor: 'pointer' }}
          >
            <title>{`${node.id} ${node.address ?? ''} ${status}`}</title>
            {mark.byzantine ? <circle cx={p.x} cy={p.y} r={22} fill="none" stroke="var(--down)" strokeWidth={2} /> : null}
            <circle
              cx={p.x}
              cy={p.y}
              r={16}
              fill={hollow ? 'var(--panel)' : colour}
              stroke={selected ? 'var(--text)' : colour}
              strokeWidth={selected ? 4 : 3}
              strokeDasharray={mark.isolated ? '4 3' : undefined}
            />
            {mark.silent || mark.byzantine ? (
              <text x={p.x} y={p.y + 5} textAnchor="middle" fontSize="14" fontWeight="bold" fill={hollow ? 'var(--text)' : '#fff'}>
                {mark.byzantine ? '!' : '?'}
              </text>
            ) : null}
            <text x={p.x} y={p.y + 34} textAnchor="middle" fontSize="12" fill="var(--text)">
              {node.id}
            </text>
          </g>
        );
      })}
    </svg>
  );
}

function cssVar(element: HTMLElement, name: string): string {
  return getComputedStyle(element).getPropertyValue(name).trim() || '#888';
}

function drawCanvas(canvas: HTMLCanvasElement, props: Props, drawing: ReturnType<typeof useDrawing>, focusedId: string | null): void {
  const context = canvas.getContext('2d');
  if (!context) return;
  const ratio = window.devicePixelRatio || 1;
  canvas.width = size * ratio;
  canvas.height = size * ratio;
  context.setTransform(ratio, 0, 0, ratio, 0, 0);
  context.clearRect(0, 0, size, size);
  const colour = (name: string) => cssVar(canvas, name);
  for (const link of drawing.links) {
    const p = drawing.positions.get(link.workingDirection?.from ?? link.a);
    const q = drawing.positions.get(link.workingDirection?.to ?? link.b);
    if (!p || !q) continue;
    const faded = props.viewpoint !== null && link.a !== props.viewpoint && link.b !== props.viewpoint;
    context.globalAlpha = faded ? 0.12 : 1;
    context.strokeStyle = colour(link.state === 'down' ? '--down' : link.state === 'one-way' ? '--oneway' : link.state === 'unknown' ? '--muted' : '--up');
    context.lineWidth = link.state === 'up' || link.state === 'unknown' ? 0.8 : 1.6;
    context.setLineDash(link.state === 'down' ? [5, 4] : link.state === 'one-way' ? [2, 3] : link.state === 'unknown' ? [1, 4] : []);
    context.beginPath();
    context.moveTo(p.x, p.y);
    context.lineTo(q.x, q.y);
    context.stroke();
    if (link.state === 'one-way') {
      const angle = Math.atan2(q.y - p.y, q.x - p.x);
      context.setLineDash([]);
      context.beginPath();
      context.moveTo(q.x - 8 * Math.cos(angle - 0.4), q.y - 8 * Math.sin(angle - 0.4));
      context.lineTo(q.x, q.y);
      context.lineTo(q.x - 8 * Math.cos(angle + 0.4), q.y - 8 * Math.sin(angle + 0.4));
      context.stroke();
    }
  }
  context.globalAlpha = 1;
  context.setLineDash([]);
  for (const node of props.snapshot.nodes) {
    const p = drawing.positions.get(node.id);
    const mark = drawing.marks.get(node.id);
    if (!p || !mark) continue;
    const fill =
      props.viewpoint && props.viewpoint !== node.id
        ? colour({ both: '--ok', 'hears-only': '--oneway', 'heard-only': '--oneway', none: '--down', unknown: '--muted' }[viewFrom(props.viewpoint, node.id, drawing.broken)])
        : colour(`--side-${mark.side % 4}`);
    const selected = (props.selection?.kind === 'node' && props.selection.id === node.id) || props.viewpoint === node.id;
    context.beginPath();
    context.arc(p.x, p.y, 5, 0, 2 * Math.PI);
    context.fillStyle = mark.stale || mark.silent ? colour('--panel') : fill;
    context.fill();
    context.lineWidth = selected ? 3 : 1.5;
    context.strokeStyle = selected ? colour('--text') : mark.byzantine ? colour('--down') : fill;
    context.setLineDash(mark.isolated ? [2, 2] : []);
    context.stroke();
    if (mark.byzantine) {
      context.beginPath();
      context.arc(p.x, p.y, 8, 0, 2 * Math.PI);
      context.strokeStyle = colour('--down');
      context.stroke();
    }
  }
  const focused = focusedId ? drawing.positions.get(focusedId) : undefined;
  if (focused) {
    // The keyboard's focus ring: wider than any mark, in the text colour, so it shows on every side colour.
    context.setLineDash([]);
    context.lineWidth = 2;
    context.strokeStyle = colour('--text');
    context.beginPath();
    context.arc(focused.x, focused.y, 11, 0, 2 * Math.PI);
    context.stroke();
  }
}

/** A node's description for assistive technology (the canvas draws the same marks). */
function describeNode(node: ClusterSnapshot['nodes'][number], mark: NodeMarks | undefined): string {
  const status = [mark?.silent ? 'silent: crashed or isolated' : '', mark?.isolated ? 'isolated' : '', mark?.byzantine ? 'byzantine' : '', node.stale ? 'no recent report' : '']
    .filter(Boolean)
    .join(', ');
  return `${node.id}, side ${(mark?.side ?? 0) + 1}${status ? ` (${status})` : ''}`;
}

function CanvasTopology(props: Props) {
  const drawing = useDrawing(props.snapshot);
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const order = useMemo(() => keyboardNodeOrder(props.snapshot), [props.snapshot]);
  const selectedId = props.selection?.kind === 'node' ? props.selection.id : null;
  const [activeId, setActiveId] = useState<string | null>(null);
  const [focused, setFocused] = useState(false);
  // A node that left the cluster is no longer active; the selection is the fallback.
  const active = activeId !== null && drawing.positions.has(activeId) ? activeId : selectedId;
  useEffect(() => {
    if (canvasRef.current) drawCanvas(canvasRef.current, props, drawing, focused ? active : null);
  }, [props, drawing, focused, active]);
  const onKeyDown = (event: KeyboardEvent) => {
    const next = keyboardMove(order, active, event.key);
    if (next !== undefined) {
      event.preventDefault();
      setActiveId(next);
    } else if ((event.key === 'Enter' || event.key === ' ') && active) {
      event.preventDefault();
      props.onSelect({ kind: 'node', id: active });
    } else if (event.key === 'Escape') {
      props.onSelect(null);
    }
  };
  const optionId = (id: string) => `topology-node-${id}`;
  const pick = (event: React.MouseEvent<HTMLCanvasElement>) => {
    const rect = event.currentTarget.getBoundingClientRect();
    const x = ((event.clientX - rect.left) / rect.width) * size;
    const y = ((event.clientY - rect.top) / rect.height) * size;
    let best: { id: string; distance: number } | null = null;
    for (const [id, p] of drawing.positions) {
      const distance = Math.hypot(p.x - x, p.y - y);
      if (distance < 10 && (!best || distance < best.distance)) best = { id, distance };
    }
    if (best) setActiveId(best.id);
    props.onSelect(best ? { kind: 'node', id: best.id } : null);
  };
  return (
    <div
      role="listbox"
      tabIndex={0}
      aria-label={`Topology of ${props.snapshot.name}: ${props.snapshot.nodes.length} nodes, ${props.snapshot.links.length} links not fully up. Arrow keys move between nodes, Enter picks one.`}
      aria-activedescendant={active ? optionId(active) : undefined}
      onKeyDown={onKeyDown}
      onFocus={() => setFocused(true)}
      onBlur={() => setFocused(false)}
      data-testid="topology"
      data-renderer="canvas"
      data-active-node={active ?? ''}
      className="topology-canvas"
      style={{ maxWidth: 560, margin: '0 auto', position: 'relative' }}
    >
      <canvas ref={canvasRef} onClick={pick} aria-hidden="true" style={{ width: '100%', aspectRatio: '1', display: 'block', cursor: 'crosshair' }} />
      {order.map((id) => {
        const node = drawing.nodesById.get(id)!;
        return (
          <div key={id} id={optionId(id)} role="option" aria-selected={selectedId === id} className="sr-only" data-testid={`node-option-${id}`}>
            {describeNode(node, drawing.marks.get(id))}
          </div>
        );
      })}
    </div>
  );
}

export function Topology(props: Props) {
  return props.snapshot.nodes.length > svgNodesMax ? <CanvasTopology {...props} /> : <SvgTopology {...props} />;
}
