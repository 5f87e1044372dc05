'use client';
/** The cluster the console watches (the demo one, else the first), with its live state. */
import { useQuery } from '@tanstack/react-query';
import { api } from './api-client';
import { useLiveCluster } from './use-live-cluster';

/** One cluster as listed by the API. */
export interface ClusterListItem {
  id: string;
  name: string;
  demo: boolean;
  nodes: number;
}

export function useCluster() {
  const clusters = useQuery({ queryKey: ['clusters'], queryFn: () => api<ClusterListItem[]>('/api/clusters'), refetchInterval: 5000 });
  const cluster = clusters.data?.find((item) => item.demo) ?? clusters.data?.[0] ?? null;
  const live = useLiveCluster(cluster?.id ?? null);
  return { clusters, cluster, live };
}
