'use client';
/**
 * Recovery: for the active partition, the dry run first (quorum arithmetic, sides,
 * keys, conflicts, the strategy the brief's rule picks and why), then the start
 * buttons with what each does (hidden while a recovery is open, refused with the
 * reason while links are cut); runs waiting for approval with their dry-run plan,
 * approve or reject with a reason; phased progress per step with pause, resume
 * and abort.
 */
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useSearchParams } from 'next/navigation';
import { useState } from 'react';
import type { DryRun } from '../core/policy/dry-run';
import type { PhasedPlan } from '../core/policy/phased-plan';
import { recoveryStartRefusal } from '../core/policy/recovery-readiness';
import type { PartitionSummary, RecoveryRunView, RecoveryStatus } from '../core/realtime-contract';
import { canDecideRecovery } from '../core/permissions';
import { api } from './api-client';
import { useSession } from './session';
import { TimeLabel } from './time-label';
import { useCluster } from './use-cluster';

function PlanView({ plan }: { plan: Partial<DryRun> }) {
  if (!plan.quorum) return <p className="muted">No dry run recorded.</p>;
  return (
    <div className="stack" data-testid="dry-run">
      <dl className="facts">
        <dt>Strategy</dt>
        <dd>
          {plan.strategy?.strategy} <span className="muted">({plan.strategy?.reason})</span>
        </dd>
        <dt>Quorum</dt>
        <dd>
          {plan.quorum.quorumSize} of {plan.quorum.clusterSize} nodes (⌊{plan.quorum.clusterSize}/2⌋ + 1)
        </dd>
        <dt>Sides</dt>
        <dd>
          {plan.quorum.sides.map((side, index) => (
            <div key={index}>
              {side.size} node{side.size === 1 ? '' : 's'} [{side.nodeIds.join(', ')}] — {side.hasQuorum ? <strong>has quorum</strong> : 'no quorum'}
            </div>
          ))}
        </dd>
        <dt>Affected nodes</dt>
        <dd>{plan.affectedNodes && plan.affectedNodes.length > 0 ? plan.affectedNodes.map((node) => `${node.nodeId} (${node.keysToReceive} keys, ${node.bytesToReceive} B)`).join(', ') : 'none need data'}</dd>
        <dt>Keys differing</dt>
        <dd data-testid="dry-run-keys-differing" data-keys-differing={plan.keysDiffering ?? 0}>
          {plan.keysDiffering ?? 0} <span className="muted">keys replicas disagree on now: the keys reconciliation moves (the count behind the divergence %)</span>
          {plan.keysChanged !== undefined ? (
            <div className="muted" data-testid="dry-run-keys-changed">
              {plan.keysChanged} keys written since the split; {Math.max(0, plan.keysChanged - (plan.keysDiffering ?? 0))} of them every replica already holds alike
            </div>
          ) : null}
        </dd>
        {plan.changes ? (
          <>
            <dt>Tables</dt>
            <dd data-testid="dry-run-tables">{plan.changes.byTable.map((group) => `${group.table} (${group.keys})`).join(', ') || 'none'}</dd>
            <dt>Rows to change</dt>
            <dd data-testid="dry-run-rows">
              {plan.changes.toReceive.filter((node) => node.keys.length > 0).map((node) => (
                <div key={node.nodeId}>
                  {node.nodeId}: <code>{node.keys.join(' · ')}</code>
                  {node.more > 0 ? <span className="muted"> and {node.more} more</span> : null}
                </div>
              ))}
            </dd>
          </>
        ) : null}
        <dt>Conflicts</dt>
        <dd>
          {plan.conflicts?.total ?? 0} decided by {plan.conflicts?.resolver} <span className="muted">({plan.conflicts?.description})</span>
          {plan.conflicts?.samples.map((sample) => (
            <div key={sample.key}>
              <code>{sample.key}</code> kept from [{sample.keptFrom.join(', ')}], discarded from {sample.discardedFrom.map((holders) => `[${holders.join(', ')}]`).join(' ')}
            </div>
          ))}
        </dd>
        <dt>Bytes to move</dt>
        <dd>{plan.bytesToMove ?? 0}</dd>
      </dl>
      {plan.steps ? (
        <ol style={{ margin: 0 }}>
          {plan.steps.map((step, index) => (
            <li key={index}>{step}</li>
          ))}
        </ol>
      ) : null}
    </div>
  );
}

