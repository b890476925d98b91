import type { Pool } from 'pg';
import type { z } from 'zod';
import { SEVERITIES, type Severity } from '../../schema/reasons';
import { HttpError } from '../common/http';
import { MAX_BUCKETS, type BUCKETS, type FindingsStatsQuery, type TopAgentsQuery } from './apiSchemas';

/** The dashboard's aggregates: counts over drift findings and credentials, computed in SQL, one function per chart. */

type Bucket = (typeof BUCKETS)[number];
const BUCKET_MS: Record<Bucket, number> = { minute: 60_000, hour: 3_600_000, day: 86_400_000 };

const severityCounts = (m: Record<string, number>) => Object.fromEntries(SEVERITIES.map((s) => [s, m[s] ?? 0])) as Record<Severity, number>;

/** Floors a time to its UTC bucket. */
export function bucketStart(t: Date, bucket: Bucket): Date {
  return new Date(Math.floor(t.getTime() / BUCKET_MS[bucket]) * BUCKET_MS[bucket]);
}

/**
 * The window an aggregate covers: `until` defaults to now, `since` to the bucket of the oldest finding but never more
 * than MAX_BUCKETS buckets back. A window given by hand that needs more buckets is refused rather than cut.
 */
export function statsWindow(q: { bucket: Bucket; since?: string; until?: string }, oldest: Date | null, now: Date): { since: Date; until: Date } {
  const until = q.until ? new Date(q.until) : now;
  const width = BUCKET_MS[q.bucket];
  const earliest = new Date(bucketStart(until, q.bucket).getTime() - (MAX_BUCKETS - 1) * width);
  let since: Date;
  if (q.since) since = bucketStart(new Date(q.since), q.bucket);
  else if (oldest && oldest < until) since = new Date(Math.max(bucketStart(oldest, q.bucket).getTime(), earliest.getTime()));
  else since = bucketStart(new Date(until.getTime() - 1), q.bucket);
  if (since >= until) throw new HttpError(400, 'REQUEST_INVALID', 'query: since must be before until');
  const n = Math.ceil((until.getTime() - since.getTime()) / width);
  if (n > MAX_BUCKETS) throw new HttpError(400, 'REQUEST_INVALID', `query: the window holds ${n} ${q.bucket} buckets; at most ${MAX_BUCKETS} (use a wider bucket or a shorter window)`);
  return { since, until };
}

