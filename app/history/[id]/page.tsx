import { ConsoleShell } from '../../../components/console-shell';
import { PartitionPage } from '../../../components/partition-page';

/** One partition: facts, lifecycle path, charts, timeline, reconciliation. */
export default function Partition() {
  return (
    <ConsoleShell>
      <PartitionPage />
    </ConsoleShell>
  );
}