function PhasedProgress({ plan }: { plan: PhasedPlan }) {
  const stages = ['unfence', 'sync', 'verify'] as const;
  return (
    <ol className="steps" data-testid="phased-progress">
      {plan.groups.map((group, groupIndex) =>
        stages.map((stage) => {
          const record = plan.history.find((entry) => entry.groupIndex === groupIndex && entry.stage === stage);
          const current = plan.groupIndex === groupIndex && plan.stage === stage && !record;
          const className = record ? (record.ok ? 'done' : 'failed') : current ? 'current' : '';
          return (
            <li key={`${groupIndex}-${stage}`} className={className}>
              Group {groupIndex + 1} [{group.join(', ')}] — {stage}:{' '}
              {record ? (record.ok ? '✓ done' : `✕ ${record.reason ?? 'failed'}`) : current ? (plan.status === 'paused' ? '⏸ paused before this step' : plan.inFlight ? '… running' : 'next') : 'waiting'}
            </li>
          );
        }),
      )}
    </ol>
  );
}

/** A run in one of these still holds its partition: no second one may start. */
const openStatuses: readonly RecoveryStatus[] = ['pending-approval', 'approved', 'running', 'paused'];

/** What an operator may do to a run, each one a route of the contract. */
type RecoveryVerb = 'approve' | 'reject' | 'pause' | 'resume' | 'abort';

function RunCard({ run, mayAct, focused = false }: { run: RecoveryRunView; mayAct: boolean; focused?: boolean }) {
  const queryClient = useQueryClient();
  const [reason, setReason] = useState('');
  const act = useMutation({
    mutationFn: (verb: RecoveryVerb) => api(`recovery.${verb}`, { params: { id: run.id }, body: { reason } }),
    onSuccess: () => {
      setReason('');
      void queryClient.invalidateQueries({ queryKey: ['recovery'] });
    },
  });
  const verbs: readonly RecoveryVerb[] =
    run.status === 'pending-approval'
      ? ['approve', 'reject']
      : run.status === 'running' && run.strategy === 'phased'
        ? ['pause', 'abort']
        : run.status === 'paused'
          ? ['resume', 'abort']
          : ['approved', 'running'].includes(run.status)
            ? ['abort']
            : [];
  return (
    <article className="panel" data-testid="recovery-run" data-run-id={run.id} data-status={run.status} data-focused={focused} style={{ marginBottom: '0.75rem', ...(focused ? { outline: '2px solid var(--accent)' } : {}) }}>
      <h3 style={{ margin: '0 0 0.5rem', fontSize: '1rem' }} className="row">
        {run.strategy} recovery <span className={`badge ${run.status}`}>{run.status}</span>
        <a href={`/history/${run.partitionId}`} className="muted" style={{ fontWeight: 'normal' }}>
          partition {run.partitionId.slice(0, 8)}
        </a>
      </h3>
      <p className="muted" style={{ margin: '0 0 0.5rem' }}>
        Requested by {run.requestedBy} <TimeLabel ms={run.createdAtMs} />
        {run.decidedBy ? (
          <>
            {' '}
            · {run.status === 'rejected' ? 'rejected' : 'approved'} by <strong data-testid="decided-by">{run.decidedBy}</strong> {run.decidedAtMs ? <TimeLabel ms={run.decidedAtMs} /> : null}
          </>
        ) : null}
        {run.reason ? <> · “{run.reason}”</> : null}
      </p>
      {run.strategy === 'phased' && run.phased && (run.phased as PhasedPlan).groups ? <PhasedProgress plan={run.phased as PhasedPlan} /> : null}
      <details open={run.status === 'pending-approval'}>
        <summary>Dry-run plan</summary>
        <PlanView plan={run.plan as Partial<DryRun>} />
      </details>
      {mayAct && verbs.length > 0 ? (
        <form
          className="row"
          style={{ marginTop: '0.5rem' }}
          onSubmit={(event) => {
            event.preventDefault();
            const submitter = (event.nativeEvent as SubmitEvent).submitter as HTMLButtonElement | null;
            const verb = verbs.find((candidate) => candidate === submitter?.value) ?? verbs[0];
            if (verb) act.mutate(verb);
          }}
        >
          <label className="field" style={{ flex: 1 }}>
            Reason (recorded with your name)
            <input value={reason} onChange={(event) => setReason(event.target.value)} required maxLength={2000} data-testid="recovery-reason" />
          </label>
          {verbs.map((verb) => (
            <button key={verb} type="submit" value={verb} className={verb === 'approve' || verb === 'resume' ? 'primary' : verb === 'abort' || verb === 'reject' ? 'danger' : ''} disabled={act.isPending || reason.trim() === ''} data-testid={`recovery-${verb}`}>
              {verb[0]!.toUpperCase() + verb.slice(1)}
            </button>
          ))}
        </form>
      ) : null}
      {act.isError ? (
        <p className="error" role="alert" data-testid="action-error">
          {act.error.message}
        </p>
      ) : null}
    </article>
  );
}

