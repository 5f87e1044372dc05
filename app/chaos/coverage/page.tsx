import { ConsoleShell } from '../../../components/console-shell';
import { CoveragePage } from '../../../components/coverage-page';

/** Partition shapes the cluster has been tested against. */
export default function Page() {
  return (
    <ConsoleShell>
      <CoveragePage />
    </ConsoleShell>
  );
}
