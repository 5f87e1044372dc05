import { ChaosPanel } from '../../components/chaos-panel';
import { ConsoleShell } from '../../components/console-shell';

/** Chaos panel: inject faults into the demo or a test cluster and watch. */
export default function Chaos() {
  return (
    <ConsoleShell>
      <ChaosPanel />
    </ConsoleShell>
  );
}
