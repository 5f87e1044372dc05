/**
 * Renders the lifecycle definition as Mermaid `stateDiagram-v2` text, generated from
 * the definition (never drawn by hand), with the current state highlighted and the
 * path a partition took marked: visited states styled, taken edges numbered in order.
 */
import type { LifecycleDefinition, LifecycleState } from './lifecycle-definition';

/** What to highlight. */
export interface MermaidOptions {
  /** The state to highlight as current, if any. */
  current?: LifecycleState;
  /** States in the order visited (for example a partition's `path`); consecutive pairs are the taken edges. */
  path?: readonly LifecycleState[];
  /**
   * False: leave `current` unstyled (neither current nor visited), for a picture on
   * which the console marks the current state itself, at once, without a new render.
   */
  styleCurrent?: boolean;
}

/** Edge label text safe inside Mermaid (no colons, semicolons or hashes, which Mermaid parses). */
function safeLabel(text: string): string {
  return text.replace(/[:;#]/g, ' ').trim();
}

/** Generates the diagram. */
export function toMermaid(definition: LifecycleDefinition, options: MermaidOptions = {}): string {
  const path = options.path ?? [];
  const stepsByEdge = new Map<string, number[]>();
  for (let index = 1; index < path.length; index++) {
    const edge = `${path[index - 1]}>${path[index]}`;
    stepsByEdge.set(edge, [...(stepsByEdge.get(edge) ?? []), index]);
  }
  const lines = ['stateDiagram-v2', `    [*] --> ${definition.initial}`];
  for (const transition of definition.transitions) {
    const steps = stepsByEdge.get(`${transition.from}>${transition.to}`);
    const mark = steps === undefined ? '' : ` (step ${steps.join(', ')})`;
    lines.push(`    ${transition.from} --> ${transition.to}: ${safeLabel(transition.label)}${mark}`);
  }
  lines.push('    classDef current fill:#f59e0b,stroke:#92400e,stroke-width:3px,color:#111');
  lines.push('    classDef visited fill:#dbeafe,stroke:#1d4ed8,stroke-width:2px,color:#111');
  const visited = [...new Set(path)].filter((state) => state !== options.current);
  if (visited.length > 0) lines.push(`    class ${visited.join(',')} visited`);
  if (options.current !== undefined && options.styleCurrent !== false) lines.push(`    class ${options.current} current`);
  return `${lines.join('\n')}\n`;
}