/** Findings per bucket and severity (every bucket of the window, empty ones too), and the window's totals. */
export async function findingsStats(pool: Pool, q: z.infer<typeof FindingsStatsQuery>, now = new Date()) {
  const oldest = q.since ? null : ((await pool.query<{ t: Date | null }>('SELECT min(created_at) AS t FROM drift_findings')).rows[0]!.t ?? null);
  const { since, until } = statsWindow(q, oldest, now);
  const width = `1 ${q.bucket}`;
  const buckets = (
    await pool.query<{ start: Date; counts: Record<string, number> }>(
      `WITH counts AS (
         SELECT date_trunc($1, created_at AT TIME ZONE 'UTC') AS start, severity::text AS severity, count(*)::int AS n
           FROM drift_findings WHERE created_at >= $2 AND created_at < $3 GROUP BY 1, 2)
       SELECT s.start AT TIME ZONE 'UTC' AS start, coalesce(jsonb_object_agg(c.severity, c.n) FILTER (WHERE c.severity IS NOT NULL), '{}'::jsonb) AS counts
         FROM generate_series($2::timestamptz AT TIME ZONE 'UTC', ($3::timestamptz AT TIME ZONE 'UTC') - interval '1 microsecond', $4::interval) AS s(start)
         LEFT JOIN counts c ON c.start = s.start
        GROUP BY s.start ORDER BY s.start`,
      [q.bucket, since, until, width],
    )
  ).rows;
  const byReason = (
    await pool.query<{ k: string; n: number }>(
      'SELECT reason_code::text AS k, count(*)::int AS n FROM drift_findings WHERE created_at >= $1 AND created_at < $2 GROUP BY 1 ORDER BY 2 DESC, 1',
      [since, until],
    )
  ).rows;
  const allTime = (await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM drift_findings')).rows[0]!.n;
  const series = buckets.map((b) => ({ start: b.start.toISOString(), ...severityCounts(b.counts) }));
  const bySeverity = severityCounts({});
  for (const b of series) for (const s of SEVERITIES) bySeverity[s] += b[s];
  return {
    bucket: q.bucket, since: since.toISOString(), until: until.toISOString(), total: SEVERITIES.reduce((n, s) => n + bySeverity[s], 0), allTime, bySeverity,
    byReason: Object.fromEntries(byReason.map((r) => [r.k, r.n])), buckets: series,
  };
}

/** The agents with the most drifting actions (then the most findings), optionally within a window. */
export async function topDriftingAgents(pool: Pool, q: z.infer<typeof TopAgentsQuery>) {
  const rows = (
    await pool.query<{ agent_id: string; display_name: string | null; actions: number; findings: number; by_severity: Record<string, number>; revoked: number; last_at: Date }>(
      `WITH f AS (SELECT agent_id, action_event_id, severity, created_at FROM drift_findings
                   WHERE ($1::timestamptz IS NULL OR created_at >= $1) AND ($2::timestamptz IS NULL OR created_at < $2)),
            per AS (SELECT agent_id, count(DISTINCT action_event_id)::int AS actions, count(*)::int AS findings, max(created_at) AS last_at FROM f GROUP BY agent_id),
            top AS (SELECT * FROM per ORDER BY actions DESC, findings DESC, agent_id LIMIT $3)
       SELECT top.agent_id, a.display_name, top.actions, top.findings, top.last_at,
              (SELECT jsonb_object_agg(s, n) FROM (SELECT severity::text AS s, count(*)::int AS n FROM f WHERE f.agent_id = top.agent_id GROUP BY 1) x) AS by_severity,
              (SELECT count(*)::int FROM credentials c WHERE c.agent_id = top.agent_id AND c.status = 'revoked') AS revoked
         FROM top LEFT JOIN agents a ON a.agent_id = top.agent_id
        ORDER BY top.actions DESC, top.findings DESC, top.agent_id`,
      [q.since ?? null, q.until ?? null, q.limit],
    )
  ).rows;
  return {
    items: rows.map((r) => ({
      agentId: r.agent_id, displayName: r.display_name, driftingActions: r.actions, findings: r.findings, bySeverity: severityCounts(r.by_severity ?? {}),
      revokedCredentials: r.revoked, lastFindingAt: r.last_at.toISOString(),
    })),
  };
}

/** Credentials by status, revocations by reason, and how long automatic revocations took. */
export async function credentialStats(pool: Pool) {
  const status = Object.fromEntries((await pool.query<{ k: string; n: number }>('SELECT status AS k, count(*)::int AS n FROM credentials GROUP BY 1')).rows.map((r) => [r.k, r.n]));
  const reasons = (await pool.query<{ k: string; n: number }>('SELECT reason_code::text AS k, count(*)::int AS n FROM revocations GROUP BY 1 ORDER BY 2 DESC, 1')).rows;
  const lat = (
    await pool.query<{ n: number; p50: number | null; p99: number | null; max: number | null }>(
      `SELECT count(*)::int AS n, percentile_cont(0.5) WITHIN GROUP (ORDER BY latency_ms) AS p50, percentile_cont(0.99) WITHIN GROUP (ORDER BY latency_ms) AS p99,
              max(latency_ms) AS max FROM revocations WHERE latency_ms IS NOT NULL`,
    )
  ).rows[0]!;
  return {
    active: status.active ?? 0, revoked: status.revoked ?? 0, expired: status.expired ?? 0, revocationsByReason: Object.fromEntries(reasons.map((r) => [r.k, r.n])),
    latencyMs: lat.n > 0 ? { count: lat.n, p50: lat.p50!, p99: lat.p99!, max: lat.max! } : null,
  };
}
