import { createHash } from 'node:crypto';
import type { Pool, PoolClient } from 'pg';
import type { LedgerNotice } from '../ingest/ledgerStore';
import type { IntentDeclaredPayload, IntentClosedPayload, ActionReportedPayload, OpenTarget, Target } from '../../schema/events';
import type { ToolCatalogue } from '../../schema/catalogue';
import { evaluateAction, IntentView } from './evaluateAction';
import { shouldRevoke } from './shouldRevoke';
import type { ReasonCode, Severity } from '../../schema/reasons';
import { severityRank } from '../../schema/reasons';

export interface RevocationNotice {
  type: 'credential.revoked';
  credentialId: string;
  agentId: string;
  intentId: string;
  actionEventId: string;
  reasonCode: ReasonCode;
  severity: Severity;
  revokedAt: string;
  latencyMs: number;
}

export interface DriftAlert {
  type: 'drift.finding';
  findingId: string;
  agentId: string;
  intentId: string | null;
  actionEventId: string;
  tool: string;
  reasonCode: ReasonCode;
  severity: Severity;
  detail: string;
  credentialsRevoked: string[];
}

export interface ReconcileOutcome {
  alerts: DriftAlert[];
  revocations: RevocationNotice[];
}

export interface ReconcilePolicy {
  revokeAt: Severity;
  catalogue: ToolCatalogue;
}

const NONE: ReconcileOutcome = { alerts: [], revocations: [] };

export function credentialIdFor(agentId: string, intentId: string): string {
  return 'cred_' + createHash('sha256').update(`${agentId}\u0000${intentId}`).digest('base64url').slice(0, 24);
}

/**
 * The event ids a ledger-topic message points at (`{v: 1, agentId, events: [{eventId, ...}]}`, as ingest writes
 * it), or null when the message is not one of ours. Ids are only pointers: each is looked up in the ledger.
 */
export function noticeEventIds(value: Buffer | null): string[] | null {
  if (!value || value.length > MAX_NOTICE_BYTES) return null;
  try {
    const m = JSON.parse(value.toString('utf8')) as { events?: unknown };
    if (!Array.isArray(m.events) || m.events.length === 0) return null;
    const ids: string[] = [];
    for (const e of m.events as Array<{ eventId?: unknown } | null>) {
      const id = e?.eventId;
      if (typeof id !== 'string' || id.length === 0 || id.length > 128) return null;
      ids.push(id);
    }
    return ids;
  } catch {
    return null;
  }
}

/** Ingest splits its sends at 512 KiB; anything larger on the ledger topic did not come from it. */
const MAX_NOTICE_BYTES = 1024 * 1024;

/** An event as the ledger holds it: what the reconciler judges. */
interface LedgeredEvent extends LedgerNotice {
  position: string;
  payload: unknown;
}

/**
 * Applies one ledgered event to the reconciliation state in its own transaction. The ledger topic only says which
 * event to look at: the event itself is read from the ledger, so a message written to that topic by anyone but
 * ingest can neither declare an intent nor fabricate an action. Idempotent: an event seen before changes nothing,
 * and returns the alerts and revocations it caused the first time so they can be re-sent. Returns null when no
 * such event is in the ledger.
 */
export async function reconcileNotice(pool: Pool, eventId: string, policy: ReconcilePolicy, now: () => Date = () => new Date()): Promise<(ReconcileOutcome & { type: string }) | null> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const row = (
      await client.query<{ position: string; leaf_index: string; event_id: string; agent_id: string; key_id: string; seq: string; type: string; ts: Date; produced_at: Date; payload: unknown }>(
        'SELECT position, leaf_index, event_id, agent_id, key_id, seq, type, ts, produced_at, payload FROM ledger_events WHERE event_id = $1',
        [eventId],
      )
    ).rows[0];
    if (!row) {
      await client.query('ROLLBACK');
      return null;
    }
    const n: LedgeredEvent = {
      position: row.position, leafIndex: row.leaf_index, eventId: row.event_id, agentId: row.agent_id, keyId: row.key_id, seq: Number(row.seq), type: row.type,
      ts: row.ts.toISOString(), producedAt: row.produced_at.toISOString(), payload: row.payload,
    };
    let out = NONE;
    if (n.type === 'intent.declared') await onIntentDeclared(client, n, n.payload as IntentDeclaredPayload);
    else if (n.type === 'intent.closed') await onIntentClosed(client, n, n.payload as IntentClosedPayload);
    else if (n.type === 'action.reported') out = await onAction(client, n, n.payload as ActionReportedPayload, policy, now);
    await client.query('COMMIT');
    return { ...out, type: n.type };
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw e;
  } finally {
    client.release();
  }
}

