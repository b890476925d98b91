import type { Pool } from 'pg';
import type { z } from 'zod';
import { SEVERITIES, type ReasonCode, type Severity } from '../../schema/reasons';
import { frameworksFor } from '../../schema/frameworks';
import { encode as b64uEncode } from '../../schema/crypto/base64url';
import type { AgentsQuery, AuditQuery, CredentialsQuery, FindingsQuery, TimelineQuery } from './apiSchemas';

/** The analyst API's reads, one function per question, each a plain SQL query on the ledger's tables. */

const iso = (d: Date | null) => (d === null ? null : d.toISOString());

interface FindingRow {
  id: string; action_event_id: string; agent_id: string; intent_id: string | null; tool: string; reason_code: ReasonCode; severity: Severity; detail: string;
  created_at: Date; acknowledged_at: Date | null; acknowledged_by: string | null; ack_note: string | null;
}
const FINDING_COLUMNS = 'id, action_event_id, agent_id, intent_id, tool, reason_code, severity, detail, created_at, acknowledged_at, acknowledged_by, ack_note';
const finding = (r: FindingRow) => ({
  id: r.id, eventId: r.action_event_id, agentId: r.agent_id, intentId: r.intent_id, tool: r.tool, reasonCode: r.reason_code, severity: r.severity, detail: r.detail,
  frameworks: frameworksFor(r.reason_code), createdAt: r.created_at.toISOString(), acknowledgedAt: iso(r.acknowledged_at), acknowledgedBy: r.acknowledged_by, ackNote: r.ack_note,
});

/** Newest first, keyset-paginated on the finding id. */
export async function listFindings(pool: Pool, q: z.infer<typeof FindingsQuery>) {
  const where: string[] = [];
  const args: unknown[] = [];
  const add = (sql: string, v: unknown) => {
    args.push(v);
    where.push(sql.replace('?', `$${args.length}`));
  };
  if (q.agent) add('agent_id = ?', q.agent);
  if (q.intent) add('intent_id = ?', q.intent);
  if (q.reason) add('reason_code = ?', q.reason);
  if (q.severity) add('severity >= ?::severity', q.severity);
  if (q.since) add('created_at >= ?', q.since);
  if (q.until) add('created_at < ?', q.until);
  if (q.acknowledged) where.push(q.acknowledged === 'true' ? 'acknowledged_at IS NOT NULL' : 'acknowledged_at IS NULL');
  if (q.cursor) add('id < ?', q.cursor);
  args.push(q.limit + 1);
  const rows = (
    await pool.query<FindingRow>(`SELECT ${FINDING_COLUMNS} FROM drift_findings ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY id DESC LIMIT $${args.length}`, args)
  ).rows;
  const more = rows.length > q.limit;
  const items = rows.slice(0, q.limit).map(finding);
  return { items, nextCursor: more ? items[items.length - 1]!.id : null };
}

export async function getFinding(pool: Pool, id: string) {
  const r = (await pool.query<FindingRow>(`SELECT ${FINDING_COLUMNS} FROM drift_findings WHERE id = $1`, [id])).rows[0];
  return r ? finding(r) : null;
}

/** Records who acknowledged a finding; a second acknowledgement keeps the first. Null when there is no such finding. */
export async function acknowledgeFinding(pool: Pool, id: string, analyst: string, note: string | null) {
  const r = await pool.query<FindingRow>(
    `UPDATE drift_findings SET acknowledged_at = COALESCE(acknowledged_at, now()), acknowledged_by = COALESCE(acknowledged_by, $2), ack_note = COALESCE(ack_note, $3)
      WHERE id = $1 RETURNING ${FINDING_COLUMNS}`,
    [id, analyst, note],
  );
  return r.rows[0] ? finding(r.rows[0]) : null;
}

const AGENT_SUMMARY = `
  SELECT a.agent_id, a.display_name, h.last_seq, h.updated_at,
         (SELECT count(*) FROM ledger_events e WHERE e.agent_id = a.agent_id)::int AS events,
         (SELECT coalesce(jsonb_object_agg(s, n), '{}'::jsonb) FROM (SELECT severity::text AS s, count(*)::int AS n FROM drift_findings f WHERE f.agent_id = a.agent_id GROUP BY 1) x) AS findings,
         (SELECT count(*) FROM credentials c WHERE c.agent_id = a.agent_id AND c.status = 'active')::int AS active,
         (SELECT count(*) FROM credentials c WHERE c.agent_id = a.agent_id AND c.status = 'revoked')::int AS revoked
    FROM agents a LEFT JOIN agent_heads h ON h.agent_id = a.agent_id`;
