/**
 * Sends alert changes to a webhook in Alertmanager's webhook format (version 4),
 * so Faultline's incidents reach the pager or chat an organisation already uses.
 * Each delivery goes through cockatiel policies: a bulkhead (bounded concurrency
 * and queue), retries with exponential backoff, a per-attempt timeout and a
 * circuit breaker; when all fail, the fallback counts and logs the lost delivery
 * instead of throwing into the alerting path.
 */
import {
  BrokenCircuitError,
  BulkheadRejectedError,
  ConsecutiveBreaker,
  ExponentialBackoff,
  TimeoutStrategy,
  bulkhead,
  circuitBreaker,
  handleAll,
  retry,
  timeout,
  wrap,
} from 'cockatiel';
import type { AlertView } from '../core/realtime-contract';
import type { Logger } from './logger';

/** Deliveries running at once. */
export const webhookConcurrencyMax = 2;
/** Deliveries waiting for a slot; beyond it a delivery is dropped and counted. */
export const webhookQueueMax = 100;
/** Attempts per delivery (first try included). */
export const webhookAttemptsMax = 5;
/** Longest wait for one attempt (ms). */
export const webhookAttemptTimeoutMs = 5000;

/** Alertmanager webhook payload (https://prometheus.io/docs/alerting/latest/configuration/#webhook_config). */
export interface AlertmanagerPayload {
  version: '4';
  groupKey: string;
  truncatedAlerts: number;
  status: 'firing' | 'resolved';
  receiver: string;
  groupLabels: Record<string, string>;
  commonLabels: Record<string, string>;
  commonAnnotations: Record<string, string>;
  externalURL: string;
  alerts: {
    status: 'firing' | 'resolved';
    labels: Record<string, string>;
    annotations: Record<string, string>;
    startsAt: string;
    endsAt: string;
    generatorURL: string;
    fingerprint: string;
  }[];
}

/** Builds the payload for one alert: one group per partition incident, its latest entry as the description, its link to a pending decision as `action_url`. */
export function toAlertmanagerPayload(alert: AlertView, externalUrl: string): AlertmanagerPayload {
  const status = alert.status === 'resolved' ? 'resolved' : 'firing';
  const labels = {
    alertname: alert.rule,
    severity: alert.severity,
    cluster: alert.clusterId,
    partition: alert.partitionId ?? 'none',
    source: 'faultline',
  };
  const annotations: Record<string, string> = { summary: alert.title };
  const latest = alert.entries.at(-1);
  if (latest && latest.title !== alert.title) annotations.description = latest.title;
  if (alert.entries.length > 1) annotations.events = alert.entries.map((entry) => entry.title).join('; ');
  const link = alert.entries.findLast((entry) => entry.link !== null)?.link;
  if (link) annotations.action_url = `${externalUrl}${link}`;
  if (alert.acknowledgedBy) annotations.acknowledged_by = alert.acknowledgedBy;
  if (alert.note) annotations.note = alert.note;
  return {
    version: '4',
    groupKey: `{}:{cluster="${alert.clusterId}",partition="${alert.partitionId ?? 'none'}"}`,
    truncatedAlerts: 0,
    status,
    receiver: 'faultline',
    groupLabels: { cluster: alert.clusterId, partition: alert.partitionId ?? 'none' },
    commonLabels: labels,
    commonAnnotations: annotations,
    externalURL: externalUrl,
    alerts: [
      {
        status,
        labels,
        annotations,
        startsAt: new Date(alert.firedAtMs).toISOString(),
        endsAt: alert.resolvedAtMs ? new Date(alert.resolvedAtMs).toISOString() : '0001-01-01T00:00:00Z',
        generatorURL: `${externalUrl}/alerts?id=${encodeURIComponent(alert.id)}`,
        fingerprint: alert.id.replace(/-/g, '').slice(0, 16),
      },
    ],
  };
}

/** Delivers alert changes to one webhook URL. */
export class AlertWebhook {
  /** Deliveries that reached the webhook. */
  deliveredCount = 0;
  /** Deliveries given up (retries exhausted, circuit open, queue full). */
  droppedCount = 0;
  private readonly policy;

  constructor(
    private readonly url: string,
    private readonly externalUrl: string,
    private readonly logger: Logger,
    backoff: { initialDelayMs: number; maxDelayMs: number } = { initialDelayMs: 200, maxDelayMs: 10_000 },
  ) {
    this.policy = wrap(
      bulkhead(webhookConcurrencyMax, webhookQueueMax),
      retry(handleAll, {
        maxAttempts: webhookAttemptsMax - 1,
        backoff: new ExponentialBackoff({ initialDelay: backoff.initialDelayMs, maxDelay: backoff.maxDelayMs }),
      }),
      circuitBreaker(handleAll, { halfOpenAfter: 30_000, breaker: new ConsecutiveBreaker(10) }),
      timeout(webhookAttemptTimeoutMs, TimeoutStrategy.Aggressive),
    );
  }

  /** Sends one alert change; never throws (the fallback counts and logs). */
  async deliver(alert: AlertView): Promise<boolean> {
    const body = JSON.stringify(toAlertmanagerPayload(alert, this.externalUrl));
    try {
      await this.policy.execute(async ({ signal }) => {
        const response = await fetch(this.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body, signal });
        if (!response.ok) throw new Error(`webhook answered ${response.status}`);
      }, new AbortController().signal);
      this.deliveredCount += 1;
      return true;
    } catch (error) {
      this.droppedCount += 1;
      const reason =
        error instanceof BulkheadRejectedError ? 'queue full' : error instanceof BrokenCircuitError ? 'circuit open' : (error as Error).message;
      this.logger.warn({ alert: alert.id, reason }, 'alert webhook delivery dropped');
      return false;
    }
  }
}
