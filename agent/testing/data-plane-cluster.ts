/**
 * Test helpers for the agent's data plane: several data planes joined by a transport
 * (the in-memory twin or real UDP) through the same fault-injecting layer the agent
 * uses, and a reconciliation driven purely through data-plane commands, the way the
 * control server drives it.
 */
import { hlcFloor, encodeHlc } from '../../core/hlc';
import type { NodeId } from '../../core/protocol';
import type { DataPlaneReply } from '../../core/reconcile/data-plane-commands';
import { fromWireEntry, toWireResolvedEntry } from '../../core/reconcile/data-plane-wire';
import { type ReplicaChanges, planReconciliation } from '../../core/reconcile/plan-reconciliation';
import { type ConflictResolver, lastWriterWins } from '../../core/reconcile/resolver';
import { type DataPlane, startDataPlane } from '../data-plane';
import type { CollectPageLimits } from '../data-plane-executor';
import { FaultInjectingTransport } from '../transport/fault-injecting-transport';
import type { Transport } from '../transport/transport';

/** A key long enough for tests (16 characters and more). */
export const testClusterKey = 'test-cluster-key-0123456789';

/** One node of a test cluster. */
export interface TestNode {
  id: NodeId;
  transport: FaultInjectingTransport;
  dataPlane: DataPlane;
}

/** Builds data planes over the given raw transports (ids node-1..node-N), all peering with each other. */
export async function startDataPlaneCluster(raw: Transport[], options: { collectLimits?: CollectPageLimits } = {}): Promise<TestNode[]> {
  const ids = raw.map((_, index) => `node-${index + 1}`);
  const endpointOf = (peerId: string) => raw[ids.indexOf(peerId)]?.local;
  return Promise.all(
    raw.map(async (inner, index) => {
      const id = ids[index]!;
      const transport = new FaultInjectingTransport(inner, endpointOf);
      const peers = ids.filter((peer) => peer !== id).map((peer) => ({ id: peer, endpoint: endpointOf(peer)! }));
      const dataPlane = await startDataPlane({
        clusterId: 'test',
        selfId: id,
        incarnation: 1,
        clusterKey: testClusterKey,
        peers,
        transport,
        nowMs: () => Date.now(),
        storeListen: null,
        writeRatePerSecond: 0,
        writeKeyCount: 500,
        collectLimits: options.collectLimits,
      });
      transport.onMessage((bytes, from) => {
        if (dataPlane.accepts(bytes)) dataPlane.receive(bytes, from, Date.now());
      });
      return { id, transport, dataPlane };
    }),
  );
}

/** Cuts every link between the two sides, both directions, with the fault rules the server sends. */
export function splitCluster(nodes: readonly TestNode[], sideA: readonly NodeId[]): void {
  for (const node of nodes) {
    const mine = sideA.includes(node.id);
    const others = nodes.filter((other) => sideA.includes(other.id) !== mine);
    node.transport.setRules(others.map((other) => ({ peerId: other.id, dropOutbound: true, dropInbound: true })));
  }
}

/** Lifts every fault rule. */
export function healCluster(nodes: readonly TestNode[]): void {
  for (const node of nodes) node.transport.setRules([]);
}

/** Waits until `condition` holds, checking every few ms; fails after `timeoutMs`. */
export async function waitFor(condition: () => boolean, timeoutMs = 3000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

function dataOf(reply: Awaited<ReturnType<DataPlane['execute']>>): DataPlaneReply {
  if (!reply.ok) throw new Error(`command refused: ${reply.code} ${reply.message}`);
  if (reply.data === null) throw new Error('command returned no data');
  return reply.data;
}

/** What one reconciliation through commands did. */
export interface CommandReconciliation {
  /** Collect-changes calls made, over all nodes (more than the node count means paging happened). */
  collectCalls: number;
  keysCompared: number;
  conflicts: number;
  /** Digest roots reported after apply, by node. */
  roots: Map<NodeId, string>;
}

/** How a reconciliation through commands decides conflicts (last-writer-wins with no majority side by default). */
export interface CommandReconciliationRules {
  resolver: ConflictResolver;
  majorityNodes: readonly NodeId[] | null;
}

/** Collects changes (paging until `last`), plans with the given rules, applies in batches and asks every node for its digest. */
export async function reconcileThroughCommands(
  nodes: readonly TestNode[],
  sinceMs: number,
  applyBatchMax = 10_000,
  rules: CommandReconciliationRules = { resolver: lastWriterWins, majorityNodes: null },
): Promise<CommandReconciliation> {
  const runId = 'run-1';
  let collectCalls = 0;
  const replicas: ReplicaChanges[] = [];
  for (const node of nodes) {
    const changes = [];
    let since: string | null = encodeHlc(hlcFloor(sinceMs));
    for (let page = 0; page < 10_000; page++) {
      collectCalls++;
      const reply = dataOf(await node.dataPlane.execute({ type: 'collect-changes', runId, since }));
      if (reply.type !== 'changes') throw new Error(`unexpected reply ${reply.type}`);
      changes.push(...reply.entries.map(fromWireEntry));
      if (reply.last) break;
      since = reply.entries.at(-1)!.hlc;
    }
    replicas.push({ nodeId: node.id, changes });
  }
  const plan = planReconciliation({ replicas, resolver: rules.resolver, majorityNodes: rules.majorityNodes });
  for (const syncSet of plan.syncSets) {
    const node = nodes.find((candidate) => candidate.id === syncSet.nodeId)!;
    for (let start = 0; start < syncSet.entries.length || start === 0; start += applyBatchMax) {
      const entries = syncSet.entries.slice(start, start + applyBatchMax).map(toWireResolvedEntry);
      const last = start + applyBatchMax >= syncSet.entries.length;
      dataOf(await node.dataPlane.execute({ type: 'apply-resolved', runId, entries, last }));
      if (last) break;
    }
  }
  const roots = new Map<NodeId, string>();
  for (const node of nodes) {
    const reply = dataOf(await node.dataPlane.execute({ type: 'report-digest', runId, bucketCount: 256 }));
    if (reply.type !== 'digest') throw new Error(`unexpected reply ${reply.type}`);
    roots.set(node.id, reply.digest.root);
  }
  return { collectCalls, keysCompared: plan.keysCompared, conflicts: plan.conflicts.length, roots };
}