type AgentRow = { agent_id: string; display_name: string | null; last_seq: string | null; updated_at: Date | null; events: number; findings: Record<string, number>; active: number; revoked: number };
const agentSummary = (r: AgentRow) => ({
  agentId: r.agent_id, displayName: r.display_name, events: r.events, lastSeq: Number(r.last_seq ?? 0), lastSeen: r.events > 0 ? iso(r.updated_at) : null,
  findings: Object.fromEntries(SEVERITIES.map((s) => [s, r.findings[s] ?? 0])) as Record<Severity, number>,
  activeCredentials: r.active, revokedCredentials: r.revoked,
});

export async function listAgents(pool: Pool, q: z.infer<typeof AgentsQuery>) {
  const rows = (await pool.query<AgentRow>(`${AGENT_SUMMARY} WHERE ($1::text IS NULL OR a.agent_id > $1) ORDER BY a.agent_id LIMIT $2`, [q.cursor ?? null, q.limit + 1])).rows;
  const items = rows.slice(0, q.limit).map(agentSummary);
  return { items, nextCursor: rows.length > q.limit ? items[items.length - 1]!.agentId : null };
}

export async function getAgent(pool: Pool, agentId: string) {
  const r = (await pool.query<AgentRow>(`${AGENT_SUMMARY} WHERE a.agent_id = $1`, [agentId])).rows[0];
  if (!r) return null;
  const keys = await pool.query<{ key_id: string; public_key: Buffer; status: string; registered_at: Date; retired_at: Date | null }>(
    'SELECT key_id, public_key, status, registered_at, retired_at FROM agent_keys WHERE agent_id = $1 ORDER BY registered_at',
    [agentId],
  );
  const integ = await pool.query<{ reason_code: ReasonCode; severity: Severity; detail: string; created_at: Date }>(
    'SELECT reason_code, severity, detail, created_at FROM integrity_findings WHERE agent_id = $1 ORDER BY id',
    [agentId],
  );
  return {
    ...agentSummary(r),
    keys: keys.rows.map((k) => ({ keyId: k.key_id, publicKey: b64uEncode(k.public_key), status: k.status, registeredAt: k.registered_at.toISOString(), retiredAt: iso(k.retired_at) })),
    integrityFindings: integ.rows.map((f) => ({ reasonCode: f.reason_code, severity: f.severity, detail: f.detail, createdAt: f.created_at.toISOString() })),
  };
}

/** The agent's events in its own order (seq), each with what the reconciler made of it. */
export async function agentTimeline(pool: Pool, agentId: string, q: z.infer<typeof TimelineQuery>) {
  const rows = (
    await pool.query<{ seq: string; event_id: string; type: string; ts: Date; ledgered_at: Date; leaf_index: string; payload: Record<string, unknown>; in_scope: boolean | null; findings: Array<{ reasonCode: ReasonCode; severity: Severity; detail: string }> }>(
      `SELECT e.seq, e.event_id, e.type, e.ts, e.ledgered_at, e.leaf_index, e.payload, a.in_scope,
              coalesce((SELECT jsonb_agg(jsonb_build_object('reasonCode', f.reason_code, 'severity', f.severity, 'detail', f.detail) ORDER BY f.id)
                          FROM drift_findings f WHERE f.action_event_id = e.event_id), '[]'::jsonb) AS findings
         FROM ledger_events e LEFT JOIN actions a ON a.event_id = e.event_id
        WHERE e.agent_id = $1 AND ($2::bigint IS NULL OR e.seq > $2) ORDER BY e.seq LIMIT $3`,
      [agentId, q.cursor ?? null, q.limit + 1],
    )
  ).rows;
  const items = rows.slice(0, q.limit).map((r) => {
    const p = r.payload;
    const intentId = typeof p.intentId === 'string' ? p.intentId : null;
    const tool = typeof p.tool === 'string' ? p.tool : null;
    const summary =
      r.type === 'intent.declared' ? `declared ${intentId}: ${String(p.task ?? '').slice(0, 120)}`
      : r.type === 'action.reported' ? `${tool} under ${intentId ?? 'no intent'}`
      : r.type === 'intent.closed' ? `closed ${intentId} (${String(p.outcome)})`
      : r.type === 'authorization.decided' ? `${String(p.decision)} ${tool} for ${String(p.subjectAgentId)}`
      : r.type;
    return {
      seq: Number(r.seq), eventId: r.event_id, type: r.type, ts: r.ts.toISOString(), ledgeredAt: r.ledgered_at.toISOString(), leafIndex: r.leaf_index, summary, intentId, tool,
      inScope: r.in_scope, findings: r.findings,
    };
  });
  return { items, nextCursor: rows.length > q.limit ? String(items[items.length - 1]!.seq) : null };
}

