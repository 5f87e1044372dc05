/** Types the topology's renderers share. */
import type { ClusterSnapshot, NodeView } from '../../core/realtime-contract';
import type { Link } from '../../core/reachability';
import type { TopologyLayout } from './layout';
import type { NodeMarks } from './marks';

/** What the operator picked: a node, a link, or nothing. */
export type TopologySelection = { kind: 'node'; id: string } | { kind: 'link'; a: string; b: string } | null;

/** The topology's inputs. */
export interface TopologyProps {
  snapshot: ClusterSnapshot;
  selection: TopologySelection;
  onSelect: (selection: TopologySelection) => void;
  /** Node whose view is shown, or null. */
  viewpoint: string | null;
}

/** One snapshot's picture, computed once per snapshot and shared by the renderer, the legend and the keyboard list. */
export interface TopologyDrawing {
  layout: TopologyLayout;
  marks: Map<string, NodeMarks>;
  /** The viewpoint's links that are not fully up, by `pairKey` (empty without a viewpoint). */
  broken: Map<string, Link>;
  nodesById: Map<string, NodeView>;
}

/** The drawn geometry in viewport pixels, which the browser tests read back from the page and check like the layout. */
export interface RenderedGeometry {
  /** `colour`: the colour WebGL fills the node with (the SVG's come from CSS). */
  nodes: Array<{ id: string; x: number; y: number; radius: number; colour?: string }>;
  edges: Array<{ key: string; joins: string[]; points: Array<{ x: number; y: number }> }>;
}
