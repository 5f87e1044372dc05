import { ConsoleShell } from '../../../components/console-shell';
import { ExperimentList } from '../../../components/experiment-list';

/** Experiment runs of the cluster. */
export default function Page() {
  return (
    <ConsoleShell>
      <ExperimentList />
    </ConsoleShell>
  );
}