/** What each start button does, in the operator's words. */
const startButtons = [
  {
    strategy: 'manual',
    label: 'Start manual recovery (needs approval)',
    does: 'Creates a run that waits for an operator to approve it with a reason. On approval every node is unfenced at once and all replicas are reconciled by the resolver, then verified.',
  },
  {
    strategy: 'phased',
    label: 'Start phased recovery',
    does: 'Starts now: the minority rejoins group by group (unfence, sync with the nodes already back, verify digests); it can be paused, resumed or aborted between steps.',
  },
] as const;

/**
 * The choice for the active partition: its dry run first (quorum, sides, keys,
 * conflicts, the strategy the brief's rule picks and why), then the buttons with
 * what each does. No button while a recovery is open; a start that the server would
 * refuse (links still cut) says why instead.
 */
function StartRecovery({ partition, refusal, openRun, mayAct }: { partition: PartitionSummary; refusal: string | null; openRun: RecoveryRunView | undefined; mayAct: boolean }) {
  const queryClient = useQueryClient();
  const dryRun = useQuery({
    queryKey: ['recovery', 'dry-run', partition.id, partition.state],
    queryFn: () => api('recovery.dryRun', { query: { partitionId: partition.id } }),
  });
  const start = useMutation({
    mutationFn: (strategy: 'manual' | 'phased') => api('recovery.start', { body: { partitionId: partition.id, strategy } }),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: ['recovery'] }),
  });
  const picked = dryRun.data?.strategy;
  return (
    <div className="stack" data-testid="start-recovery">
      <h3 style={{ margin: 0, fontSize: '1rem' }}>Dry run: what a recovery would do now</h3>
      {dryRun.isPending ? <p className="muted">Computing the dry run…</p> : null}
      {dryRun.isError ? <p className="error">Dry run not available: {dryRun.error.message}</p> : null}
      {picked ? (
        <p data-testid="rule-pick" style={{ margin: 0 }}>
          The brief’s rule picks <strong>{picked.strategy}</strong> because: {picked.reason}.{' '}
          <span className="muted">(critical → manual, partial → automatic, otherwise phased{picked.strategy === 'automatic' ? '; it starts by itself once the network heals' : ''})</span>
        </p>
      ) : null}
      {dryRun.data ? <PlanView plan={dryRun.data} /> : null}
      {openRun ? (
        <p className="notice" data-testid="start-hidden">
          A {openRun.strategy} recovery of this partition is {openRun.status} (below); another cannot start until it ends.
        </p>
      ) : !mayAct ? null : (
        <>
          {refusal ? (
            <p className="notice error" role="status" data-testid="start-refused">
              Starting is refused now: {refusal}.
            </p>
          ) : null}
          <ul className="stack" style={{ listStyle: 'none', padding: 0, margin: 0 }}>
            {startButtons.map((button) => (
              <li key={button.strategy} className="row">
                <button type="button" onClick={() => start.mutate(button.strategy)} disabled={start.isPending || refusal !== null} data-testid={`start-${button.strategy}`}>
                  {button.label}
                </button>
                <span className="muted" data-testid={`start-${button.strategy}-does`}>
                  {button.does}
                </span>
              </li>
            ))}
          </ul>
        </>
      )}
      {start.isError ? <p className="error" role="alert" data-testid="start-error">{start.error.message}</p> : null}
    </div>
  );
}

