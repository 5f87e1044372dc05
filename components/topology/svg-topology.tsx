'use client';
/**
 * The topology as SVG, for clusters up to `svgNodesMax` nodes: every node and
 * every cut link is a focusable element. Sides are outlined groups in their
 * legend colour; links follow the layout's routed paths (never over a node they
 * do not join); up = thin solid, down = thick dashed with a ✕, one-way = dotted
 * with an arrow in the direction that still works, unknown = sparse dots.
 * The keyboard focus is a ring outside the node, in the text colour over a
 * halo in the panel colour, so it shows on every side colour in both themes.
 */
import type { KeyboardEvent } from 'react';
import { pairKey, viewFrom } from '../topology-layout';
import { midpointOf } from './geometry';
import type { RoutedEdge } from './layout';
import { describeMarks, linkColourVariable, linkStroke, sideColourVariable, sideLabel, viewColourVariable } from './marks';
import type { TopologyDrawing, TopologyProps } from './types';

const pointsOf = (edge: RoutedEdge) => edge.points.map((point) => `${point.x.toFixed(1)},${point.y.toFixed(1)}`).join(' ');

function describeEdge(edge: RoutedEdge): string {
  if (edge.kind === 'bundle') {
    const counts = Object.entries(edge.counts ?? {}).map(([state, count]) => `${count} ${state}`);
    return `Side ${edge.sides![0] + 1} ↔ side ${edge.sides![1] + 1}: ${counts.join(', ')}`;
  }
  const link = edge.link!;
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

function Edge({ edge, props, unit }: { edge: RoutedEdge; props: TopologyProps; unit: number }) {
  const { selection, viewpoint, onSelect } = props;
  const stroke = linkStroke(edge.state);
  const colour = `var(${linkColourVariable(edge.state)})`;
  const middle = midpointOf(edge.points);
  const link = edge.link;
  const selected = link !== undefined && selection?.kind === 'link' && pairKey(selection.a, selection.b) === edge.key;
  const faded = viewpoint !== null && !edge.joins.includes(viewpoint);
  const select = link ? () => onSelect({ kind: 'link', a: link.a, b: link.b }) : undefined;
  const width = (edge.kind === 'bundle' ? 3 * stroke.width : stroke.width) * unit;
  return (
    <g
      data-testid={edge.kind === 'bundle' ? `bundle-${edge.key}` : `link-${edge.key}`}
      data-state={edge.state}
      data-joins={edge.joins.join(' ')}
      tabIndex={edge.state === 'up' ? -1 : 0}
      role={select ? 'button' : 'img'}
      aria-label={describeEdge(edge)}
      onClick={select}
      onKeyDown={select ? onActivate(select) : undefined}
      style={{ cursor: select ? 'pointer' : 'default', opacity: faded ? 0.15 : edge.state === 'up' ? 0.55 : 1 }}
    >
      <title>{describeEdge(edge)}</title>
      <polyline points={pointsOf(edge)} fill="none" stroke="transparent" strokeWidth={10 * unit} />
      <polyline
        className="edge-line"
        points={pointsOf(edge)}
        fill="none"
        stroke={colour}
        strokeWidth={selected ? width * 2 : width}
        strokeDasharray={stroke.dash?.split(' ').map((part) => Number(part) * unit).join(' ')}
        strokeLinejoin="round"
        markerEnd={edge.state === 'one-way' ? 'url(#topology-arrow)' : undefined}
      />
      {edge.state === 'down' || edge.state === 'mixed' ? (
        <text x={middle.x} y={middle.y + 4 * unit} textAnchor="middle" fontSize={12 * unit} fill={colour}>
          ✕
        </text>
      ) : null}
      {edge.kind === 'bundle' ? (
        <text x={middle.x} y={middle.y - 8 * unit} textAnchor="middle" fontSize={12 * unit} fill="var(--text)">
          {Object.values(edge.counts ?? {}).reduce((sum, count) => sum + count, 0)} cut links
        </text>
      ) : null}
    </g>
  );
}

export function SvgTopology({ props, drawing }: { props: TopologyProps; drawing: TopologyDrawing }) {
  const { snapshot, selection, onSelect, viewpoint } = props;
  const { layout, marks, broken } = drawing;
  const unit = Math.max(1, layout.width / 560);
  const radius = layout.nodeRadius;
  return (
    <svg
      viewBox={`0 0 ${layout.width.toFixed(1)} ${layout.height.toFixed(1)}`}
      role="group"
      aria-label={`Topology of ${snapshot.name}: ${snapshot.nodes.length} nodes on ${layout.sides.length} side${layout.sides.length === 1 ? '' : 's'}, ${snapshot.links.length} links not fully up`}
      // Never drawn above 1.3 × its layout size: a small cluster's few nodes should not swell to fill the panel.
      style={{ width: '100%', maxWidth: Math.min(560, layout.width * 1.3), maxHeight: 560, display: 'block', margin: '0 auto' }}
      data-testid="topology"
      data-renderer="svg"
      data-node-radius={radius}
    >
      <defs>
        <marker id="topology-arrow" viewBox="0 0 10 10" refX="22" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
          <path d="M 0 0 L 10 5 L 0 10 z" fill="var(--oneway)" />
        </marker>
      </defs>
      {layout.sides.length > 1 || layout.sides[0]?.unknown
        ? layout.sides.map((side) => (
            <g key={side.index} data-testid={`side-${side.index}`} data-colour={sideColourVariable(side)} aria-hidden="true">
              <circle cx={side.center.x} cy={side.center.y} r={side.radius} fill={`var(${sideColourVariable(side)})`} fillOpacity={0.07} stroke={`var(${sideColourVariable(side)})`} strokeWidth={1.5 * unit} strokeDasharray={side.unknown ? `${4 * unit} ${4 * unit}` : undefined} />
              <text x={side.center.x} y={side.center.y - side.radius - 6 * unit} textAnchor="middle" fontSize={12 * unit} fill="var(--text)">
                {sideLabel(side)}
              </text>
            </g>
          ))
        : null}
      {layout.edges.map((edge) => (
        <Edge key={edge.key} edge={edge} props={props} unit={unit} />
      ))}
      {snapshot.nodes.map((node) => {
        const p = layout.nodes.get(node.id);
        const mark = marks.get(node.id);
        if (!p || !mark) return null;
        const side = layout.sides[p.side]!;
        const colour = viewpoint && viewpoint !== node.id ? `var(${viewColourVariable[viewFrom(viewpoint, node.id, broken)]})` : `var(${sideColourVariable(side)})`;
        const hollow = mark.stale || mark.silent;
        const selected = (selection?.kind === 'node' && selection.id === node.id) || viewpoint === node.id;
        const select = () => onSelect({ kind: 'node', id: node.id });
        const status = describeMarks(mark);
        return (
          <g
            key={node.id}
            className="topology-node"
            data-testid={`node-${node.id}`}
            data-side={p.side}
            data-stale={node.stale}
            data-byzantine={mark.byzantine}
            tabIndex={0}
            role="button"
            aria-label={`${node.id}, ${sideLabel(side)}${status ? ` (${status})` : ''}`}
            aria-pressed={selection?.kind === 'node' && selection.id === node.id}
            onClick={select}
            onKeyDown={onActivate(select)}
            style={{ cursor: 'pointer' }}
          >
            <title>{`${node.id} ${node.address ?? ''} ${status}`}</title>
            {mark.byzantine ? <circle cx={p.x} cy={p.y} r={radius + 6} fill="none" stroke="var(--down)" strokeWidth={2} /> : null}
            <circle className="focus-halo" cx={p.x} cy={p.y} r={radius + 6} fill="none" strokeWidth={7} />
            <circle className="focus-ring" cx={p.x} cy={p.y} r={radius + 6} fill="none" strokeWidth={3} />
            <circle
              className="node-dot"
              cx={p.x}
              cy={p.y}
              r={radius}
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
            <text x={p.x} y={p.y + radius + 18} textAnchor="middle" fontSize={12 * Math.min(unit, 1.5)} fill="var(--text)">
              {node.id}
            </text>
          </g>
        );
      })}
    </svg>
  );
}
