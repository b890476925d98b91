import type { Pool } from 'pg';

export interface SinkStatus {
  sink: string;
  pending: number;
  delivered: number;
  failed: number;
  /** The earliest next attempt among pending deliveries (ISO), or null. */
  nextAttemptAt: string | null;
}

export interface UndeliveredRow {
  deliveryId: string;
  sink: string;
  status: 'pending' | 'failed';
  findingIds: string[];
  severity: string;
  count: number;
  attempts: number;
  lastError: string | null;
  nextAttemptAt: string | null;
  firstSeenAt: string;
}

export interface DeliveryStatus {
  sourceTopic: string;
  alerts: { recorded: number; rejected: number };
  sinks: SinkStatus[];
  /** Deliveries that are failed, or pending after at least one failed attempt (oldest first, at most `limit`). */
  undelivered: UndeliveredRow[];
}

/** The delivery state of one alerts topic, for `intent-ledger alerts status`. */
export async function deliveryStatus(pool: Pool, sourceTopic: string, limit = 50): Promise<DeliveryStatus> {
  const received = (
    await pool.query<{ recorded: number; rejected: number }>(
      `SELECT count(*) FILTER (WHERE finding_id IS NOT NULL)::int AS recorded, count(*) FILTER (WHERE finding_id IS NULL)::int AS rejected
         FROM alerts_received WHERE source_topic = $1`,
      [sourceTopic],
    )
  ).rows[0]!;
  const sinks = (
    await pool.query<{ sink: string; pending: number; delivered: number; failed: number; next_attempt_at: Date | null }>(
      `SELECT sink, count(*) FILTER (WHERE status = 'pending')::int AS pending, count(*) FILTER (WHERE status = 'delivered')::int AS delivered,
              count(*) FILTER (WHERE status = 'failed')::int AS failed, min(next_attempt_at) FILTER (WHERE status = 'pending') AS next_attempt_at
         FROM alert_deliveries WHERE source_topic = $1 GROUP BY sink ORDER BY sink`,
      [sourceTopic],
    )
  ).rows;
  const rows = (
    await pool.query<{ delivery_id: string; sink: string; status: 'pending' | 'failed'; finding_ids: string[]; severity: string; alert_count: number; attempts: number; last_error: string | null; next_attempt_at: Date; first_seen_at: Date }>(
      `SELECT delivery_id, sink, status, finding_ids, severity, alert_count, attempts, last_error, next_attempt_at, first_seen_at
         FROM alert_deliveries WHERE source_topic = $1 AND (status = 'failed' OR (status = 'pending' AND attempts > 0))
        ORDER BY id LIMIT $2`,
      [sourceTopic, limit],
    )
  ).rows;
  return {
    sourceTopic,
    alerts: received,
    sinks: sinks.map((s) => ({ sink: s.sink, pending: s.pending, delivered: s.delivered, failed: s.failed, nextAttemptAt: s.next_attempt_at?.toISOString() ?? null })),
    undelivered: rows.map((r) => ({
      deliveryId: r.delivery_id, sink: r.sink, status: r.status, findingIds: r.finding_ids, severity: r.severity, count: r.alert_count, attempts: r.attempts,
      lastError: r.last_error, nextAttemptAt: r.status === 'pending' ? r.next_attempt_at.toISOString() : null, firstSeenAt: r.first_seen_at.toISOString(),
    })),
  };
}

/** The status as a few lines for people. Pure. */
export function renderDeliveryStatus(s: DeliveryStatus): string {
  const lines = [`alerts     ${s.alerts.recorded} recorded from ${s.sourceTopic}${s.alerts.rejected ? `, ${s.alerts.rejected} records that were not alerts` : ''}`];
  if (s.sinks.length === 0) lines.push('sinks      no deliveries');
  for (const k of s.sinks) {
    lines.push(`sink ${k.sink}: ${k.delivered} delivered, ${k.pending} pending, ${k.failed} failed${k.nextAttemptAt ? `; next attempt ${k.nextAttemptAt}` : ''}`);
  }
  for (const r of s.undelivered) {
    const when = r.status === 'pending' ? `next attempt ${r.nextAttemptAt}` : 'failed for good';
    lines.push(`  ${r.status.padEnd(7)} ${r.sink} ${r.deliveryId} (findings ${r.findingIds.join(',')}, ${r.severity}, x${r.count}) after ${r.attempts} attempt(s), ${when}: ${r.lastError ?? ''}`);
  }
  return lines.join('\n');
}
