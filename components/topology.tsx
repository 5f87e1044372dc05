'use client';
/**
 * The live topology: a search box, the picture, and its legend. The picture
 * comes from one pure layout (components/topology/layout.ts): each side of a
 * partition is an outlined group in its legend colour, and every edge is routed
 * clear of the nodes it does not join. Up to `svgNodesMax` nodes it is SVG (every
 * node and cut link focusable and clickable); above, WebGL (sigma.js) draws the
 * same layout, so 1,000 nodes stay fast. The WebGL picture is a listbox for the
 * keyboard and screen readers: Tab reaches it, arrows (PageUp/PageDown by ten,
 * Home/End) walk the nodes side by side, Enter or Space picks one, Escape
 * clears; the active node is ringed and named through a hidden option (only the
 * active and selected options exist, with their place in the list). The search
 * box picks a node by name in both. "View from node" colours every other node by
 * what the chosen node can reach.
 */
import { type KeyboardEvent, useMemo, useState } from 'react';
import type { ClusterSnapshot } from '../core/realtime-contract';
import type { Link } from '../core/reachability';
import { layoutTopology } from './topology/layout';
import { TopologyLegend } from './topology/legend';
import { describeMarks, sideLabel, nodeMarks } from './topology/marks';
import { SvgTopology } from './topology/svg-topology';
import type { TopologyDrawing, TopologyProps } from './topology/types';
import { WebglTopology } from './topology/webgl-topology';
import { keyboardMove, keyboardNodeOrder, pairKey, searchNodes } from './topology-layout';

export type { TopologySelection } from './topology/types';

/** Above this many nodes the WebGL renderer is used. */
export const svgNodesMax = 60;

function useDrawing(snapshot: ClusterSnapshot, viewpoint: string | null): TopologyDrawing {
  const base = useMemo(() => ({ layout: layoutTopology(snapshot), marks: nodeMarks(snapshot), nodesById: new Map(snapshot.nodes.map((node) => [node.id, node])) }), [snapshot]);
  // Only the viewpoint's own links: "view from" needs no more, and a 1,000-node split has 250,000 cut links.
  const broken = useMemo(
    () => new Map<string, Link>(viewpoint === null ? [] : snapshot.links.filter((link) => link.a === viewpoint || link.b === viewpoint).map((link) => [pairKey(link.a, link.b), link])),
    [snapshot, viewpoint],
  );
  return useMemo(() => ({ ...base, broken }), [base, broken]);
}

function NodeSearch({ ids, onPick }: { ids: readonly string[]; onPick: (id: string) => void }) {
  const [query, setQuery] = useState('');
  const matches = useMemo(() => searchNodes(ids, query), [ids, query]);
  const onKeyDown = (event: KeyboardEvent<HTMLInputElement>) => {
    if (event.key === 'Enter' && matches[0]) {
      event.preventDefault();
      onPick(matches[0]);
    }
  };
  return (
    <div className="row" style={{ marginBottom: '0.5rem', fontSize: '0.85rem' }}>
      <label className="row">
        Find node
        <input type="search" value={query} onChange={(event) => setQuery(event.target.value)} onKeyDown={onKeyDown} aria-controls="topology-search-results" data-testid="topology-search" style={{ width: '10rem' }} />
      </label>
      <span role="status" aria-live="polite" className="muted">
        {query.trim() ? `${matches.length === 0 ? 'no' : matches.length} match${matches.length === 1 ? '' : 'es'}${matches.length ? ': Enter picks the first' : ''}` : ''}
      </span>
      <span id="topology-search-results" className="row">
        {matches.map((id) => (
          <button key={id} type="button" onClick={() => onPick(id)} data-testid={`topology-search-result-${id}`}>
            {id}
          </button>
        ))}
      </span>
    </div>
  );
}

function WebglListbox({ props, drawing, order, active, setActiveId }: { props: TopologyProps; drawing: TopologyDrawing; order: string[]; active: string | null; setActiveId: (id: string) => void }) {
  const [focused, setFocused] = useState(false);
  const selectedId = props.selection?.kind === 'node' ? props.selection.id : null;
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
  return (
    <div
      role="listbox"
      tabIndex={0}
      aria-label={`Topology of ${props.snapshot.name}: ${props.snapshot.nodes.length} nodes on ${drawing.layout.sides.length} sides, ${props.snapshot.links.length} links not fully up. Arrow keys move between nodes, Enter picks one.`}
      aria-activedescendant={active ? optionId(active) : undefined}
      onKeyDown={onKeyDown}
      onFocus={() => setFocused(true)}
      onBlur={() => setFocused(false)}
      data-testid="topology"
      data-renderer="webgl"
      data-active-node={active ?? ''}
      className="topology-webgl"
      style={{ maxWidth: 560, margin: '0 auto', position: 'relative' }}
    >
      <WebglTopology props={props} drawing={drawing} focusedId={focused ? active : null} />
      {/* Only the active and the selected options exist (with their place in the whole list): 1,000 hidden options re-rendered on every update cost more than the picture. */}
      {[...new Set([active, selectedId])].flatMap((id) => {
        const placed = id === null ? undefined : drawing.layout.nodes.get(id);
        if (id === null || !placed) return [];
        const status = describeMarks(drawing.marks.get(id));
        return [
          <div key={id} id={optionId(id)} role="option" aria-selected={selectedId === id} aria-setsize={order.length} aria-posinset={order.indexOf(id) + 1} className="sr-only" data-testid={`node-option-${id}`}>
            {`${id}, ${sideLabel(drawing.layout.sides[placed.side]!)}${status ? ` (${status})` : ''}`}
          </div>,
        ];
      })}
    </div>
  );
}

export function Topology(props: TopologyProps) {
  const drawing = useDrawing(props.snapshot, props.viewpoint);
  const order = useMemo(() => keyboardNodeOrder(props.snapshot), [props.snapshot]);
  const [activeId, setActiveId] = useState<string | null>(null);
  const selectedId = props.selection?.kind === 'node' ? props.selection.id : null;
  // A node that left the cluster is no longer active; the selection is the fallback.
  const active = activeId !== null && drawing.layout.nodes.has(activeId) ? activeId : selectedId;
  const webgl = props.snapshot.nodes.length > svgNodesMax;
  const pick = (id: string) => {
    setActiveId(id);
    props.onSelect({ kind: 'node', id });
    if (!webgl) (document.querySelector(`[data-testid="node-${CSS.escape(id)}"]`) as SVGGElement | null)?.focus();
  };
  return (
    <div data-testid="topology-view">
      <NodeSearch ids={order} onPick={pick} />
      {webgl ? <WebglListbox props={props} drawing={drawing} order={order} active={active} setActiveId={setActiveId} /> : <SvgTopology props={props} drawing={drawing} />}
      <TopologyLegend drawing={drawing} viewpoint={props.viewpoint} />
    </div>
  );
}
