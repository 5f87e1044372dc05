/** What flows back from the services to the transport and the metrics, through the composition root's emitter. */
import type { AlertView, ClusterSnapshot, PartitionSummary } from '../core/realtime-contract';
import type { RefusalReason } from './auth/agent-credentials';
import type { ReportOutcome } from './realtime/socket-server';

export interface ServerEvents {
  /** A cluster's view changed (pushed to dashboards). */
  clusterUpdated: ClusterSnapshot;
  /** The lifecycle orchestrator saved a partition change (the cluster service records it in its view, then pushes it as `partitionChanged`). */
  partitionSaved: PartitionSummary;
  /** A partition was saved (pushed to dashboards, counted in metrics). */
  partitionChanged: PartitionSummary;
  /** An agent credential was refused (counted in metrics). */
  refused: RefusalReason;
  /** An alert change was saved (posted by the webhook, when one is configured). */
  alertChanged: AlertView;
  /** A report was answered (counted in metrics). */
  reportOutcome: ReportOutcome;
}
