'use client';
/**
 * The signed-in operator: name, role and the session's CSRF token, read from
 * /api/auth/session. Pages inside the console shell wait for it and send the
 * browser to the sign-in page when there is no session.
 */
import { useQuery } from '@tanstack/react-query';
import { createContext, type ReactNode, useContext, useEffect } from 'react';
import type { SessionView } from '../core/http-views';
import { api, goToSignIn, setCsrfToken } from './api-client';

const SessionContext = createContext<SessionView | null>(null);

/** The current session (inside `RequireSession`, never null). */
export function useSession(): SessionView {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside RequireSession');
  return session;
}

/** Fetches the session; renders children once signed in, else goes to sign-in. */
export function RequireSession({ children }: { children: ReactNode }) {
  const query = useQuery({
    queryKey: ['session'],
    queryFn: () => api('auth.session', { redirectOnUnauthorized: false }),
    staleTime: 60_000,
    retry: 1,
  });
  useEffect(() => {
    if (query.data) setCsrfToken(query.data.csrfToken);
    if (query.isSuccess && !query.data) goToSignIn();
  }, [query.data, query.isSuccess]);
  if (query.isError) {
    return (
      <p className="notice error" role="alert" style={{ margin: '2rem' }}>
        Cannot reach the Faultline server: {query.error.message}. Retrying…
      </p>
    );
  }
  if (!query.data) return <p className="muted" style={{ margin: '2rem' }}>Checking your session…</p>;
  return <SessionContext.Provider value={query.data}>{children}</SessionContext.Provider>;
}