async function onIntentDeclared(c: PoolClient, n: LedgeredEvent, p: IntentDeclaredPayload): Promise<void> {
  const ins = await c.query(
    `INSERT INTO intents (intent_id, agent_id, event_id, task, purpose, allowed_tools, allowed_targets, data_classes, not_before, not_after, declared_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT DO NOTHING`,
    [p.intentId, n.agentId, n.eventId, p.task, p.purpose, p.allowedTools, JSON.stringify(p.allowedTargets), p.dataClasses, p.window.notBefore, p.window.notAfter, n.ts],
  );
  if (ins.rowCount === 0) return; // redelivery, or another agent's intent id (its actions will not match this agent)
  // The just-in-time credential for this task: bound to the key that declared it, expiring with the intent.
  await c.query(
    `INSERT INTO credentials (credential_id, agent_id, intent_id, key_id, issued_at, expires_at) VALUES ($1, $2, $3, $4, now(), $5)
     ON CONFLICT DO NOTHING`,
    [credentialIdFor(n.agentId, p.intentId), n.agentId, p.intentId, n.keyId, p.window.notAfter],
  );
}

async function onIntentClosed(c: PoolClient, n: LedgeredEvent, p: IntentClosedPayload): Promise<void> {
  await c.query(`UPDATE intents SET status = 'closed', closed_at = $3 WHERE intent_id = $1 AND agent_id = $2 AND status = 'open'`, [p.intentId, n.agentId, n.ts]);
  await c.query(`UPDATE credentials SET status = 'expired' WHERE intent_id = $1 AND agent_id = $2 AND status = 'active'`, [p.intentId, n.agentId]);
}

async function loadIntent(c: PoolClient, intentId: string | null): Promise<IntentView | null> {
  if (intentId === null) return null;
  // openTargets (optional, added after 0001) is not a column: it is read from the signed intent.declared payload itself.
  const r = await c.query<{
    intent_id: string; agent_id: string; allowed_tools: string[]; allowed_targets: Target[]; data_classes: string[];
    not_before: Date; not_after: Date; status: 'open' | 'closed'; open_targets: OpenTarget[] | null;
  }>(
    `SELECT i.intent_id, i.agent_id, i.allowed_tools, i.allowed_targets, i.data_classes, i.not_before, i.not_after, i.status,
            e.payload -> 'openTargets' AS open_targets
       FROM intents i LEFT JOIN ledger_events e ON e.event_id = i.event_id WHERE i.intent_id = $1`,
    [intentId],
  );
  const row = r.rows[0];
  if (!row) return null;
  return {
    intentId: row.intent_id, agentId: row.agent_id, allowedTools: row.allowed_tools, allowedTargets: row.allowed_targets,
    dataClasses: row.data_classes, notBefore: row.not_before, notAfter: row.not_after, status: row.status,
    ...(Array.isArray(row.open_targets) ? { openTargets: row.open_targets } : {}),
  };
}

