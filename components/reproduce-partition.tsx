'use client';
/**
 * "Reproduce this incident" on a partition's page: one click asks the server for
 * the scenario file reproducing the partition's shape and timing, offers it as a
 * download, and can start it as an experiment on the same cluster at once.
 */
import { useMutation } from '@tanstack/react-query';
import Link from 'next/link';
import { useState } from 'react';
import { canRunChaos } from '../core/permissions';
import { api } from './api-client';
import { useSession } from './session';

export function ReproducePartition({ partitionId, clusterId }: { partitionId: string; clusterId: string }) {
  const session = useSession();
  const [file, setFile] = useState<Record<string, unknown> | null>(null);
  const write = useMutation({ mutationFn: () => api('partitions.reproduce', { params: { id: partitionId } }), onSuccess: setFile });
  const start = useMutation({ mutationFn: (scenario: Record<string, unknown>) => api('experiments.start', { body: { clusterId, scenario } }) });
  const text = file ? `${JSON.stringify(file, null, 2)}\n` : '';
  return (
    <div className="stack" data-testid="reproduce">
      <div className="row">
        <button type="button" onClick={() => write.mutate()} disabled={write.isPending} data-testid="reproduce-write">
          Reproduce this incident
        </button>
        {file ? (
          <a href={`data:application/json;charset=utf-8,${encodeURIComponent(text)}`} download={`${String(file.name)}.json`} data-testid="reproduce-download">
            Download scenario file
          </a>
        ) : null}
        {file && canRunChaos(session.user.role) ? (
          <button type="button" className="danger" onClick={() => start.mutate(file)} disabled={start.isPending || start.isSuccess} data-testid="reproduce-run">
            Run as experiment
          </button>
        ) : null}
      </div>
      {write.isError ? <p className="error" role="alert">{write.error.message}</p> : null}
      {start.isError ? <p className="error" role="alert">{start.error.message}</p> : null}
      {start.isSuccess ? (
        <p className="notice" data-testid="reproduce-started">
          Experiment started: <Link href="/chaos">follow it on the chaos page</Link> or <Link href={`/chaos/experiments/${start.data.id}`}>open its report</Link>.
        </p>
      ) : null}
      {file ? <pre style={{ fontSize: '0.75rem', maxHeight: 240, overflow: 'auto' }} data-testid="reproduce-file">{text}</pre> : null}
    </div>
  );
}
