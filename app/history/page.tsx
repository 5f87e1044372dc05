import { Suspense } from 'react';
import { ConsoleShell } from '../../components/console-shell';
import { HistoryPage } from '../../components/history-page';

/** Partition history with filters, sort, pagination and export. */
export default function History() {
  return (
    <ConsoleShell single>
      <Suspense fallback={<p className="muted">Loading…</p>}>
        <HistoryPage />
      </Suspense>
    </ConsoleShell>
  );
}
