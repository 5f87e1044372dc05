'use client';
/**
 * The incident list: filter by status, search, acknowledge with a note, resolve;
 * who did what and when. Buttons a role cannot use are hidden, but the server
 * decides: a refused action shows the server's reason.
 */
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useSearchParams } from 'next/navigation';
import { useState } from 'react';
import type { AlertView } from '../core/realtime-contract';
import { canAcknowledgeAlerts } from '../core/permissions';
import { api } from './api-client';
import { useSession } from './session';
import { TimeLabel } from './time-label';
import { useCluster } from './use-cluster';

const statusChoices = [
  { value: 'firing,acknowledged', label: 'Open' },
  { value: 'firing', label: 'Firing' },
  { value: 'acknowledged', label: 'Acknowledged' },
  { value: 'resolved', label: 'Resolved' },
  { value: '', label: 'All' },
];

function AcknowledgeForm({ alert, onDone }: { alert: AlertView; onDone: () => void }) {
  const queryClient = useQueryClient();
  const [note, setNote] = useState('');
  const mutation = useMutation({
    mutationFn: () => api('alerts.acknowledge', { params: { id: alert.id }, body: { note } }),
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: ['alerts'] });
      onDone();
    },
  });
  return (
    <form
      className="stack"
      onSubmit={(event) => {
        event.preventDefault();
        mutation.mutate();
      }}
      data-testid="ack-form"
    >
      <label className="field">
        Note (what you are doing about it)
        <textarea value={note} onChange={(event) => setNote(event.target.value)} required maxLength={2000} rows={2} autoFocus data-testid="ack-note" />
      </label>
      <div className="row">
        <button type="submit" className="primary" disabled={mutation.isPending || note.trim().length === 0} data-testid="ack-submit">
          Acknowledge
        </button>
        <button type="button" onClick={onDone}>
          Cancel
        </button>
      </div>
      {mutation.isError ? (
        <p className="error" role="alert" data-testid="action-error">
          {mutation.error.message}
        </p>
      ) : null}
    </form>
  );
}

/** What happened under an incident after it fired (breaches with their values, emergency, a recovery waiting), newest last, with links. */
function IncidentEntries({ alert }: { alert: AlertView }) {
  const later = alert.entries.slice(1);
  if (later.length === 0) return null;
  return (
    <ul className="incident-entries" data-testid="incident-entries" style={{ margin: '0.25rem 0', paddingLeft: '1.1rem' }}>
      {later.map((entry, index) => (
        <li key={`${entry.rule}-${index}`} data-testid="incident-entry" data-rule={entry.rule}>
          <span className={`badge ${entry.severity}`}>{entry.severity}</span> {entry.title}{' '}
          {entry.link ? (
            <a href={entry.link} data-testid="incident-entry-link">
              {entry.rule === 'recovery-pending' ? 'review the recovery →' : 'recovery page →'}
            </a>
          ) : null}{' '}
          <span className="muted">
            <TimeLabel ms={entry.atMs} />
          </span>
        </li>
      ))}
    </ul>
  );
}

