import { ConsoleShell } from '../../../../components/console-shell';
import { ExperimentReportPage } from '../../../../components/experiment-report';

/** One experiment's report. */
export default function Page() {
  return (
    <ConsoleShell>
      <ExperimentReportPage />
    </ConsoleShell>
  );
}
