/**
 * The partition lifecycle as one definition: its states and its named transitions.
 * The server's `stepPartition`, the tests and the dashboard's Mermaid diagram all
 * read this table, so they cannot disagree.
 *
 * It holds the brief's six transitions and two more that the brief's diagram leaves
 * out but a real cluster needs: divergence can pass its limit while a partition is
 * already being handled (DegradedOperation → EmergencyMode), and a healed partition
 * can split again before it is stable (ReconciliationMode → PartitionDetected).
 */

/** The lifecycle states of the brief. */
export const lifecycleStates = ['Normal', 'PartitionDetected', 'DegradedOperation', 'ReconciliationMode', 'EmergencyMode'] as const;
/** One lifecycle state. */
export type LifecycleState = (typeof lifecycleStates)[number];

/** Names of the transitions; each is recorded with its cause when taken. */
export type TransitionName =
  | 'partition-detected'
  | 'handling-activated'
  | 'emergency-declared'
  | 'partition-healed'
  | 'reconciliation-verified'
  | 'partition-recurred';

/** One allowed transition. */
export interface TransitionDefinition {
  /** State left. */
  from: LifecycleState;
  /** State entered. */
  to: LifecycleState;
  /** The transition's name. */
  name: TransitionName;
  /** Label shown on the diagram (the brief's wording where it has one). */
  label: string;
  /** Whether the brief's own diagram has this edge. */
  fromBrief: boolean;
}

/** The whole machine. */
export interface LifecycleDefinition {
  /** State a new lifecycle starts in. */
  initial: LifecycleState;
  /** States with a sentence each, shown as notes and tooltips. */
  states: Record<LifecycleState, string>;
  /** Allowed transitions. */
  transitions: readonly TransitionDefinition[];
}

/** Faultline's partition lifecycle. */
export const lifecycleDefinition: LifecycleDefinition = {
  initial: 'Normal',
  states: {
    Normal: 'No active partition; every node accepts reads and writes.',
    PartitionDetected: 'A partition was classified; policy is choosing how to handle it.',
    DegradedOperation: 'The handling policy applies: minority fenced read-only, or all sides writing.',
    ReconciliationMode: 'The partition healed; replicas are being reconciled and watched for stability.',
    EmergencyMode: 'A critical partition: only operations marked critical are accepted.',
  },
  transitions: [
    { from: 'Normal', to: 'PartitionDetected', name: 'partition-detected', label: 'Network Issue', fromBrief: true },
    { from: 'PartitionDetected', to: 'DegradedOperation', name: 'handling-activated', label: 'Activate Partition Handling', fromBrief: true },
    { from: 'DegradedOperation', to: 'ReconciliationMode', name: 'partition-healed', label: 'Partition Healed', fromBrief: true },
    { from: 'ReconciliationMode', to: 'Normal', name: 'reconciliation-verified', label: 'System Synchronized', fromBrief: true },
    { from: 'PartitionDetected', to: 'EmergencyMode', name: 'emergency-declared', label: 'Critical Services Only', fromBrief: true },
    { from: 'EmergencyMode', to: 'ReconciliationMode', name: 'partition-healed', label: 'Partition Healed', fromBrief: true },
    { from: 'DegradedOperation', to: 'EmergencyMode', name: 'emergency-declared', label: 'Became Critical', fromBrief: false },
    { from: 'ReconciliationMode', to: 'PartitionDetected', name: 'partition-recurred', label: 'Partition Recurred', fromBrief: false },
  ],
};

/** The transition from `from` named `name`, or null when the definition has none. */
export function findTransition(
  definition: LifecycleDefinition,
  from: LifecycleState,
  name: TransitionName,
): TransitionDefinition | null {
  return definition.transitions.find((transition) => transition.from === from && transition.name === name) ?? null;
}
