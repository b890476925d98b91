import { createHash } from 'node:crypto';
import type { DriftAlert } from '../reconciler/reconcileNotice';
import type { Severity } from '../../schema/reasons';

/**
 * What one sink is sent: an alert, or several that folded into it (same agent, reason code and intent within the
 * dedupe window). `alert` is the first of them; `count`, `findingIds` and the times say how many there were.
 */
export interface Delivery {
  /** Idempotency key: the same for every attempt of this delivery, so a receiver can drop a repeat. */
  deliveryId: string;
  sink: string;
  alert: DriftAlert;
  /** The highest severity among the folded alerts. */
  severity: Severity;
  count: number;
  findingIds: string[];
  firstSeenAt: Date;
  lastSeenAt: Date;
}

/** Alerts with the same key within the window are one delivery: the same drift repeated, not a new one. */
export function dedupeKey(alert: Pick<DriftAlert, 'agentId' | 'reasonCode' | 'intentId'>): string {
  return JSON.stringify([alert.agentId, alert.reasonCode, alert.intentId]);
}

/** Derived, not random: the delivery of a finding to a sink has one id however often it is recorded. */
export function deliveryIdFor(sourceTopic: string, sink: string, findingId: string): string {
  return 'dlv_' + createHash('sha256').update(`${sourceTopic}\u0000${sink}\u0000${findingId}`).digest('base64url').slice(0, 32);
}
