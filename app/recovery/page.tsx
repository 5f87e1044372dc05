import { ConsoleShell } from '../../components/console-shell';
import { RecoveryPage } from '../../components/recovery-page';

/** Recovery: approvals with their dry run, manual and phased controls. */
export default function Recovery() {
  return (
    <ConsoleShell>
      <RecoveryPage />
    </ConsoleShell>
  );
}
