import { Suspense } from 'react';
import { AlertsPage } from '../../components/alerts-page';
import { ConsoleShell } from '../../components/console-shell';

/** Alerts: filter, search, acknowledge with a note, resolve. */
export default function Alerts() {
  return (
    <ConsoleShell single>
      <Suspense fallback={<p className="muted">Loading…</p>}>
        <AlertsPage />
      </Suspense>
    </ConsoleShell>
  );
}
