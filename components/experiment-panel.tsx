'use client';
/**
 * Experiments on the chaos page: start a catalog scenario (or a pasted scenario
 * file) as an experiment, follow the run going on (step, time left, what the
 * server sees, the client's served and refused operations), abort it (heals
 * everything), and open the latest reports. A refused file lists every problem
 * with its JSON path; a refused start says why (another run, the blast radius).
 */
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import Link from 'next/link';
import { useState } from 'react';
import type { ScenarioIssue } from '../core/experiments/experiment-spec';
import type { ExperimentProgress } from '../core/experiments/experiment-views';
import { canRunChaos } from '../core/permissions';
import { api } from './api-client';
import { RunStatus, VerdictBadge } from './experiment-badges';
import { useSession } from './session';
import { useCluster } from './use-cluster';
import { useNow } from './use-now';

const secondsLeft = (untilMs: number, nowMs: number) => `${Math.max(0, Math.round((untilMs - nowMs) / 1000))} s`;

function Progress({ progress, nowMs }: { progress: ExperimentProgress; nowMs: number }) {
  const seen = progress.seen.partition ? `${progress.seen.partition.type}: ${progress.seen.partition.components.map((side) => `[${side.join(', ')}]`).join(' | ')}` : 'no partition recorded';
  return (
    <div className="notice stack" data-testid="experiment-progress" aria-live="polite">
      <strong>
        {progress.scenario}: <span data-testid="experiment-phase">{progress.phase}</span>
      </strong>
      <ol className="steps" aria-label="Steps">
        {progress.stepsAtMs.map((atMs, index) => (
          <li key={atMs} className={index < progress.stepIndex ? 'done' : index === progress.stepIndex ? 'current' : ''}>
            step {index + 1} at {Math.round(atMs / 1000)} s
          </li>
        ))}
      </ol>
      <span data-testid="experiment-time-left">
        {progress.phase === 'faults' ? `faults lifted in ${secondsLeft(progress.healAtMs, nowMs)}` : progress.phase === 'recovery' ? `waiting for Normal, at most ${secondsLeft(progress.phaseDeadlineMs, nowMs)} more` : 'judging'}
      </span>
      <span data-testid="experiment-seen">Seen: {seen}. {progress.seen.summary}</span>
      <span className="muted">
        Client: {progress.seen.clientServed} served, {progress.seen.clientRefused} refused
      </span>
    </div>
  );
}

export function ExperimentPanel() {
  const session = useSession();
  const { cluster } = useCluster();
  const nowMs = useNow(1000);
  const queryClient = useQueryClient();
  const mayAct = canRunChaos(session.user.role);
  const [name, setName] = useState('');
  const [file, setFile] = useState('');
  const [issues, setIssues] = useState<ScenarioIssue[]>([]);
  const clusterId = cluster?.id;
  const catalog = useQuery({ queryKey: ['scenarios'], queryFn: () => api('scenarios.list') });
  const current = useQuery({ queryKey: ['experiments', 'current', clusterId], queryFn: () => api('experiments.current', { query: { clusterId } }), refetchInterval: 1000, enabled: clusterId !== undefined });
  const runs = useQuery({ queryKey: ['experiments', 'list', clusterId], queryFn: () => api('experiments.list', { query: { clusterId, limit: 5 } }), refetchInterval: 3000, enabled: clusterId !== undefined });
  const refresh = () => void queryClient.invalidateQueries({ queryKey: ['experiments'] });
  const start = useMutation({
    mutationFn: async (source: 'catalog' | 'file') => {
      setIssues([]);
      if (source === 'catalog') return api('experiments.start', { body: { clusterId, name } });
      let scenario: unknown;
      try {
        scenario = JSON.parse(file);
      } catch (error) {
        throw new Error(`not JSON: ${(error as Error).message}`);
      }
      const validation = await api('experiments.validate', { body: { scenario } });
      if (!validation.ok) {
        setIssues(validation.issues);
        throw new Error(`the file has ${validation.issues.length} problem(s)`);
      }
      return api('experiments.start', { body: { clusterId, scenario } });
    },
    onSettled: refresh,
  });
  const abort = useMutation({ mutationFn: () => api('experiments.abort', { body: { clusterId } }), onSettled: refresh });
  const progress = current.data ?? null;
  return (
    <section className="panel wide" aria-labelledby="experiments-heading">
      <h2 id="experiments-heading">
        Experiments <Link href="/chaos/experiments">all reports</Link> · <Link href="/chaos/coverage">coverage</Link>
      </h2>
      <p className="muted">A scenario played on the live cluster and judged: detection, consistency, availability per side, recovery, tripwires. One at a time per cluster.</p>
      {progress ? (
        <>
          <Progress progress={progress} nowMs={nowMs} />
          <button type="button" className="danger" disabled={!mayAct || abort.isPending} onClick={() => abort.mutate()} data-testid="experiment-abort">
            Abort and heal everything
          </button>
        </>
      ) : null}
      <fieldset disabled={!mayAct || start.isPending} style={{ border: 'none', padding: 0, margin: 0 }} className="stack">
        <div className="filters">
          <label className="field">
            Catalog scenario
            <select value={name} onChange={(event) => setName(event.target.value)} data-testid="experiment-scenario">
              <option value="">choose…</option>
              {(catalog.data ?? []).map((scenario) => (
                <option key={scenario.name}>{scenario.name}</option>
              ))}
            </select>
          </label>
          <button type="button" className="danger" disabled={!name} onClick={() => start.mutate('catalog')} data-testid="experiment-start">
            Start experiment
          </button>
        </div>
        <label className="field">
          Or paste a scenario file (JSON)
          <textarea rows={4} value={file} onChange={(event) => setFile(event.target.value)} data-testid="experiment-file" style={{ fontFamily: 'monospace' }} />
        </label>
        <div className="row">
          <button type="button" className="danger" disabled={!file.trim()} onClick={() => start.mutate('file')} data-testid="experiment-start-file">
            Start this file
          </button>
        </div>
      </fieldset>
      {start.isError || abort.isError ? (
        <p className="error" role="alert" data-testid="experiment-error">
          {(start.error ?? abort.error)?.message}
        </p>
      ) : null}
      {issues.length > 0 ? (
        <ul className="error" data-testid="experiment-issues">
          {issues.map((issue) => (
            <li key={`${issue.path}:${issue.message}`}>
              <code>{issue.path}</code>: {issue.message}
            </li>
          ))}
        </ul>
      ) : null}
      <h3 style={{ fontSize: '0.95rem' }}>Latest runs</h3>
      {(runs.data ?? []).length === 0 ? <p className="muted">No experiment yet.</p> : null}
      <ul className="steps" aria-label="Latest experiment runs">
        {(runs.data ?? []).map((run) => (
          <li key={run.id} className="row">
            <Link href={`/chaos/experiments/${run.id}`} data-testid="experiment-open">
              {run.scenario}
            </Link>
            <RunStatus status={run.status} />
            {run.verdicts.map((verdict) => (
              <VerdictBadge key={verdict.validator} validator={verdict.validator} outcome={verdict.outcome} />
            ))}
          </li>
        ))}
      </ul>
    </section>
  );
}
