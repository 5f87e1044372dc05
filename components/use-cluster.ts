'use client';
/** The cluster the console watches (the demo one, else the first), with its live state. */
import { useQuery } from '@tanstack/react-query';
import { api } from './api-client';
import { useLiveCluster } from './use-live-cluster';

export function useCluster() {
  const clusters = useQuery({ queryKey: ['clusters'], queryFn: () => api('clusters.list'), refetchInterval: 5000 });
  const cluster = clusters.data?.find((item) => item.demo) ?? clusters.data?.[0] ?? null;
  const live = useLiveCluster(cluster?.id ?? null);
  return { clusters, cluster, live };
}
