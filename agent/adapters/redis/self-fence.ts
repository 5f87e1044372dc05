/**
 * Self-fencing: an agent whose own view no longer holds a majority of the cluster
 * (itself plus the peers it hears) fences its Redis at once, without waiting for the
 * server's verdict and command, and lifts that fence when the majority is back. The
 * server's fence still comes and still holds on its own; this one covers a control
 * server that is far away or cut off too.
 */
import type { PeerObservation } from '../../../core/protocol';
import type { DataPlaneAdapter } from '../../store/data-plane-adapter';

/** The fence id a self-fence is held under. */
export const selfFencePartitionId = 'self:majority-lost';

/** Whether the agent and the peers it hears are at most half of the cluster. */
export function majorityLost(observations: readonly Pick<PeerObservation, 'reachable'>[]): boolean {
  const reachable = observations.filter((observation) => observation.reachable).length;
  return (reachable + 1) * 2 <= observations.length + 1;
}

/** Keeps the self-fence in step with the agent's view; call on every membership change. */
export function createSelfFence(adapter: DataPlaneAdapter, log: (message: string, fields: Record<string, unknown>) => void) {
  let fenced = false;
  return (observations: readonly Pick<PeerObservation, 'reachable'>[]) => {
    const lost = majorityLost(observations);
    if (lost === fenced) return;
    fenced = lost;
    const reachable = observations.filter((observation) => observation.reachable).length;
    log(lost ? 'majority lost: fencing the local store' : 'majority back: lifting the self-fence', { reachable, peers: observations.length });
    adapter.setFence(selfFencePartitionId, lost ? 'read-only' : null).catch((error: Error) => {
      // Retried on the next change; the server's own fence is independent of this one.
      fenced = !lost;
      log('self-fence failed', { error: error.message });
    });
  };
}
