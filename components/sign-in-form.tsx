'use client';
/** The sign-in form: name and password; on success, back to where the operator was going. */
import { useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { ApiError, api, setCsrfToken } from './api-client';
import { ThemeToggle } from './theme-toggle';

/** Only same-site paths are followed after sign-in (no open redirect). */
function safeNext(): string {
  const next = new URLSearchParams(window.location.search).get('next') ?? '/';
  return next.startsWith('/') && !next.startsWith('//') ? next : '/';
}

export function SignInForm() {
  const queryClient = useQueryClient();
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setBusy(true);
    setError(null);
    try {
      const result = await api('auth.signIn', {
        body: { name: String(form.get('name') ?? ''), password: String(form.get('password') ?? '') },
        redirectOnUnauthorized: false,
      });
      setCsrfToken(result.csrfToken);
      queryClient.clear();
      window.location.assign(safeNext());
    } catch (caught) {
      setError(caught instanceof ApiError ? caught.message : 'sign-in failed');
      setBusy(false);
    }
  };
  return (
    <section className="panel sign-in" aria-labelledby="sign-in-heading">
      <div className="row" style={{ justifyContent: 'space-between' }}>
        <h2 id="sign-in-heading">Sign in to Faultline</h2>
        <ThemeToggle />
      </div>
      <form className="stack" onSubmit={(event) => void submit(event)}>
        <label className="field">
          Name
          <input name="name" autoComplete="username" required autoFocus data-testid="sign-in-name" />
        </label>
        <label className="field">
          Password
          <input name="password" type="password" autoComplete="current-password" required data-testid="sign-in-password" />
        </label>
        {error ? (
          <p className="error" role="alert" data-testid="sign-in-error">
            {error}
          </p>
        ) : null}
        <button type="submit" className="primary" disabled={busy} data-testid="sign-in-submit">
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
        <p className="muted" style={{ fontSize: '0.85rem' }}>
          The first admin is <code>admin</code>; its password is FAULTLINE_ADMIN_PASSWORD or the one printed when the server first started.
        </p>
      </form>
    </section>
  );
}