export function RecoveryPage() {
  const session = useSession();
  const { cluster, live } = useCluster();
  const mayAct = canDecideRecovery(session.user.role);
  const runs = useQuery({
    queryKey: ['recovery', cluster?.id],
    queryFn: () => api('recovery.list', { query: { clusterId: cluster!.id, limit: 50 } }),
    enabled: cluster !== null,
  });
  const snapshot = live.snapshot;
  const active = snapshot?.activePartition ?? null;
  const refusal = active && snapshot ? recoveryStartRefusal({ nodeIds: active.components.flat(), links: snapshot.links, staleNodeIds: snapshot.nodes.filter((node) => node.stale).map((node) => node.id) }) : null;
  const openRun = runs.data?.find((run) => run.partitionId === active?.id && openStatuses.includes(run.status));
  const pending = runs.data?.filter((run) => run.status === 'pending-approval') ?? [];
  const focus = useSearchParams().get('run');
  const open = runs.data?.filter((run) => ['approved', 'running', 'paused'].includes(run.status)) ?? [];
  const done = runs.data?.filter((run) => !['pending-approval', 'approved', 'running', 'paused'].includes(run.status)) ?? [];
  return (
    <>
      <section className="panel" aria-labelledby="start-heading">
        <h2 id="start-heading">Start a recovery</h2>
        {active ? (
          <p>
            Active partition: <strong>{active.type}</strong>, {active.state}, nodes {active.nodeIds.join(', ')}.
          </p>
        ) : (
          <p className="muted">No active partition. Recovery can also be started from a partition's page.</p>
        )}
        {active ? <StartRecovery partition={active} refusal={refusal} openRun={openRun} mayAct={mayAct} /> : null}
        {!mayAct ? <p className="muted">Your role ({session.user.role}) can watch recoveries but not start or decide them.</p> : null}
      </section>
      <section className="panel" aria-labelledby="pending-heading">
        <h2 id="pending-heading">
          Waiting for approval <span className="badge">{pending.length}</span>
        </h2>
        {runs.isPending ? <p className="muted">Loading…</p> : null}
        {runs.isError ? <p className="notice error">Could not load recovery runs: {runs.error.message}</p> : null}
        {runs.data && pending.length === 0 ? <p className="muted" data-testid="pending-empty">Nothing waits for a decision.</p> : null}
        {pending.map((run) => (
          <RunCard key={run.id} run={run} mayAct={mayAct} focused={run.id === focus} />
        ))}
      </section>
      <section className="panel wide" aria-labelledby="running-heading">
        <h2 id="running-heading">In progress</h2>
        {runs.data && open.length === 0 ? <p className="muted">No recovery in progress.</p> : null}
        {open.map((run) => (
          <RunCard key={run.id} run={run} mayAct={mayAct} focused={run.id === focus} />
        ))}
        <h2>Finished</h2>
        {runs.data && done.length === 0 ? <p className="muted">None yet.</p> : null}
        {done.slice(0, 20).map((run) => (
          <RunCard key={run.id} run={run} mayAct={mayAct} />
        ))}
      </section>
    </>
  );
}
