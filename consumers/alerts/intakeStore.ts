import { withTransaction } from '../../services/common/transaction';
import type { Pool } from 'pg';
import type { Severity } from '../../schema/reasons';
import { decodeAlert } from './alertMessage';
import { dedupeKey, deliveryIdFor } from './delivery';
import { routeAlert } from './route';

export interface IntakeRecord {
  offset: string;
  value: Buffer | null;
}

/** What a sink needs for routing and folding; the rest of its configuration is the dispatcher's. */
export interface IntakeSink {
  name: string;
  severities: Severity[];
  dedupeWindowSeconds: number;
}

export interface IntakeOutcome {
  /** Alerts recorded for the first time. */
  recorded: number;
  /** Alerts already recorded (the reconciler sent them again): no new deliveries. */
  duplicates: number;
  /** Records that are not alerts, kept with their bytes and the problem. */
  rejected: number;
  /** Records below the partition's stored offset (a redelivered batch): not even parsed. */
  skipped: number;
  /** Outbox rows created, and alerts folded into a pending row of the same dedupe group. */
  deliveries: number;
  folded: number;
  problems: Array<{ offset: string; problem: string }>;
}

/**
 * Records one fetched batch of one partition in one transaction: each alert once (by finding id), one outbox row
 * per sink it is routed to (or a count on the group's pending row within the dedupe window), and the partition's
 * next offset. Either all of it is committed or none, so a crash anywhere means redelivery, and redelivery finds
 * the offset already past it. The Kafka commit that follows is only an optimisation.
 */
export async function recordAlertBatch(
  pool: Pool,
  at: { groupId: string; topic: string; partition: number },
  records: IntakeRecord[],
  sinks: readonly IntakeSink[],
): Promise<IntakeOutcome> {
  const out: IntakeOutcome = { recorded: 0, duplicates: 0, rejected: 0, skipped: 0, deliveries: 0, folded: 0, problems: [] };
  if (records.length === 0) return out;
  return withTransaction(pool, async (c) => {
    await c.query(
      `INSERT INTO alert_intake_offsets (group_id, topic, kafka_partition, next_offset) VALUES ($1, $2, $3, 0) ON CONFLICT DO NOTHING`,
      [at.groupId, at.topic, at.partition],
    );
    const next = BigInt(
      (
        await c.query<{ next_offset: string }>(
          'SELECT next_offset FROM alert_intake_offsets WHERE group_id = $1 AND topic = $2 AND kafka_partition = $3 FOR UPDATE',
          [at.groupId, at.topic, at.partition],
        )
      ).rows[0]!.next_offset,
    );
    let last = next - 1n;
    for (const r of records) {
      const offset = BigInt(r.offset);
      if (offset < next) {
        out.skipped += 1;
        continue;
      }
      if (offset > last) last = offset;
      const decoded = decodeAlert(r.value);
      if (!decoded.ok) {
        await c.query(
          'INSERT INTO alerts_received (source_topic, kafka_partition, kafka_offset, problem, raw) VALUES ($1, $2, $3, $4, $5)',
          [at.topic, at.partition, r.offset, decoded.problem, r.value],
        );
        out.rejected += 1;
        out.problems.push({ offset: r.offset, problem: decoded.problem });
        continue;
      }
      const a = decoded.alert;
      const id = alertKey(a);
      const ins = await c.query(
        `INSERT INTO alerts_received (source_topic, kafka_partition, kafka_offset, finding_id, alert) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (source_topic, finding_id) DO NOTHING`,
        [at.topic, at.partition, r.offset, id, JSON.stringify(a)],
      );
      if (ins.rowCount === 0) {
        out.duplicates += 1;
        continue;
      }
      out.recorded += 1;
      const key = dedupeKey(a);
      for (const sink of routeAlert(a, sinks)) {
        if (sink.dedupeWindowSeconds > 0) {
          // Fold into the group's row while its window is open and no dispatcher has claimed it yet (a claim
          // moves next_attempt_at off window_ends_at, and the row lock makes the two wait for each other).
          const folded = await c.query(
            `UPDATE alert_deliveries
                SET alert_count = alert_count + 1, finding_ids = finding_ids || $4::text, last_seen_at = clock_timestamp(),
                    severity = GREATEST(severity, $5::severity)
              WHERE id = (SELECT id FROM alert_deliveries
                           WHERE source_topic = $1 AND sink = $2 AND dedupe_key = $3 AND status = 'pending' AND attempts = 0
                             AND next_attempt_at = window_ends_at AND window_ends_at > clock_timestamp()
                           ORDER BY id LIMIT 1 FOR UPDATE)
                AND status = 'pending' AND attempts = 0 AND next_attempt_at = window_ends_at`,
            [at.topic, sink.name, key, id, a.severity],
          );
          if ((folded.rowCount ?? 0) > 0) {
            out.folded += 1;
            continue;
          }
        }
        const made = await c.query(
          `INSERT INTO alert_deliveries (delivery_id, source_topic, sink, dedupe_key, finding_ids, alert, severity, first_seen_at, last_seen_at, window_ends_at, next_attempt_at)
           SELECT $1, $2, $3, $4, ARRAY[$5::text], $6, $7, t, t, t + $8 * interval '1 second', t + $8 * interval '1 second' FROM clock_timestamp() AS t
           ON CONFLICT (delivery_id) DO NOTHING`,
          [deliveryIdFor(at.topic, sink.name, id), at.topic, sink.name, key, id, JSON.stringify(a), a.severity, sink.dedupeWindowSeconds],
        );
        out.deliveries += made.rowCount ?? 0;
      }
    }
    if (last >= next) {
      await c.query(
        'UPDATE alert_intake_offsets SET next_offset = $4, updated_at = now() WHERE group_id = $1 AND topic = $2 AND kafka_partition = $3',
        [at.groupId, at.topic, at.partition, (last + 1n).toString()],
      );
    }
    return out;
  });
}

/** Drift and integrity findings are numbered apart (two tables): an integrity finding's key says which it is. */
export function alertKey(a: { type: string; findingId: string }): string {
  return a.type === 'integrity.finding' ? `integrity:${a.findingId}` : a.findingId;
}
