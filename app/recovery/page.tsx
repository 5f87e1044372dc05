import { Suspense } from 'react';
import { ConsoleShell } from '../../components/console-shell';
import { RecoveryPage } from '../../components/recovery-page';

/** Recovery: the dry run before the start buttons, approvals with their dry run, manual and phased controls (`?run=` marks one run). */
export default function Recovery() {
  return (
    <ConsoleShell>
      <Suspense fallback={<p className="muted">Loading…</p>}>
        <RecoveryPage />
      </Suspense>
    </ConsoleShell>
  );
}
