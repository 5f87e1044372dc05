/**
 * Monitoring thresholds from the product brief (partition duration 300 s, recovery
 * time 600 s, data divergence 10 %), configurable per cluster, and the pure check
 * that says which of them a partition has crossed.
 */
import { z } from 'zod';

/** Limits past which a partition raises an alert. */
export interface MonitoringThresholds {
  /** A partition open longer than this alerts (ms); the brief's 300 s. */
  partitionDurationMaxMs: number;
  /** Recovery (heal to reconciled) taking longer than this alerts (ms); the brief's 600 s. */
  recoveryTimeMaxMs: number;
  /** Fraction of keys differing between replicas past which an alert fires; the brief's 0.1. */
  divergenceRatioMax: number;
}

/** The brief's thresholds. */
export const briefThresholds: MonitoringThresholds = {
  partitionDurationMaxMs: 300_000,
  recoveryTimeMaxMs: 600_000,
  divergenceRatioMax: 0.1,
};

/** Validates a cluster's threshold overrides; missing fields take the brief's values. */
export const MonitoringThresholdsSchema = z.strictObject({
  partitionDurationMaxMs: z.number().int().positive().max(7 * 24 * 3_600_000).default(briefThresholds.partitionDurationMaxMs),
  recoveryTimeMaxMs: z.number().int().positive().max(7 * 24 * 3_600_000).default(briefThresholds.recoveryTimeMaxMs),
  divergenceRatioMax: z.number().min(0).max(1).default(briefThresholds.divergenceRatioMax),
});

/** Which threshold was crossed; also the reason carried by the alert. */
export type ThresholdBreach = 'partition-duration' | 'recovery-time' | 'data-divergence';

/** What is known about one partition's metrics at one instant. */
export interface PartitionMetrics {
  /** How long the partition has been open, or was open (ms). */
  durationMs: number;
  /** Time since the partition healed while recovery is not finished, or the final recovery time; null before heal. */
  recoveryTimeMs: number | null;
  /** Latest measured divergence ratio, or null if not measured yet. */
  divergenceRatio: number | null;
}

/** The thresholds a partition currently exceeds, in a fixed order. */
export function thresholdBreaches(metrics: PartitionMetrics, thresholds: MonitoringThresholds): ThresholdBreach[] {
  const breaches: ThresholdBreach[] = [];
  if (metrics.durationMs > thresholds.partitionDurationMaxMs) breaches.push('partition-duration');
  if (metrics.recoveryTimeMs !== null && metrics.recoveryTimeMs > thresholds.recoveryTimeMaxMs) breaches.push('recovery-time');
  if (metrics.divergenceRatio !== null && metrics.divergenceRatio > thresholds.divergenceRatioMax) breaches.push('data-divergence');
  return breaches;
}
