'use client';
/**
 * The lifecycle as a Mermaid state diagram, generated from core's definition
 * (never drawn by hand), with the current state highlighted and the path taken
 * marked. Mermaid is loaded on demand; the generated text stays available to
 * screen readers and as a fallback when rendering fails.
 *
 * The current state is not part of what Mermaid draws: it is marked on the drawn
 * picture in the same React commit that shows the new state anywhere else on the
 * page (the badge), so the two never disagree while a new picture renders (a render
 * takes a second or more on a busy machine). Mermaid redraws for a new path and for
 * a theme change, whose colours it bakes into the picture.
 */
import { useEffect, useId, useLayoutEffect, useRef, useState } from 'react';
import { lifecycleDefinition, lifecycleStates, type LifecycleState } from '../core/lifecycle/lifecycle-definition';
import { toMermaid } from '../core/lifecycle/to-mermaid';

/**
 * Mermaid renders one diagram at a time: a second `render` started before the
 * first finishes can leave the older picture on screen. Renders are queued here.
 */
let renderQueue: Promise<unknown> = Promise.resolve();

function renderQueued(id: string, text: string, dark: boolean): Promise<string> {
  const next = renderQueue.then(async () => {
    const { default: mermaid } = await import('mermaid');
    mermaid.initialize({ startOnLoad: false, theme: dark ? 'dark' : 'default', securityLevel: 'strict' });
    return (await mermaid.render(id, text)).svg;
  });
  renderQueue = next.catch(() => undefined);
  return next;
}

function asStates(values: readonly string[]): LifecycleState[] {
  return values.filter((value): value is LifecycleState => (lifecycleStates as readonly string[]).includes(value));
}

/** Whether the page is in dark mode now; follows the theme toggle (the `data-theme` attribute) as it changes. */
function useDarkTheme(): boolean {
  const [dark, setDark] = useState(false);
  useEffect(() => {
    const root = document.documentElement;
    const read = () => setDark(root.dataset.theme === 'dark');
    read();
    const observer = new MutationObserver(read);
    observer.observe(root, { attributes: true, attributeFilter: ['data-theme'] });
    return () => observer.disconnect();
  }, []);
  return dark;
}

/** The drawn node of `state` in a Mermaid state diagram (its group carries the state's id). */
function stateNode(container: HTMLElement, state: string): Element | null {
  return container.querySelector(`g.node[data-id="${state}"]`) ?? container.querySelector(`g.node[id*="-state-${state}-"]`);
}

/** The current state's colours (core/lifecycle/to-mermaid's `current` class), inline so that no picture style overrides them. */
const currentStyle: [string, string][] = [
  ['fill', '#f59e0b'],
  ['stroke', '#92400e'],
  ['stroke-width', '3px'],
];

/** Marks (or unmarks) a drawn state node as the current state. */
function markCurrent(node: Element, on: boolean): void {
  if (on) node.setAttribute('data-current', 'true');
  else node.removeAttribute('data-current');
  for (const shape of node.querySelectorAll<SVGElement>('rect, path, polygon, circle, ellipse')) {
    for (const [property, value] of currentStyle) {
      if (on) shape.style.setProperty(property, value, 'important');
      else shape.style.removeProperty(property);
    }
  }
  for (const label of node.querySelectorAll<HTMLElement | SVGElement>('text, tspan, span, p, div')) {
    if (on) label.style.setProperty('color', '#111', 'important');
    else label.style.removeProperty('color');
    if (label instanceof SVGElement) {
      if (on) label.style.setProperty('fill', '#111', 'important');
      else label.style.removeProperty('fill');
    }
  }
}

export function StateDiagram({ current, path }: { current: string | null; path: readonly string[] }) {
  const id = useId().replace(/[^a-zA-Z0-9]/g, '');
  const dark = useDarkTheme();
  const [drawn, setDrawn] = useState<{ svg: string; key: string } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const pictureRef = useRef<HTMLDivElement>(null);
  const currentState = current ? (asStates([current])[0] ?? null) : null;
  // The path as known, ending in the current state even before the partition's history is fetched again.
  const states = asStates(path);
  const walked = currentState && states.length > 0 && states.at(-1) !== currentState ? [...states, currentState] : states;
  // What Mermaid draws: the definition and the path; the current state is marked on the picture below.
  const drawnText = toMermaid(lifecycleDefinition, { ...(currentState ? { current: currentState } : {}), path: walked, styleCurrent: false });
  const shownText = toMermaid(lifecycleDefinition, { ...(currentState ? { current: currentState } : {}), path: walked });
  const key = `${dark ? 'dark' : 'light'}\n${drawnText}`;
  useEffect(() => {
    let cancelled = false;
    void (async () => {
      try {
        const svg = await renderQueued(`lifecycle${id}${Date.now()}`, drawnText, dark);
        if (!cancelled) {
          setDrawn({ svg, key });
          setError(null);
        }
      } catch (caught) {
        if (!cancelled) setError((caught as Error).message);
      }
    })();
    return () => {
      cancelled = true;
    };
  }, [drawnText, dark, key, id]);
  // Before paint, in the commit that brought the new state: mark it on the picture.
  useLayoutEffect(() => {
    const container = pictureRef.current;
    if (!container) return;
    for (const marked of container.querySelectorAll('[data-current="true"]')) markCurrent(marked, false);
    const node = currentState ? stateNode(container, currentState) : null;
    if (node) markCurrent(node, true);
  }, [currentState, drawn]);
  return (
    <figure style={{ margin: 0 }} data-testid="state-diagram" data-current={currentState ?? ''} data-drawn={drawn?.key === key} data-theme-drawn={drawn?.key.split('\n')[0] ?? ''}>
      {drawn ? <div className="diagram" ref={pictureRef} dangerouslySetInnerHTML={{ __html: drawn.svg }} /> : error ? null : <p className="muted">Drawing the diagram…</p>}
      {error ? <p className="error">Diagram could not be drawn ({error}); its definition:</p> : null}
      <details open={error !== null}>
        <summary className="muted">Diagram source (generated from core/lifecycle)</summary>
        <pre style={{ fontSize: '0.75rem', overflowX: 'auto' }}>{shownText}</pre>
      </details>
      <figcaption className="muted" style={{ fontSize: '0.85rem' }}>
        Current: <strong>{currentState ?? 'Normal'}</strong>
        {walked.length > 1 ? ` · path: ${walked.join(' → ')}` : ''}
      </figcaption>
    </figure>
  );
}
