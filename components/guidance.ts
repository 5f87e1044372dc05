/**
 * The one line of guidance the overview puts first: for the current state of the
 * cluster, what the person on call should do next and where to do it, as incident
 * tools put the next action first. Pure, so each state's line is tested as a table.
 */
import { selectRecoveryStrategy } from '../core/policy/recovery-strategy';
import type { PartitionSummary, RecoveryRunView } from '../core/realtime-contract';

/** How urgent the line is: `ok` nothing to do, `watch` it handles itself, `act` a person must decide. */
export type GuidanceTone = 'ok' | 'watch' | 'act';

/** The line and its link. */
export interface Guidance {
  tone: GuidanceTone;
  /** The lifecycle state (or `Normal`) it is for, for tests and styling. */
  state: string;
  text: string;
  href: string;
  /** The link's words. */
  linkText: string;
}

const openStatuses: ReadonlySet<string> = new Set(['pending-approval', 'approved', 'running', 'paused']);

function hasMajority(partition: Pick<PartitionSummary, 'components'>): boolean {
  const size = partition.components.reduce((sum, side) => sum + side.length, 0);
  return partition.components.some((side) => side.length >= Math.floor(size / 2) + 1);
}

function duringRecovery(partition: PartitionSummary, run: RecoveryRunView | undefined): Guidance {
  const base = { state: partition.state };
  if (run?.status === 'pending-approval') {
    return { ...base, tone: 'act', text: 'Healed: a manual recovery waits for your approval. Check its dry run, then approve or reject it.', href: `/recovery?run=${encodeURIComponent(run.id)}`, linkText: 'Review the recovery →' };
  }
  if (run?.status === 'paused') {
    return { ...base, tone: 'act', text: 'A phased recovery is paused: resume it, or abort it with a reason.', href: '/recovery', linkText: 'Open the recovery →' };
  }
  if (run) {
    return { ...base, tone: 'watch', text: `Recovering (${run.strategy}, ${run.status}): replicas are synced and verified; nothing to do unless it fails.`, href: '/recovery', linkText: 'Follow the recovery →' };
  }
  return { ...base, tone: 'watch', text: 'Healed: replicas are being verified; the partition closes after the stability window.', href: `/history/${partition.id}`, linkText: 'Open the partition →' };
}

/** The guidance for what the overview shows now. */
export function guidanceFor(input: { partitioned: boolean; active: PartitionSummary | null; runs: readonly RecoveryRunView[] }): Guidance {
  const { active } = input;
  if (!active) {
    if (input.partitioned) return { tone: 'watch', state: 'Normal', text: 'A split is being confirmed; its partition opens within seconds.', href: '/history', linkText: 'History →' };
    return { tone: 'ok', state: 'Normal', text: 'All links are up; nothing needs you. To see each recovery path, run one of the recovery shapes on the chaos page.', href: '/chaos', linkText: 'Chaos page →' };
  }
  const partition = `/history/${active.id}`;
  switch (active.state) {
    case 'PartitionDetected':
      return { tone: 'watch', state: active.state, text: 'Partition detected: Faultline is deciding how to handle it (fence the minority, or declare an emergency).', href: partition, linkText: 'Open the partition →' };
    case 'DegradedOperation': {
      const strategy = selectRecoveryStrategy({ type: active.type, emergencyReasons: [] }).strategy;
      return { tone: 'watch', state: active.state, text: `Degraded: the majority side keeps writing, a minority is read-only. Heal the network; the ${strategy} recovery then starts by itself.`, href: partition, linkText: 'Open the partition →' };
    }
    case 'EmergencyMode': {
      const why = hasMajority(active) ? 'a critical partition' : 'no majority side';
      return { tone: 'act', state: active.state, text: `Emergency: ${why}; writes are critical-only. Approve a manual recovery once the network is healed.`, href: '/recovery', linkText: 'Recovery page →' };
    }
    case 'ReconciliationMode':
      return duringRecovery(active, input.runs.find((run) => run.partitionId === active.id && openStatuses.has(run.status)));
    default:
      return { tone: 'watch', state: active.state, text: `The partition is ${active.state}.`, href: partition, linkText: 'Open the partition →' };
  }
}
