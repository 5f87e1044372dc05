'use client';
/**
 * The lifecycle as a Mermaid state diagram, generated from core's definition
 * (never drawn by hand), with the current state highlighted and the path taken
 * marked. Mermaid is loaded on demand; the generated text stays available to
 * screen readers and as a fallback when rendering fails.
 */
import { useEffect, useId, useState } from 'react';
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

export function StateDiagram({ current, path }: { current: string | null; path: readonly string[] }) {
  const id = useId().replace(/[^a-zA-Z0-9]/g, '');
  const [svg, setSvg] = useState<string | null>(null);
  const [drawnText, setDrawnText] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const currentState = current && asStates([current])[0];
  const text = toMermaid(lifecycleDefinition, { ...(currentState ? { current: currentState } : {}), path: asStates(path) });
  useEffect(() => {
    let cancelled = false;
    void (async () => {
      try {
        const rendered = await renderQueued(`lifecycle${id}${Date.now()}`, text, document.documentElement.dataset.theme === 'dark');
        if (!cancelled) {
          setSvg(rendered);
          setDrawnText(text);
          setError(null);
        }
      } catch (caught) {
        if (!cancelled) setError((caught as Error).message);
      }
    })();
    return () => {
      cancelled = true;
    };
  }, [text, id]);
  return (
    <figure style={{ margin: 0 }} data-testid="state-diagram" data-current={currentState ?? ''} data-drawn={drawnText === text}>
      {svg ? <div className="diagram" dangerouslySetInnerHTML={{ __html: svg }} /> : error ? null : <p className="muted">Drawing the diagram…</p>}
      {error ? <p className="error">Diagram could not be drawn ({error}); its definition:</p> : null}
      <details open={error !== null}>
        <summary className="muted">Diagram source (generated from core/lifecycle)</summary>
        <pre style={{ fontSize: '0.75rem', overflowX: 'auto' }}>{text}</pre>
      </details>
      <figcaption className="muted" style={{ fontSize: '0.85rem' }}>
        Current: <strong>{currentState ?? 'Normal'}</strong>
        {path.length > 1 ? ` · path: ${path.join(' → ')}` : ''}
      </figcaption>
    </figure>
  );
}
