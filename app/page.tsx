import { ConsoleShell } from '../components/console-shell';
import { Overview } from '../components/overview';

/** The overview: live topology, matrix, evidence, lifecycle, incidents. */
export default function HomePage() {
  return (
    <ConsoleShell>
      <Overview />
    </ConsoleShell>
  );
}
