import type { Pool } from 'pg';
import type { Severity } from '../../schema/reasons';
import type { DriftAlert } from '../reconciler/reconcileNotice';
import type { Delivery } from './delivery';

/** A delivery a dispatcher has claimed: the row id and how many attempts it has had before this one. */
export interface ClaimedDelivery extends Delivery {
  id: string;
  attempts: number;
}

type Row = {
  id: string; delivery_id: string; sink: string; alert: DriftAlert; severity: Severity; alert_count: number; finding_ids: string[];
  first_seen_at: Date; last_seen_at: Date; attempts: number;
};

/**
 * Claims up to `limit` due deliveries of these sinks: their next attempt moves `leaseMs` ahead, so another
 * dispatcher skips them, and if this one dies they become due again. Rows other dispatchers hold are skipped.
 * Returned oldest first.
 */
export async function claimDue(pool: Pool, sourceTopic: string, sinks: string[], leaseMs: number, limit: number): Promise<ClaimedDelivery[]> {
  if (sinks.length === 0) return [];
  const r = await pool.query<Row>(
    `UPDATE alert_deliveries SET next_attempt_at = clock_timestamp() + $4 * interval '1 millisecond'
      WHERE id IN (SELECT id FROM alert_deliveries
                    WHERE source_topic = $1 AND status = 'pending' AND sink = ANY($2) AND next_attempt_at <= clock_timestamp()
                    ORDER BY next_attempt_at, id LIMIT $3 FOR UPDATE SKIP LOCKED)
      RETURNING id, delivery_id, sink, alert, severity, alert_count, finding_ids, first_seen_at, last_seen_at, attempts`,
    [sourceTopic, sinks, limit, leaseMs],
  );
  return r.rows
    .sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : 1))
    .map((x) => ({
      id: x.id, deliveryId: x.delivery_id, sink: x.sink, alert: x.alert, severity: x.severity, count: x.alert_count, findingIds: x.finding_ids,
      firstSeenAt: x.first_seen_at, lastSeenAt: x.last_seen_at, attempts: x.attempts,
    }));
}

export async function markDelivered(pool: Pool, id: string): Promise<void> {
  await pool.query(
    `UPDATE alert_deliveries SET status = 'delivered', delivered_at = clock_timestamp(), attempts = attempts + 1, last_error = NULL
      WHERE id = $1 AND status = 'pending'`,
    [id],
  );
}

/** A failed attempt: counted, with its error, and tried again after `delayMs`. */
export async function markRetry(pool: Pool, id: string, error: string, delayMs: number): Promise<void> {
  await pool.query(
    `UPDATE alert_deliveries SET attempts = attempts + 1, last_error = $2, next_attempt_at = clock_timestamp() + $3 * interval '1 millisecond'
      WHERE id = $1 AND status = 'pending'`,
    [id, error.slice(0, 2000), delayMs],
  );
}

/** A failed attempt after which there will be no other (refused for good, or out of attempts). */
export async function markFailed(pool: Pool, id: string, error: string): Promise<void> {
  await pool.query(
    `UPDATE alert_deliveries SET status = 'failed', attempts = attempts + 1, last_error = $2 WHERE id = $1 AND status = 'pending'`,
    [id, error.slice(0, 2000)],
  );
}

/** Claimed but not attempted (their sink just failed on an earlier one): due again with it, no attempt counted. */
export async function release(pool: Pool, ids: string[], delayMs: number): Promise<void> {
  if (ids.length === 0) return;
  await pool.query(
    `UPDATE alert_deliveries SET next_attempt_at = clock_timestamp() + $2 * interval '1 millisecond' WHERE id = ANY($1::bigint[]) AND status = 'pending'`,
    [ids, delayMs],
  );
}

/** Failed deliveries back to pending, due now, with a fresh attempt count (after the operator fixed the cause). */
export async function requeueFailed(pool: Pool, sourceTopic: string, sink: string | null): Promise<number> {
  const r = await pool.query(
    `UPDATE alert_deliveries SET status = 'pending', attempts = 0, next_attempt_at = clock_timestamp()
      WHERE source_topic = $1 AND status = 'failed' AND ($2::text IS NULL OR sink = $2)`,
    [sourceTopic, sink],
  );
  return r.rowCount ?? 0;
}