/** One intent beside everything done under it. */
export async function getIntent(pool: Pool, intentId: string) {
  const i = (
    await pool.query<{
      intent_id: string; agent_id: string; event_id: string; task: string; purpose: string; allowed_tools: string[]; allowed_targets: Array<{ kind: string; value: string; match?: string }>;
      data_classes: string[]; not_before: Date; not_after: Date; status: string; denied_for: string | null; max_actions: number | null; parent_intent_id: string | null;
      root_intent_id: string | null; approval_ref: string | null; declared_at: Date; closed_at: Date | null;
    }>('SELECT * FROM intents WHERE intent_id = $1', [intentId])
  ).rows[0];
  if (!i) return null;
  const cred = (await pool.query<{ credential_id: string; status: string; expires_at: Date; revoked_at: Date | null }>('SELECT credential_id, status, expires_at, revoked_at FROM credentials WHERE intent_id = $1', [intentId])).rows[0];
  const findings = (await pool.query<FindingRow>(`SELECT ${FINDING_COLUMNS} FROM drift_findings WHERE intent_id = $1 ORDER BY id`, [intentId])).rows.map(finding);
  const actions = (
    await pool.query<{ event_id: string; action_id: string; agent_id: string; tool: string; targets: Array<{ kind: string; value: string }>; ts: Date; in_scope: boolean }>(
      'SELECT event_id, action_id, agent_id, tool, targets, ts, in_scope FROM actions WHERE intent_id = $1 ORDER BY ts, event_id',
      [intentId],
    )
  ).rows;
  const decisions = (
    await pool.query<{ event_id: string; decided_by: string; tool: string; decision: string; reason_codes: string[]; decided_at: Date }>(
      'SELECT event_id, decided_by, tool, decision, reason_codes::text[] AS reason_codes, decided_at FROM authorization_decisions WHERE intent_id = $1 ORDER BY decided_at, event_id',
      [intentId],
    )
  ).rows;
  const children = (await pool.query<{ intent_id: string; agent_id: string; status: string }>('SELECT intent_id, agent_id, status FROM intents WHERE parent_intent_id = $1 ORDER BY declared_at', [intentId])).rows;
  return {
    intentId: i.intent_id, agentId: i.agent_id, eventId: i.event_id, task: i.task, purpose: i.purpose, allowedTools: i.allowed_tools, allowedTargets: i.allowed_targets,
    dataClasses: i.data_classes, notBefore: i.not_before.toISOString(), notAfter: i.not_after.toISOString(), status: i.status, deniedFor: i.denied_for, maxActions: i.max_actions,
    parentIntentId: i.parent_intent_id, rootIntentId: i.root_intent_id, approvalRef: i.approval_ref, declaredAt: i.declared_at.toISOString(), closedAt: iso(i.closed_at),
    credential: cred ? { credentialId: cred.credential_id, status: cred.status, expiresAt: cred.expires_at.toISOString(), revokedAt: iso(cred.revoked_at) } : null,
    declarationFindings: findings.filter((f) => f.eventId === i.event_id),
    actions: actions.map((a) => ({
      eventId: a.event_id, actionId: a.action_id, agentId: a.agent_id, tool: a.tool, targets: a.targets, ts: a.ts.toISOString(), inScope: a.in_scope,
      findings: findings.filter((f) => f.eventId === a.event_id),
    })),
    decisions: decisions.map((d) => ({ eventId: d.event_id, decidedBy: d.decided_by, tool: d.tool, decision: d.decision, reasonCodes: d.reason_codes, decidedAt: d.decided_at.toISOString() })),
    children: children.map((c) => ({ intentId: c.intent_id, agentId: c.agent_id, status: c.status })),
  };
}

type CredentialRow = {
  credential_id: string; agent_id: string; intent_id: string; key_id: string; status: string; issued_at: Date; expires_at: Date; revoked_at: Date | null;
  reason_code: ReasonCode | null; severity: Severity | null; finding_id: string | null; revoked_by: string | null; note: string | null; latency_ms: number | null;
};
const CREDENTIAL_SELECT = `SELECT c.credential_id, c.agent_id, c.intent_id, c.key_id, c.status, c.issued_at, c.expires_at, c.revoked_at,
       r.reason_code, r.severity, r.finding_id, r.revoked_by, r.note, r.latency_ms
  FROM credentials c LEFT JOIN revocations r ON r.credential_id = c.credential_id`;