function AlertRow({ alert, mayAct }: { alert: AlertView; mayAct: boolean }) {
  const queryClient = useQueryClient();
  const [acknowledging, setAcknowledging] = useState(false);
  const resolve = useMutation({
    mutationFn: () => api('alerts.resolve', { params: { id: alert.id }, body: {} }),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: ['alerts'] }),
  });
  return (
    <tr data-testid="alert-row" data-alert-id={alert.id} data-status={alert.status}>
      <td>
        <span className={`badge ${alert.status}`}>{alert.status}</span> <span className={`badge ${alert.severity}`}>{alert.severity}</span>
      </td>
      <td>
        <strong>{alert.title}</strong>
        <IncidentEntries alert={alert} />
        <div className="muted">
          {alert.rule}
          {alert.partitionId ? (
            <>
              {' · '}
              <a href={`/history/${alert.partitionId}`}>partition</a>
            </>
          ) : null}
        </div>
      </td>
      <td>
        <TimeLabel ms={alert.firedAtMs} />
      </td>
      <td>
        {alert.acknowledgedBy ? (
          <div data-testid="ack-by">
            Acknowledged by <strong>{alert.acknowledgedBy}</strong> {alert.acknowledgedAtMs ? <TimeLabel ms={alert.acknowledgedAtMs} /> : null}
            {alert.note ? <blockquote style={{ margin: '0.25rem 0 0 0.5rem' }}>“{alert.note}”</blockquote> : null}
          </div>
        ) : null}
        {alert.resolvedBy ? (
          <div>
            Resolved by <strong>{alert.resolvedBy}</strong> {alert.resolvedAtMs ? <TimeLabel ms={alert.resolvedAtMs} /> : null}
          </div>
        ) : null}
      </td>
      <td style={{ minWidth: 220 }}>
        {acknowledging ? (
          <AcknowledgeForm alert={alert} onDone={() => setAcknowledging(false)} />
        ) : mayAct && alert.status !== 'resolved' ? (
          <div className="row">
            {alert.status === 'firing' ? (
              <button type="button" onClick={() => setAcknowledging(true)} data-testid="ack-open">
                Acknowledge…
              </button>
            ) : null}
            <button type="button" onClick={() => resolve.mutate()} disabled={resolve.isPending} data-testid="resolve">
              Resolve
            </button>
          </div>
        ) : !mayAct ? (
          <span className="muted">read only</span>
        ) : null}
        {resolve.isError ? <p className="error" role="alert">{resolve.error.message}</p> : null}
      </td>
    </tr>
  );
}

export function AlertsPage() {
  const session = useSession();
  const { cluster } = useCluster();
  const params = useSearchParams();
  const [status, setStatus] = useState('firing,acknowledged');
  const [search, setSearch] = useState('');
  const query = { limit: 100, status: status || undefined, search: search.trim() || undefined, clusterId: cluster?.id };
  const alerts = useQuery({ queryKey: ['alerts', 'list', query], queryFn: () => api('alerts.list', { query }), enabled: cluster !== null });
  const focus = params.get('focus');
  return (
    <section className="panel" aria-labelledby="alerts-heading">
      <h2 id="alerts-heading">Alerts</h2>
      <div className="filters" role="search">
        <label className="field">
          Status
          <select value={status} onChange={(event) => setStatus(event.target.value)} data-testid="alert-status-filter">
            {statusChoices.map((choice) => (
              <option key={choice.label} value={choice.value}>
                {choice.label}
              </option>
            ))}
          </select>
        </label>
        <label className="field">
          Search title, rule or note
          <input type="search" value={search} onChange={(event) => setSearch(event.target.value)} data-testid="alert-search" />
        </label>
      </div>
      {alerts.isPending ? <p className="muted">Loading alerts…</p> : null}
      {alerts.isError ? <p className="notice error">Could not load alerts: {alerts.error.message}</p> : null}
      {alerts.data && alerts.data.length === 0 ? <p className="muted" data-testid="alerts-empty">No alert matches. When a partition lasts too long or recovery stalls, alerts appear here.</p> : null}
      {alerts.data && alerts.data.length > 0 ? (
        <table data-testid="alert-list">
          <thead>
            <tr>
              <th>Status</th>
              <th>Alert</th>
              <th>Fired</th>
              <th>Who did what</th>
              <th>Action</th>
            </tr>
          </thead>
          <tbody>
            {alerts.data.map((alert) => (
              <AlertRow key={alert.id} alert={alert} mayAct={canAcknowledgeAlerts(session.user.role)} />
            ))}
          </tbody>
        </table>
      ) : null}
      {focus ? <p className="muted">Linked alert: {focus}</p> : null}
    </section>
  );
}
