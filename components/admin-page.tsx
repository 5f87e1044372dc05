'use client';
/** Admin: users and roles, API tokens (shown once at creation), and the read-only audit log. */
import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import type { HttpBody } from '../core/http-contract';
import { isRole, roles } from '../core/permissions';
import { api } from './api-client';
import { TimeLabel } from './time-label';

function Users() {
  const queryClient = useQueryClient();
  const users = useQuery({ queryKey: ['users'], queryFn: () => api('users.list') });
  const create = useMutation({
    mutationFn: (body: HttpBody<'users.create'>) => api('users.create', { body }),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: ['users'] }),
  });
  const update = useMutation({
    mutationFn: ({ id, ...body }: HttpBody<'users.update'> & { id: string }) => api('users.update', { params: { id }, body }),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: ['users'] }),
  });
  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const role = String(form.get('role'));
    if (isRole(role)) create.mutate({ name: String(form.get('name')), role, password: String(form.get('password')) });
    event.currentTarget.reset();
  };
  return (
    <section className="panel" aria-labelledby="users-heading">
      <h2 id="users-heading">Users</h2>
      {users.isPending ? <p className="muted">Loading…</p> : null}
      {users.isError ? <p className="notice error">{users.error.message}</p> : null}
      {users.data ? (
        <table>
          <thead>
            <tr>
              <th>Name</th>
              <th>Role</th>
              <th>Created</th>
              <th>Status</th>
            </tr>
          </thead>
          <tbody>
            {users.data.map((user) => (
              <tr key={user.id}>
                <td>{user.name}</td>
                <td>
                  <select value={user.role} onChange={(event) => isRole(event.target.value) && update.mutate({ id: user.id, role: event.target.value })} aria-label={`Role of ${user.name}`}>
                    {roles.map((role) => (
                      <option key={role}>{role}</option>
                    ))}
                  </select>
                </td>
                <td>
                  <TimeLabel ms={user.createdAtMs} relative={false} />
                </td>
                <td>
                  <button type="button" onClick={() => update.mutate({ id: user.id, disabled: user.disabledAtMs === null })}>
                    {user.disabledAtMs === null ? 'Disable' : 'Enable'}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      {update.isError ? <p className="error" role="alert">{update.error.message}</p> : null}
      <form className="filters" onSubmit={submit} style={{ marginTop: '0.75rem' }}>
        <label className="field">
          Name
          <input name="name" required pattern="[A-Za-z0-9._@-]+" />
        </label>
        <label className="field">
          Role
          <select name="role" defaultValue="viewer">
            {roles.map((role) => (
              <option key={role}>{role}</option>
            ))}
          </select>
        </label>
        <label className="field">
          Password (10+ characters)
          <input name="password" type="password" minLength={10} required autoComplete="new-password" />
        </label>
        <button type="submit" className="primary" disabled={create.isPending}>
          Add user
        </button>
      </form>
      {create.isError ? <p className="error" role="alert">{create.error.message}</p> : null}
    </section>
  );
}

function Tokens() {
  const queryClient = useQueryClient();
  const [shown, setShown] = useState<string | null>(null);
  const tokens = useQuery({ queryKey: ['tokens'], queryFn: () => api('tokens.list') });
  const create = useMutation({
    mutationFn: (body: HttpBody<'tokens.create'>) => api('tokens.create', { body }),
    onSuccess: (result) => {
      setShown(result.token);
      void queryClient.invalidateQueries({ queryKey: ['tokens'] });
    },
  });
  const revoke = useMutation({
    mutationFn: (id: string) => api('tokens.revoke', { params: { id }, body: {} }),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: ['tokens'] }),
  });
  return (
    <section className="panel" aria-labelledby="tokens-heading">
      <h2 id="tokens-heading">API tokens</h2>
      {shown ? (
        <p className="notice" role="status">
          New token (copy it now; it is stored only as a hash and never shown again): <code style={{ wordBreak: 'break-all' }}>{shown}</code>{' '}
          <button type="button" onClick={() => setShown(null)}>
            Done
          </button>
        </p>
      ) : null}
      {tokens.data && tokens.data.length === 0 ? <p className="muted">No token yet.</p> : null}
      {tokens.data && tokens.data.length > 0 ? (
        <table>
          <thead>
            <tr>
              <th>Name</th>
              <th>Role</th>
              <th>Created</th>
              <th>Last used</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {tokens.data.map((token) => (
              <tr key={token.id}>
                <td>{token.name}</td>
                <td>{token.role}</td>
                <td>
                  {token.createdBy}, <TimeLabel ms={token.createdAtMs} relative={false} />
                </td>
                <td>{token.lastUsedAtMs ? <TimeLabel ms={token.lastUsedAtMs} /> : 'never'}</td>
                <td>
                  {token.revokedAtMs ? (
                    <span className="muted">revoked</span>
                  ) : (
                    <button type="button" className="danger" onClick={() => revoke.mutate(token.id)}>
                      Revoke
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      <form
        className="filters"
        style={{ marginTop: '0.75rem' }}
        onSubmit={(event) => {
          event.preventDefault();
          const form = new FormData(event.currentTarget);
          const role = String(form.get('role'));
          if (isRole(role)) create.mutate({ name: String(form.get('name')), role });
          event.currentTarget.reset();
        }}
      >
        <label className="field">
          Name
          <input name="name" required maxLength={64} />
        </label>
        <label className="field">
          Role
          <select name="role" defaultValue="viewer">
            {roles.map((role) => (
              <option key={role}>{role}</option>
            ))}
          </select>
        </label>
        <button type="submit" className="primary">
          Create token
        </button>
      </form>
      {create.isError ? <p className="error">{create.error.message}</p> : null}
    </section>
  );
}

function AuditLogView() {
  const [actor, setActor] = useState('');
  const [action, setAction] = useState('');
  const audit = useInfiniteQuery({
    queryKey: ['audit', actor, action],
    initialPageParam: '',
    queryFn: ({ pageParam }) =>
      api('audit.list', { query: { limit: 50, before: pageParam || undefined, actor: actor || undefined, action: action || undefined } }),
    getNextPageParam: (last) => (last.length === 50 ? last.at(-1)!.id : undefined),
  });
  const rows = audit.data?.pages.flat() ?? [];
  return (
    <section className="panel wide" aria-labelledby="audit-heading">
      <h2 id="audit-heading">Audit log <span className="muted" style={{ fontWeight: 'normal' }}>append-only: the database refuses edits and deletions</span></h2>
      <div className="filters">
        <label className="field">
          Actor
          <input value={actor} onChange={(event) => setActor(event.target.value)} />
        </label>
        <label className="field">
          Action starts with
          <input value={action} onChange={(event) => setAction(event.target.value)} placeholder="alert." />
        </label>
      </div>
      {audit.isPending ? <p className="muted">Loading…</p> : null}
      {audit.isError ? <p className="notice error">{audit.error.message}</p> : null}
      {rows.length > 0 ? (
        <table data-testid="audit-log">
          <thead>
            <tr>
              <th>When</th>
              <th>Who</th>
              <th>What</th>
              <th>Target</th>
              <th>Outcome</th>
              <th>From</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((entry) => {
              const data = entry.data as { outcome?: string; request?: unknown };
              return (
                <tr key={entry.id}>
                  <td>
                    <TimeLabel ms={entry.atMs} />
                  </td>
                  <td>{entry.actor}</td>
                  <td>{entry.action}</td>
                  <td>{entry.target ?? ''}</td>
                  <td className={data.outcome?.startsWith('refused') ? 'error' : undefined} title={data.request ? JSON.stringify(data.request) : undefined}>
                    {data.outcome ?? ''}
                  </td>
                  <td className="muted">{entry.origin ?? ''}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      ) : audit.isSuccess ? (
        <p className="muted">No entry matches.</p>
      ) : null}
      {audit.hasNextPage ? (
        <button type="button" onClick={() => void audit.fetchNextPage()} disabled={audit.isFetchingNextPage}>
          Older entries
        </button>
      ) : null}
    </section>
  );
}

export function AdminPage() {
  return (
    <>
      <Users />
      <Tokens />
      <AuditLogView />
    </>
  );
}
