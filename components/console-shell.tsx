'use client';
/**
 * The frame of every console page: navigation, the signed-in operator and role,
 * open alert count, theme switch and sign-out. Requires a session.
 */
import { useQuery, useQueryClient } from '@tanstack/react-query';
import Link from 'next/link';
import { usePathname } from 'next/navigation';
import type { ReactNode } from 'react';
import { canManageUsers } from '../core/permissions';
import { api } from './api-client';
import { RequireSession, useSession } from './session';
import { ThemeToggle } from './theme-toggle';
import { localTimeZone } from './time';

const links = [
  { href: '/', label: 'Overview' },
  { href: '/alerts', label: 'Alerts' },
  { href: '/recovery', label: 'Recovery' },
  { href: '/history', label: 'History' },
  { href: '/chaos', label: 'Chaos' },
];

function Header() {
  const session = useSession();
  const pathname = usePathname();
  const queryClient = useQueryClient();
  const counts = useQuery({ queryKey: ['alerts', 'counts'], queryFn: () => api('alerts.counts'), refetchInterval: 10_000 });
  const all = canManageUsers(session.user.role) ? [...links, { href: '/admin', label: 'Admin' }] : links;
  const signOut = async () => {
    await api('auth.signOut', { body: {} }).catch(() => undefined);
    queryClient.clear();
    window.location.assign('/sign-in');
  };
  return (
    <header className="top">
      <h1>
        <Link href="/">Faultline</Link>
      </h1>
      <nav className="main" aria-label="Console">
        {all.map((link) => {
          const current = link.href === '/' ? pathname === '/' : pathname.startsWith(link.href);
          return (
            <Link key={link.href} href={link.href} aria-current={current ? 'page' : undefined}>
              {link.label}
              {link.href === '/alerts' && counts.data && counts.data.firing > 0 ? (
                <span className="badge firing" data-testid="firing-count" style={{ marginLeft: 4 }}>
                  {counts.data.firing}
                </span>
              ) : null}
            </Link>
          );
        })}
      </nav>
      <span className="spacer" />
      <span className="muted" title="Times are shown in this time zone">
        {localTimeZone()}
      </span>
      <ThemeToggle />
      <span data-testid="whoami">
        {session.user.name} <span className="badge">{session.user.role}</span>
      </span>
      {session.user.kind === 'session' ? (
        <button type="button" onClick={() => void signOut()}>
          Sign out
        </button>
      ) : null}
    </header>
  );
}

/** Wraps a console page. `single` uses one column. */
export function ConsoleShell({ children, single = false }: { children: ReactNode; single?: boolean }) {
  return (
    <RequireSession>
      <Header />
      <main className={single ? 'single' : undefined}>{children}</main>
    </RequireSession>
  );
}
