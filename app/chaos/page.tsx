import { ActiveFaults } from '../../components/active-faults';
import { ChaosPanel } from '../../components/chaos-panel';
import { ConsoleShell } from '../../components/console-shell';
import { ExperimentPanel } from '../../components/experiment-panel';

/** Chaos panel: inject faults into the demo or a test cluster and watch; run experiments; see the faults in force. */
export default function Chaos() {
  return (
    <ConsoleShell>
      <ExperimentPanel />
      <ChaosPanel />
      <ActiveFaults />
    </ConsoleShell>
  );
}
