import type { Pool } from 'pg';
import type { ReasonCode, Severity } from '../../schema/reasons';
import { frameworksFor, type FrameworkMapping } from '../../schema/frameworks';
import { shouldRevoke } from './shouldRevoke';
import { withTransaction } from '../../services/common/transaction';
import type { RevocationNotice } from './reconcileNotice';

/** An integrity finding as alerts carry it (a fork, a gap, a late event in an agent's chain). */
export interface IntegrityAlert {
  type: 'integrity.finding';
  findingId: string;
  agentId: string;
  eventId: string | null;
  reasonCode: ReasonCode;
  severity: Severity;
  detail: string;
  frameworks: FrameworkMapping;
  credentialsRevoked: string[];
}

/**
 * Acts once on each integrity finding ingest recorded: at or above the policy's `revokeAt` every active credential
 * of the agent is revoked (a fork means two parties sign as the agent; a gap may hide an action: no intent of the
 * agent can be trusted after either). `ids` are the findings ingest just announced; without them, any finding not
 * yet handled (a lost announcement) is swept up. Each finding is handled in the transaction that marks it, so
 * none is acted on twice; rows another reconciler holds are skipped.
 */
export async function handleIntegrityFindings(
  pool: Pool,
  revokeAt: Severity,
  ids: string[] | null,
  now: () => Date = () => new Date(),
  limit = 100,
): Promise<{ alerts: IntegrityAlert[]; revocations: RevocationNotice[]; handled: number }> {
  return withTransaction(pool, async (client) => {
    const due = await client.query<{ id: string; agent_id: string; reason_code: ReasonCode; severity: Severity; detail: string; event_id: string | null; created_at: Date }>(
      `SELECT id, agent_id, reason_code, severity, detail, event_id, created_at FROM integrity_findings
        WHERE handled_at IS NULL AND ($1::bigint[] IS NULL OR id = ANY($1::bigint[])) ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED`,
      [ids, limit],
    );
    const alerts: IntegrityAlert[] = [];
    const revocations: RevocationNotice[] = [];
    for (const f of due.rows) {
      const alert: IntegrityAlert = {
        type: 'integrity.finding', findingId: f.id, agentId: f.agent_id, eventId: f.event_id, reasonCode: f.reason_code, severity: f.severity, detail: f.detail,
        frameworks: frameworksFor(f.reason_code), credentialsRevoked: [],
      };
      if (shouldRevoke({ severity: f.severity }, { revokeAt })) {
        const creds = await client.query<{ credential_id: string; intent_id: string }>(
          `UPDATE credentials SET status = 'revoked', revoked_at = now() WHERE agent_id = $1 AND status = 'active' RETURNING credential_id, intent_id`,
          [f.agent_id],
        );
        const at = now();
        for (const cr of creds.rows) {
          await client.query(
            `INSERT INTO revocations (credential_id, agent_id, intent_id, reason_code, severity, action_event_id, action_produced_at, revoked_at, latency_ms, note)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
            [cr.credential_id, f.agent_id, cr.intent_id, f.reason_code, f.severity, f.event_id, f.created_at, at, at.getTime() - f.created_at.getTime(), `integrity finding ${f.id}: ${f.detail}`.slice(0, 2048)],
          );
          revocations.push({
            type: 'credential.revoked', credentialId: cr.credential_id, agentId: f.agent_id, intentId: cr.intent_id, actionEventId: f.event_id ?? '', reasonCode: f.reason_code,
            severity: f.severity, revokedAt: at.toISOString(), latencyMs: at.getTime() - f.created_at.getTime(),
          });
          alert.credentialsRevoked.push(cr.credential_id);
        }
      }
      await client.query('UPDATE integrity_findings SET handled_at = now() WHERE id = $1', [f.id]);
      alerts.push(alert);
    }
    return { alerts, revocations, handled: due.rows.length };
  });
}
