'use client';
/** Light / dark switch; the choice is kept in localStorage and applied before first paint by the layout's script. */
import { useEffect, useState } from 'react';

type Theme = 'light' | 'dark';

/** Script run in <head> before paint: applies the saved or the system theme (no flash). */
export const themeBootScript = `(function(){try{var t=localStorage.getItem('faultline-theme');if(t!=='light'&&t!=='dark'){t=window.matchMedia('(prefers-color-scheme: dark)').matches?'dark':'light'}document.documentElement.dataset.theme=t}catch(e){}})()`;

export function ThemeToggle() {
  const [theme, setTheme] = useState<Theme | null>(null);
  useEffect(() => setTheme(document.documentElement.dataset.theme === 'dark' ? 'dark' : 'light'), []);
  const flip = () => {
    const next: Theme = theme === 'dark' ? 'light' : 'dark';
    document.documentElement.dataset.theme = next;
    localStorage.setItem('faultline-theme', next);
    setTheme(next);
  };
  return (
    <button type="button" onClick={flip} aria-label={`Switch to ${theme === 'dark' ? 'light' : 'dark'} theme`} data-testid="theme-toggle">
      {theme === 'dark' ? '☀ Light' : '☾ Dark'}
    </button>
  );
}
