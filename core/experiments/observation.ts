/**
 * What an experiment run saw, as plain data: the server's samples of the cluster
 * (its recorded open partition, the live classification, each node's data plane),
 * the experiment client's operations, and the final reads after recovery. The
 * server collects it (server/experiments/); the validators (judge-experiment.ts)
 * read only this, so they are pure and table-tested.
 */
import type { PartitionType } from '../classify-partition';
import type { FenceMode } from '../policy/cluster-policy';
import type { NodeId } from '../protocol';

/** One node at one sample. */
export interface NodeSample {
  id: NodeId;
  connected: boolean;
  /** Cumulative client writes the node's store accepted (its latest report), or null without a data plane. */
  writesAccepted: number | null;
  /** Cumulative client writes refused, fences included. */
  writesRefused: number | null;
  /** The fence in force on the node's store. */
  fence: FenceMode | null;
  /** Root of the store's digest: equal roots mean equal data. */
  digestRoot: string | null;
}

/** The partition the server recorded (the cluster's open partition) at a sample. */
export interface SeenPartition {
  id: string;
  type: PartitionType;
  /** Sides, largest first. */
  components: NodeId[][];
  startedAtMs: number;
  /** Lifecycle state. */
  state: string;
  /** Peak divergence ratio (0..1) the server measured so far. */
  divergenceMax: number;
}

/** The live classifier's verdict at a sample (details the partition record leaves out). */
export interface SeenVerdict {
  type: PartitionType | null;
  components: NodeId[][];
  majorityIndex: number | null;
  bridgeNodes: NodeId[];
  oneWayLinks: { from: NodeId; to: NodeId }[];
  isolatedNodes: NodeId[];
}

/** One sample of the cluster (ms since epoch). */
export interface ClusterSample {
  atMs: number;
  nodes: NodeSample[];
  partition: SeenPartition | null;
  verdict: SeenVerdict;
}

/** One operation of the experiment's client against a node's store. */
export interface ClientOperation {
  atMs: number;
  nodeId: NodeId;
  kind: 'write' | 'read';
  key: string;
  /** Whether the store served it (a write acknowledged, a read answered). */
  ok: boolean;
  /** The value written, or the value read (null: the key was absent). */
  value: string | null;
  /** Version of the write acknowledged or of the value read (encoded HLC), when known. */
  hlc: string | null;
  /** Why it was not served (a fence, a timeout), when it was not. */
  refusal?: string;
}

/** A key as one replica holds it after recovery. */
export interface FinalRead {
  nodeId: NodeId;
  key: string;
  value: string | null;
  hlc: string | null;
}

/** Everything one run saw. Times are ms since epoch. */
export interface ExperimentObservation {
  startedAtMs: number;
  /** When the first fault applied, or null for a run without faults. */
  faultStartMs: number | null;
  /** When the last fault was lifted. */
  healAtMs: number;
  /** When the cluster was first seen Normal (no open partition) after the heal, or null. */
  normalAtMs: number | null;
  samples: ClusterSample[];
  client: ClientOperation[];
  /** The client's keys as every replica held them once recovered (empty without a client). */
  finalReads: FinalRead[];
  /** Ids of the partitions the server recorded during the run. */
  partitionIds: string[];
  /** Live nodes no scenario node plays (the cluster is larger than the file): detection compares the classification without them. */
  unplayedNodes?: NodeId[];
}

/** The outcome of one validator. */
export type VerdictOutcome = 'pass' | 'fail' | 'skipped';

/** The validators, in report order. */
export const validatorNames = ['detection', 'consistency', 'availability', 'recovery', 'tripwires'] as const;
export type ValidatorName = (typeof validatorNames)[number];

/** One validator's verdict, with what it rests on. */
export interface ExperimentVerdict {
  validator: ValidatorName;
  outcome: VerdictOutcome;
  /** One sentence for humans. */
  summary: string;
  /** The facts behind it (bounded lists, counts, times). */
  evidence: Record<string, unknown>;
}