const credential = (r: CredentialRow) => ({
  credentialId: r.credential_id, agentId: r.agent_id, intentId: r.intent_id, keyId: r.key_id, status: r.status, issuedAt: r.issued_at.toISOString(), expiresAt: r.expires_at.toISOString(),
  revokedAt: iso(r.revoked_at),
  revocation: r.reason_code ? { reasonCode: r.reason_code, severity: r.severity!, findingId: r.finding_id, revokedBy: r.revoked_by, note: r.note, latencyMs: r.latency_ms } : null,
});

export async function listCredentials(pool: Pool, q: z.infer<typeof CredentialsQuery>) {
  const rows = (
    await pool.query<CredentialRow>(
      `${CREDENTIAL_SELECT} WHERE ($1::text IS NULL OR c.agent_id = $1) AND ($2::text IS NULL OR c.intent_id = $2) AND ($3::text IS NULL OR c.status = $3)
         AND ($4::text IS NULL OR c.credential_id > $4) ORDER BY c.credential_id LIMIT $5`,
      [q.agent ?? null, q.intent ?? null, q.status ?? null, q.cursor ?? null, q.limit + 1],
    )
  ).rows;
  const items = rows.slice(0, q.limit).map(credential);
  return { items, nextCursor: rows.length > q.limit ? items[items.length - 1]!.credentialId : null };
}

export async function getCredential(pool: Pool, id: string) {
  const r = (await pool.query<CredentialRow>(`${CREDENTIAL_SELECT} WHERE c.credential_id = $1`, [id])).rows[0];
  return r ? credential(r) : null;
}

export async function integrityStatus(pool: Pool) {
  const tip = (await pool.query<{ log_id: string; next_leaf_index: string }>('SELECT log_id, next_leaf_index FROM ledger_tip WHERE id = 1')).rows[0]!;
  const head = (
    await pool.query<{ tree_size: string; root_hash: string; signed_at: Date; key_id: string; signature: string }>(
      'SELECT tree_size, root_hash, signed_at, key_id, signature FROM tree_heads ORDER BY tree_size DESC LIMIT 1',
    )
  ).rows[0];
  const counts = async (sql: string) => Object.fromEntries((await pool.query<{ k: string; n: number }>(sql)).rows.map((r) => [r.k, r.n]));
  return {
    logId: tip.log_id,
    ledgerSize: tip.next_leaf_index,
    latestTreeHead: head ? { treeSize: head.tree_size, rootHash: head.root_hash, timestamp: head.signed_at.toISOString(), keyId: head.key_id, signature: head.signature } : null,
    leavesAfterLatestHead: String(BigInt(tip.next_leaf_index) - BigInt(head?.tree_size ?? 0)),
    integrityFindings: await counts('SELECT reason_code::text AS k, count(*)::int AS n FROM integrity_findings GROUP BY 1 ORDER BY 1'),
    rejectedEvents: await counts('SELECT reason_code::text AS k, count(*)::int AS n FROM rejected_events GROUP BY 1 ORDER BY 1'),
  };
}

/** The analysts' own trail, as the ledger holds it (analyst.activity events signed by the API). */
export async function auditTrail(pool: Pool, apiAgentId: string, q: z.infer<typeof AuditQuery>) {
  const rows = (
    await pool.query<{ seq: string; event_id: string; ts: Date; payload: { analyst: string; role: string; action: string; method: string; path: string; subject: string | null } }>(
      `SELECT seq, event_id, ts, payload FROM ledger_events WHERE agent_id = $1 AND type = 'analyst.activity'
          AND ($2::text IS NULL OR payload->>'analyst' = $2) AND ($3::bigint IS NULL OR seq < $3) ORDER BY seq DESC LIMIT $4`,
      [apiAgentId, q.analyst ?? null, q.cursor ?? null, q.limit + 1],
    )
  ).rows;
  const items = rows.slice(0, q.limit).map((r) => ({
    seq: Number(r.seq), eventId: r.event_id, ts: r.ts.toISOString(), analyst: r.payload.analyst, role: r.payload.role, action: r.payload.action, method: r.payload.method,
    path: r.payload.path, subject: r.payload.subject,
  }));
  return { items, nextCursor: rows.length > q.limit ? String(items[items.length - 1]!.seq) : null };
}
