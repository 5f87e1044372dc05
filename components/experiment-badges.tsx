/** Badges of experiment runs and verdicts, in the console's badge colours. */
import type { ExperimentStatus } from '../core/experiments/experiment-views';
import type { VerdictOutcome } from '../core/experiments/observation';

const statusClass: Record<ExperimentStatus, string> = { running: 'running', passed: 'succeeded', failed: 'failed', aborted: 'aborted', error: 'failed' };
const outcomeClass: Record<VerdictOutcome, string> = { pass: 'succeeded', fail: 'failed', skipped: '' };

export function RunStatus({ status }: { status: ExperimentStatus }) {
  return <span className={`badge ${statusClass[status]}`} data-testid="run-status">{status}</span>;
}

export function VerdictBadge({ validator, outcome }: { validator: string; outcome: VerdictOutcome }) {
  return (
    <span className={`badge ${outcomeClass[outcome]}`} data-testid={`verdict-${validator}`} title={`${validator}: ${outcome}`}>
      {validator} {outcome}
    </span>
  );
}
