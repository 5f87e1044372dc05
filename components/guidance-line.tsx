'use client';
/** The overview's first line: what to do next for the current state, with its link (see guidance.ts). */
import { useQuery } from '@tanstack/react-query';
import Link from 'next/link';
import type { PartitionSummary } from '../core/realtime-contract';
import { api } from './api-client';
import { guidanceFor } from './guidance';

export function GuidanceLine({ clusterId, partitioned, active }: { clusterId: string; partitioned: boolean; active: PartitionSummary | null }) {
  const runs = useQuery({
    queryKey: ['recovery', 'open', clusterId],
    queryFn: () => api('recovery.list', { query: { clusterId, status: 'pending-approval,approved,running,paused', limit: 10 } }),
  });
  const line = guidanceFor({ partitioned, active, runs: runs.data ?? [] });
  return (
    <p className={`guidance ${line.tone}`} role="status" data-testid="guidance" data-state={line.state} data-tone={line.tone}>
      <span>{line.text}</span> <Link href={line.href} data-testid="guidance-link">{line.linkText}</Link>
    </p>
  );
}
