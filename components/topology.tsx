'use client';
/**
 * The live topology: nodes on a stable circle (sorted by id, so nothing jumps on
 * updates), coloured by the side of the partition they are on; links drawn by
 * state with more than colour: up = thin solid, down = thick dashed with a cross,
 * one-way = arrow in the direction that still works. Stale nodes are hollow.
 */
import type { ClusterSnapshot } from '../core/realtime-contract';
import type { Link } from '../core/reachability';

/** Above this many nodes, healthy links are not drawn (they would hide the cut ones). */
const drawHealthyLinksNodesMax = 40;
const size = 420;
const radius = 160;

function pairKey(a: string, b: string): string {
  return a < b ? `${a}|${b}` : `${b}|${a}`;
}

export function Topology({ snapshot }: { snapshot: ClusterSnapshot }) {
  const nodes = snapshot.nodes;
  const center = size / 2;
  const position = new Map(
    nodes.map((node, index) => {
      const angle = (2 * Math.PI * index) / Math.max(nodes.length, 1) - Math.PI / 2;
      return [node.id, { x: center + radius * Math.cos(angle), y: center + radius * Math.sin(angle) }];
    }),
  );
  const sideOf = new Map<string, number>();
  snapshot.verdict.components.forEach((component, index) => component.forEach((id) => sideOf.set(id, index)));
  const broken = new Map<string, Link>(snapshot.links.map((link) => [pairKey(link.a, link.b), link]));
  const links: Link[] = [];
  for (let i = 0; i < nodes.length; i += 1) {
    for (let j = i + 1; j < nodes.length; j += 1) {
      const a = nodes[i]!.id;
      const b = nodes[j]!.id;
      const link = broken.get(pairKey(a, b)) ?? { a, b, state: 'up' as const };
      if (link.state === 'up' && nodes.length > drawHealthyLinksNodesMax) continue;
      links.push(link);
    }
  }
  return (
    <svg
      viewBox={`0 0 ${size} ${size}`}
      role="img"
      aria-label={`Topology of ${snapshot.name}: ${nodes.length} nodes, ${snapshot.links.filter((l) => l.state !== 'up').length} links not fully up`}
      style={{ width: '100%', maxWidth: 520, display: 'block', margin: '0 auto' }}
      data-testid="topology"
    >
      <defs>
        <marker id="arrow" viewBox="0 0 10 10" refX="22" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
          <path d="M 0 0 L 10 5 L 0 10 z" fill="var(--oneway)" />
        </marker>
      </defs>
      {links.map((link) => {
        const from = link.workingDirection?.from ?? link.a;
        const to = link.workingDirection?.to ?? link.b;
        const p = position.get(from)!;
        const q = position.get(to)!;
        const style =
          link.state === 'down'
            ? { stroke: 'var(--down)', strokeWidth: 2.5, strokeDasharray: '6 5' }
            : link.state === 'one-way'
              ? { stroke: 'var(--oneway)', strokeWidth: 2.5, strokeDasharray: '2 3', markerEnd: 'url(#arrow)' }
              : link.state === 'unknown'
                ? { stroke: 'var(--muted)', strokeWidth: 1, strokeDasharray: '1 4' }
                : { stroke: 'var(--up)', strokeWidth: 1, opacity: 0.55 };
        return (
          <g key={pairKey(link.a, link.b)} data-testid={`link-${pairKey(link.a, link.b)}`} data-state={link.state}>
            <title>{`${link.a} ↔ ${link.b}: ${link.state}${link.workingDirection ? ` (only ${link.workingDirection.from} → ${link.workingDirection.to} works)` : ''}`}</title>
            <line x1={p.x} y1={p.y} x2={q.x} y2={q.y} {...style} />
            {link.state === 'down' ? (
              <text x={(p.x + q.x) / 2} y={(p.y + q.y) / 2 + 4} textAnchor="middle" fontSize="12" fill="var(--down)">
                ✕
              </text>
            ) : null}
          </g>
        );
      })}
      {nodes.map((node) => {
        const p = position.get(node.id)!;
        const side = sideOf.get(node.id) ?? 0;
        const color = `var(--side-${side % 4})`;
        return (
          <g key={node.id} data-testid={`node-${node.id}`} data-side={side} data-stale={node.stale}>
            <title>{`${node.id} ${node.address ?? ''} ${node.stale ? '(no recent report)' : ''}`}</title>
            <circle cx={p.x} cy={p.y} r={16} fill={node.stale ? 'var(--panel)' : color} stroke={color} strokeWidth={3} />
            <text x={p.x} y={p.y + 34} textAnchor="middle" fontSize="12" fill="var(--text)">
              {node.id}
            </text>
          </g>
        );
      })}
    </svg>
  );
}
