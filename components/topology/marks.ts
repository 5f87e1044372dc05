/**
 * What the topology says about each node and link beyond its place: marks
 * (stale, silent, isolated, byzantine), descriptions for assistive technology,
 * and the CSS colour variables both renderers use, so the SVG, the WebGL picture
 * and the legend always agree.
 */
import type { ClusterSnapshot } from '../../core/realtime-contract';
import type { LinkState } from '../../core/reachability';
import type { PlacedSide } from './layout';

/** A node's marks. */
export interface NodeMarks {
  stale: boolean;
  silent: boolean;
  isolated: boolean;
  byzantine: boolean;
}

/** Distinct side colours (`--side-0` … `--side-4` in the theme); a sixth side reuses the first, and the legend names each. */
export const sideColourCount = 5;

/** The CSS variable holding a side's colour. */
export function sideColourVariable(side: Pick<PlacedSide, 'index' | 'unknown'>): string {
  return side.unknown ? '--side-unknown' : `--side-${side.index % sideColourCount}`;
}

/** The CSS variable for a link or bundle state. */
export function linkColourVariable(state: LinkState | 'mixed'): string {
  return state === 'down' || state === 'mixed' ? '--down' : state === 'one-way' ? '--oneway' : state === 'unknown' ? '--muted' : '--up';
}

/** How a link state is drawn: told apart by width and dash, not colour alone (the WebGL renderer has no dashes and uses width and a ✕). */
export function linkStroke(state: LinkState | 'mixed'): { width: number; dash: string | undefined } {
  switch (state) {
    case 'down':
    case 'mixed':
      return { width: 2.5, dash: '6 5' };
    case 'one-way':
      return { width: 2.5, dash: '2 3' };
    case 'unknown':
      return { width: 1, dash: '1 4' };
    default:
      return { width: 1, dash: undefined };
  }
}

/** Marks of every node of the snapshot. */
export function nodeMarks(snapshot: ClusterSnapshot): Map<string, NodeMarks> {
  const silent = new Set(snapshot.verdict.silentNodes ?? []);
  const isolated = new Set(snapshot.verdict.isolatedNodes ?? []);
  const byzantine = new Set(snapshot.verdict.byzantine?.nodes ?? []);
  return new Map(snapshot.nodes.map((node) => [node.id, { stale: node.stale, silent: silent.has(node.id), isolated: isolated.has(node.id), byzantine: byzantine.has(node.id) }]));
}

/** The marks in words ("silent: crashed or isolated, byzantine"), empty when none. */
export function describeMarks(mark: NodeMarks | undefined): string {
  if (!mark) return '';
  return [mark.silent ? 'silent: crashed or isolated' : '', mark.isolated ? 'isolated' : '', mark.byzantine ? 'byzantine' : '', mark.stale ? 'no recent report' : ''].filter(Boolean).join(', ');
}

/** A side's name as the legend and the picture show it: "Side 1 (majority), 3 nodes". */
export function sideLabel(side: Pick<PlacedSide, 'index' | 'ids' | 'majority' | 'unknown'>): string {
  const count = `${side.ids.length} node${side.ids.length === 1 ? '' : 's'}`;
  if (side.unknown) return `No side (nothing fresh known), ${count}`;
  return `Side ${side.index + 1}${side.majority ? ' (majority)' : ''}, ${count}`;
}

/** Whether `other` can be reached from `viewpoint`, as the "view from node" colours say. */
export const viewColourVariable = { both: '--ok', 'hears-only': '--oneway', 'heard-only': '--oneway', none: '--down', unknown: '--muted' } as const;