async function onAction(c: PoolClient, n: LedgeredEvent, p: ActionReportedPayload, policy: ReconcilePolicy, now: () => Date): Promise<ReconcileOutcome> {
  const seen = await c.query('SELECT 1 FROM actions WHERE event_id = $1', [n.eventId]);
  if ((seen.rowCount ?? 0) > 0) return replayOutcome(c, n.eventId);

  const intent = await loadIntent(c, p.intentId);
  const verdict = evaluateAction(intent, { agentId: n.agentId, intentId: p.intentId, tool: p.tool, args: p.args, targets: p.targets, ts: new Date(n.ts) }, policy.catalogue);
  await c.query(
    `INSERT INTO actions (event_id, action_id, agent_id, intent_id, tool, args_digest, targets, outcome, ts, in_scope)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
    [n.eventId, p.actionId, n.agentId, p.intentId, p.tool, p.argsDigest, JSON.stringify(verdict.targets), p.outcome, n.ts, verdict.inScope],
  );
  if (verdict.findings.length === 0) return NONE;

  const alerts: DriftAlert[] = [];
  for (const f of verdict.findings) {
    const r = await c.query<{ id: string }>(
      `INSERT INTO drift_findings (action_event_id, agent_id, intent_id, reason_code, severity, detail, tool)
       VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
      [n.eventId, n.agentId, p.intentId, f.reasonCode, f.severity, f.detail, p.tool],
    );
    alerts.push({ type: 'drift.finding', findingId: r.rows[0]!.id, agentId: n.agentId, intentId: p.intentId, actionEventId: n.eventId, tool: p.tool, reasonCode: f.reasonCode, severity: f.severity, detail: f.detail, credentialsRevoked: [] });
  }
  const worst = [...alerts].sort((a, b) => severityRank(b.severity) - severityRank(a.severity))[0]!;
  if (!shouldRevoke(worst, { revokeAt: policy.revokeAt })) return { alerts, revocations: [] };

  // Revoke the credential of the intent the action claimed; an action that claims no intent we can trust
  // (none, unknown, another agent's) puts every active credential of the agent in doubt.
  const scoped = intent !== null && intent.agentId === n.agentId;
  const creds = await c.query<{ credential_id: string; intent_id: string }>(
    `UPDATE credentials SET status = 'revoked', revoked_at = now()
      WHERE agent_id = $1 AND status = 'active' AND ($2::text IS NULL OR intent_id = $2)
      RETURNING credential_id, intent_id`,
    [n.agentId, scoped ? intent!.intentId : null],
  );
  const revokedAt = now();
  const latencyMs = revokedAt.getTime() - Date.parse(n.producedAt);
  const revocations: RevocationNotice[] = [];
  for (const cr of creds.rows) {
    await c.query(
      `INSERT INTO revocations (credential_id, agent_id, intent_id, finding_id, action_event_id, reason_code, severity, action_produced_at, revoked_at, latency_ms)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
      [cr.credential_id, n.agentId, cr.intent_id, worst.findingId, n.eventId, worst.reasonCode, worst.severity, n.producedAt, revokedAt.toISOString(), latencyMs],
    );
    revocations.push({ type: 'credential.revoked', credentialId: cr.credential_id, agentId: n.agentId, intentId: cr.intent_id, actionEventId: n.eventId, reasonCode: worst.reasonCode, severity: worst.severity, revokedAt: revokedAt.toISOString(), latencyMs });
    worst.credentialsRevoked.push(cr.credential_id);
  }
  return { alerts, revocations };
}

/** A redelivered action: nothing changes, but what it caused is returned for re-sending (Kafka may have lost it). */
async function replayOutcome(c: PoolClient, actionEventId: string): Promise<ReconcileOutcome> {
  const f = await c.query<{ id: string; agent_id: string; intent_id: string | null; reason_code: ReasonCode; severity: Severity; detail: string; tool: string }>(
    'SELECT id, agent_id, intent_id, reason_code, severity, detail, tool FROM drift_findings WHERE action_event_id = $1 ORDER BY id',
    [actionEventId],
  );
  const r = await c.query<{ credential_id: string; agent_id: string; intent_id: string; reason_code: ReasonCode; severity: Severity; revoked_at: Date; latency_ms: number }>(
    'SELECT credential_id, agent_id, intent_id, reason_code, severity, revoked_at, latency_ms FROM revocations WHERE action_event_id = $1 ORDER BY id',
    [actionEventId],
  );
  return {
    alerts: f.rows.map((x) => ({ type: 'drift.finding', findingId: x.id, agentId: x.agent_id, intentId: x.intent_id, actionEventId, tool: x.tool, reasonCode: x.reason_code, severity: x.severity, detail: x.detail, credentialsRevoked: [] })),
    revocations: r.rows.map((x) => ({ type: 'credential.revoked', credentialId: x.credential_id, agentId: x.agent_id, intentId: x.intent_id, actionEventId, reasonCode: x.reason_code, severity: x.severity, revokedAt: x.revoked_at.toISOString(), latencyMs: x.latency_ms })),
  };
}
