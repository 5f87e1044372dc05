'use client';
/**
 * Live state of one cluster: connects to Socket.IO, subscribes (receiving a
 * snapshot), applies numbered updates, and re-subscribes for a fresh snapshot
 * after a reconnect or a gap in sequence numbers. Partition, alert and recovery
 * changes invalidate the React Query caches that list them. A refused handshake
 * (no session) sends the operator to sign in, also after the server ended the
 * socket because the session or its role changed. A handshake refused for another
 * reason (the server just restarted and cannot reach its database yet) is retried
 * with a growing delay: socket.io-client never retries a refusal by itself.
 */
import { useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef, useState } from 'react';
import { type Socket, io } from 'socket.io-client';
import { goToSignIn } from './api-client';
import type { ClientToServerEvents, ClusterSnapshot, ServerToClientEvents } from '../core/realtime-contract';

/** First wait before connecting again after a refused handshake (ms); doubles per refusal. */
const refusedRetryInitialMs = 1000;
/** Longest wait between connection attempts after refusals (ms). */
const refusedRetryMaxMs = 10_000;
/** Refusals in a row after which the page stops trying and asks for a reload (about 20 minutes). */
const refusedRetriesMax = 120;

/** Connection state shown to the operator. */
export type LiveStatus = 'connecting' | 'live' | 'reconnecting' | 'error';

export interface LiveCluster {
  snapshot: ClusterSnapshot | null;
  status: LiveStatus;
  error: string | null;
  /** Browser time the latest update arrived (ms), for the staleness indicator. */
  lastUpdateAtMs: number | null;
}

export function useLiveCluster(clusterId: string | null): LiveCluster {
  const queryClient = useQueryClient();
  const [state, setState] = useState<LiveCluster>({ snapshot: null, status: 'connecting', error: null, lastUpdateAtMs: null });
  const seqRef = useRef(-1);

  useEffect(() => {
    if (!clusterId) return undefined;
    const socket: Socket<ServerToClientEvents, ClientToServerEvents> = io({ transports: ['websocket'] });
    let refusals = 0;
    let retryTimer: ReturnType<typeof setTimeout> | undefined;
    const subscribe = () => {
      refusals = 0;
      socket.emit('cluster:subscribe', clusterId, (reply) => {
        if (!reply.ok) {
          setState((previous) => ({ ...previous, status: 'error', error: reply.message }));
          return;
        }
        seqRef.current = reply.data.seq;
        setState({ snapshot: reply.data, status: 'live', error: null, lastUpdateAtMs: Date.now() });
      });
    };
    socket.on('connect', subscribe);
    socket.on('disconnect', (reason) => {
      setState((previous) => ({ ...previous, status: 'reconnecting' }));
      // The server ended the socket (its access changed, or it shut down): the client
      // does not retry that by itself. Connect again; a refused handshake goes to sign-in.
      if (reason === 'io server disconnect') socket.connect();
    });
    socket.on('connect_error', (error) => {
      if (error.message.startsWith('unauthorized')) goToSignIn();
      setState((previous) => ({ ...previous, status: 'reconnecting', error: error.message.startsWith('forbidden') ? error.message : previous.error }));
      // An unreachable server is retried by socket.io-client itself (the socket stays active); a refusal is not.
      if (socket.active || error.message.startsWith('unauthorized')) return;
      if (refusals >= refusedRetriesMax) {
        setState((previous) => ({ ...previous, status: 'error', error: `the server keeps refusing the live connection (${error.message}); reload the page` }));
        return;
      }
      clearTimeout(retryTimer);
      retryTimer = setTimeout(() => socket.connect(), Math.min(refusedRetryMaxMs, refusedRetryInitialMs * 2 ** refusals));
      refusals += 1;
    });
    socket.on('cluster:update', (snapshot) => {
      if (snapshot.clusterId !== clusterId) return;
      if (snapshot.seq <= seqRef.current) return;
      seqRef.current = snapshot.seq;
      setState({ snapshot, status: 'live', error: null, lastUpdateAtMs: Date.now() });
    });
    socket.on('partition:changed', () => {
      void queryClient.invalidateQueries({ queryKey: ['partitions'] });
      void queryClient.invalidateQueries({ queryKey: ['history'] });
    });
    socket.on('alert:changed', () => {
      void queryClient.invalidateQueries({ queryKey: ['alerts'] });
    });
    socket.on('recovery:changed', () => {
      void queryClient.invalidateQueries({ queryKey: ['recovery'] });
    });
    return () => {
      clearTimeout(retryTimer);
      socket.close();
    };
  }, [clusterId, queryClient]);

  return state;
}
