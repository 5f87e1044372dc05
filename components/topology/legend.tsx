'use client';
/** The topology's legend: each side with its colour swatch and size, then how links and nodes are marked. */
import { linkColourVariable, sideColourVariable, sideLabel } from './marks';
import type { TopologyDrawing } from './types';

export function TopologyLegend({ drawing, viewpoint }: { drawing: TopologyDrawing; viewpoint: string | null }) {
  const { layout } = drawing;
  return (
    <div className="legend" data-testid="topology-legend">
      {layout.sides.map((side) => (
        <span key={side.index} data-testid={`legend-side-${side.index}`} data-colour={sideColourVariable(side)}>
          <svg width="12" height="12" aria-hidden="true" style={{ verticalAlign: 'middle', marginRight: 4 }}>
            <circle cx="6" cy="6" r="5" fill={`var(${sideColourVariable(side)})`} />
          </svg>
          {sideLabel(side)}
        </span>
      ))}
      <span>── up{layout.healthyLinksDrawn ? '' : ' (not drawn above 40 nodes: every pair not marked cut is up)'}</span>
      <span style={{ color: `var(${linkColourVariable('down')})` }}>- - ✕ cut{layout.edges.some((edge) => edge.kind === 'bundle') ? ' (thick: all cut links between two sides, with their count)' : ''}</span>
      <span style={{ color: `var(${linkColourVariable('one-way')})` }}>··▶ one-way (arrow: direction that works)</span>
      <span>○ hollow: no recent report</span>
      <span>? silent (crashed or isolated)</span>
      <span>! byzantine (signed contradictions)</span>
      {layout.omitted.map((entry) => (
        <span key={entry.side} className="error">
          {entry.count} more cut links inside side {entry.side + 1} not drawn (see the matrix)
        </span>
      ))}
      {viewpoint ? <span>view from {viewpoint}: green both ways, amber one way, red none</span> : null}
    </div>
  );
}
