import { createHash } from 'node:crypto';
import type { Pool, PoolClient } from 'pg';
import type { LedgerNotice } from '../ingest/ledgerStore';
import { withTransaction } from '../../services/common/transaction';
import type { IntentDeclaredPayload, IntentClosedPayload, ActionReportedPayload, AuthorizationDecidedPayload, ActionObservedPayload, CredentialClosedNotice, OpenTarget, Target } from '../../schema/events';
import { loadCatalogue, type ToolCatalogue } from '../../schema/catalogue';
import type { Config } from '../../services/common/config';
import { checkDeclaration, loadPolicy, type DeclarationFinding, type Policy } from '../../schema/policy';
import { frameworksFor, type FrameworkMapping } from '../../schema/frameworks';
import type { IntentView, DeclarationReason } from './evaluateAction';
import { checkDelegation, evaluateChain, MAX_CHAIN } from './delegation';
import { shouldRevoke } from './shouldRevoke';
import { noteReport, onObserved } from './gatewayMatch';
import { isGatewayOnly } from '../../schema/policy';
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
  /** `integrity.finding`: an integrity finding as alert delivery carries it (no intent, no tool). */
  type: 'drift.finding' | 'integrity.finding';
  findingId: string;
  agentId: string;
  intentId: string | null;
  /** The event judged: an action, or an intent refused at declaration (then `tool` is ''). */
  actionEventId: string;
  tool: string;
  reasonCode: ReasonCode;
  severity: Severity;
  detail: string;
  frameworks: FrameworkMapping;
  credentialsRevoked: string[];
}

export interface ReconcileOutcome {
  alerts: DriftAlert[];
  revocations: RevocationNotice[];
  /** Credentials that ended with their intent (intent.closed): gateways refuse them from then on. */
  closures?: CredentialClosedNotice[];
}

export interface ReconcilePolicy {
  revokeAt: Severity;
  catalogue: ToolCatalogue;
  /** Who may declare what (schema/policy.ts); absent: every declaration is accepted. */
  policy?: Policy;
  /** How long an action whose intent is not in the ledger waits for it (default: the policy's, else 30 s). */
  graceMs?: number;
}

export function graceOf(policy: ReconcilePolicy): number {
  return policy.graceMs ?? policy.policy?.graceMs ?? 30_000;
}

const NONE: ReconcileOutcome = { alerts: [], revocations: [] };

export function credentialIdFor(agentId: string, intentId: string): string {
  return 'cred_' + createHash('sha256').update(`${agentId}\u0000${intentId}`).digest('base64url').slice(0, 24);
}

/**
 * What a ledger-topic message points at, as ingest writes them: ledgered events (`{v: 1, agentId, events:
 * [{eventId, ...}]}`) or integrity findings (`{v: 1, agentId, integrity: [findingId, ...]}`); null when the message
 * is not one of ours. Ids are only pointers: each is looked up in the database.
 */
export function parseLedgerMessage(value: Buffer | null): { eventIds: string[]; integrityIds: string[] } | null {
  if (!value || value.length > MAX_NOTICE_BYTES) return null;
  try {
    const m = JSON.parse(value.toString('utf8')) as { events?: unknown; integrity?: unknown };
    if (Array.isArray(m.integrity)) {
      const ids = m.integrity as unknown[];
      if (ids.length === 0 || !ids.every((id) => typeof id === 'string' && /^\d{1,19}$/.test(id))) return null;
      return { eventIds: [], integrityIds: ids as string[] };
    }
    if (!Array.isArray(m.events) || m.events.length === 0) return null;
    const ids: string[] = [];
    for (const e of m.events as Array<{ eventId?: unknown } | null>) {
      const id = e?.eventId;
      if (typeof id !== 'string' || id.length === 0 || id.length > 128) return null;
      ids.push(id);
    }
    return { eventIds: ids, integrityIds: [] };
  } catch {
    return null;
  }
}

/** The event ids of a ledger notice (see parseLedgerMessage), or null when the message is not an event notice. */
export function noticeEventIds(value: Buffer | null): string[] | null {
  const m = parseLedgerMessage(value);
  return m && m.eventIds.length > 0 ? m.eventIds : null;
}

/** Ingest splits its sends at 512 KiB; anything larger on the ledger topic did not come from it. */
const MAX_NOTICE_BYTES = 1024 * 1024;

/** An event as the ledger holds it: what the reconciler judges. */
export interface LedgeredEvent extends LedgerNotice {
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
  return (await reconcileNotices(pool, [eventId], policy, now))[0]!;
}

/**
 * Several events, in order, in one transaction: one commit (one WAL flush) for all of them, which is what lets the
 * reconciler keep up with a fleet. All or none: on error nothing is applied, and the caller may retry them singly.
 * With `stopAfterRevocation` it stops after the first event that revoked a credential, so that the revocation is
 * committed and sent at once; it returns the results of the events it applied, a prefix of `eventIds`.
 */
export async function reconcileNotices(
  pool: Pool,
  eventIds: string[],
  policy: ReconcilePolicy,
  now: () => Date = () => new Date(),
  opts: { stopAfterRevocation?: boolean } = {},
): Promise<Array<(ReconcileOutcome & { type: string }) | null>> {
  return withTransaction(pool, async (client) => {
    const ctx = await prefetch(client, eventIds);
    const out: Array<(ReconcileOutcome & { type: string }) | null> = [];
    for (const eventId of eventIds) {
      const r = await reconcileInTransaction(client, eventId, policy, now, ctx);
      out.push(r);
      // A revocation should not wait for the rest of the chunk: commit here, and the caller goes on after it.
      if (opts.stopAfterRevocation && r && (r.revocations.length > 0 || (r.closures?.length ?? 0) > 0)) break;
    }
    await flushActions(client, ctx);
    return out;
  });
}

/**
 * What a chunk's transaction reads once rather than once per event: each round trip to Postgres costs more than the
 * judgement itself (profiled: half the reconciler's CPU was the socket writes of its queries).
 */
interface ChunkContext {
  rows: Map<string, LedgeredEvent>;
  /** Actions already judged, before the chunk or in it. */
  judged: Set<string>;
  /** Whether an unmatched observation of one of the chunk's agents may be waiting (if not, reports skip the lookup). */
  observationsOpen: boolean;
  /** loadChain results; emptied whenever the chunk declares, closes or settles an intent. */
  chains: Map<string, IntentView[] | null>;
  /** Judged actions not yet written: one multi-row insert, before anything reads `actions` and at the chunk's end. */
  actions: unknown[][];
}

const ACTION_COLUMNS = ['text', 'text', 'text', 'text', 'text', 'text', 'jsonb', 'text', 'timestamptz', 'bool'] as const;

/** Writes the chunk's queued action rows (nothing to do when there are none). */
async function flushActions(c: PoolClient, ctx: ChunkContext | undefined): Promise<void> {
  if (!ctx || ctx.actions.length === 0) return;
  const rows = ctx.actions.splice(0);
  await c.query(
    `INSERT INTO actions (event_id, action_id, agent_id, intent_id, tool, args_digest, targets, outcome, ts, in_scope)
     SELECT * FROM unnest(${ACTION_COLUMNS.map((t, i) => `$${i + 1}::${t}[]`).join(', ')})`,
    ACTION_COLUMNS.map((_, i) => rows.map((r) => r[i])),
  );
}

async function prefetch(c: PoolClient, eventIds: string[]): Promise<ChunkContext> {
  const r = await c.query<{ position: string; leaf_index: string; event_id: string; agent_id: string; key_id: string; seq: string; type: string; ts: Date; produced_at: Date; payload: unknown; judged: boolean }>(
    `SELECT e.position, e.leaf_index, e.event_id, e.agent_id, e.key_id, e.seq, e.type, e.ts, e.produced_at, e.payload,
            EXISTS (SELECT 1 FROM actions a WHERE a.event_id = e.event_id) AS judged
       FROM ledger_events e WHERE e.event_id = ANY($1::text[])`,
    [eventIds],
  );
  const rows = new Map(r.rows.map((row) => [row.event_id, ledgered(row)]));
  const agents = [...new Set(r.rows.map((row) => row.agent_id))];
  const open = agents.length > 0 && (await c.query('SELECT 1 FROM observations WHERE subject_agent_id = ANY($1::text[]) AND matched_event_id IS NULL AND NOT judged LIMIT 1', [agents])).rows.length > 0;
  return { rows, judged: new Set(r.rows.filter((row) => row.judged).map((row) => row.event_id)), observationsOpen: open, chains: new Map(), actions: [] };
}

async function reconcileInTransaction(client: PoolClient, eventId: string, policy: ReconcilePolicy, now: () => Date, ctx: ChunkContext): Promise<(ReconcileOutcome & { type: string }) | null> {
  const n = ctx.rows.get(eventId) ?? (await readLedgered(client, eventId));
  if (!n) return null;
  let out = NONE;
  if (n.type !== 'action.reported') {
    // Anything else may read or change intents and actions: the queued rows go in first.
    await flushActions(client, ctx);
    ctx.chains.clear();
  }
  if (n.type === 'intent.declared') out = await onIntentDeclared(client, n, n.payload as IntentDeclaredPayload, policy, now);
  else if (n.type === 'intent.closed') out = await onIntentClosed(client, n, n.payload as IntentClosedPayload);
  else if (n.type === 'action.reported') out = await onAction(client, n, n.payload as ActionReportedPayload, policy, now, ctx);
  else if (n.type === 'authorization.decided') await onDecision(client, n, n.payload as AuthorizationDecidedPayload);
  else if (n.type === 'action.observed') {
    ctx.observationsOpen = true;
    out = await onObserved(client, n, n.payload as ActionObservedPayload, policy, now);
  }
  return { ...out, type: n.type };
}

/** A ledgered event as the reconciler judges it, read from the ledger (never from the notice). */
async function readLedgered(c: PoolClient, eventId: string): Promise<LedgeredEvent | null> {
  const row = (
    await c.query<{ position: string; leaf_index: string; event_id: string; agent_id: string; key_id: string; seq: string; type: string; ts: Date; produced_at: Date; payload: unknown }>(
      'SELECT position, leaf_index, event_id, agent_id, key_id, seq, type, ts, produced_at, payload FROM ledger_events WHERE event_id = $1',
      [eventId],
    )
  ).rows[0];
  return row ? ledgered(row) : null;
}

function ledgered(row: { position: string; leaf_index: string; event_id: string; agent_id: string; key_id: string; seq: string; type: string; ts: Date; produced_at: Date; payload: unknown }): LedgeredEvent {
  return {
    position: row.position, leafIndex: row.leaf_index, eventId: row.event_id, agentId: row.agent_id, keyId: row.key_id, seq: Number(row.seq), type: row.type,
    ts: row.ts.toISOString(), producedAt: row.produced_at.toISOString(), payload: row.payload,
  };
}

async function onIntentDeclared(c: PoolClient, n: LedgeredEvent, p: IntentDeclaredPayload, policy: ReconcilePolicy, now: () => Date): Promise<ReconcileOutcome> {
  const parents = p.parentIntentId !== undefined ? await loadChain(c, p.parentIntentId) : null;
  // A child whose parent (often another agent's, on another partition) has not arrived, or is itself waiting,
  // waits for it up to the grace window: the verdict must not depend on which partition was read first.
  const hold = p.parentIntentId !== undefined && graceOf(policy) > 0 && (parents === null || parents[0]!.status === 'pending');
  const decision = hold ? null : decideDeclaration(n.agentId, p, parents, policy);
  const ins = await c.query(
    `INSERT INTO intents (intent_id, agent_id, event_id, task, purpose, allowed_tools, allowed_targets, data_classes, not_before, not_after, declared_at,
                          parent_intent_id, root_intent_id, approval_ref, max_actions, status, denied_for, open_targets, judge_after)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19) ON CONFLICT DO NOTHING`,
    [
      p.intentId, n.agentId, n.eventId, p.task, p.purpose, p.allowedTools, JSON.stringify(p.allowedTargets), p.dataClasses, p.window.notBefore, p.window.notAfter, n.ts,
      p.parentIntentId ?? null, decision?.root ?? null, p.approvalRef ?? null, p.maxActions ?? null, decision === null ? 'pending' : decision.denied ? 'denied' : 'open',
      decision?.denied ?? null, p.openTargets ? JSON.stringify(p.openTargets) : null, decision === null ? new Date(now().getTime() + graceOf(policy)) : null,
    ],
  );
  if (ins.rowCount === 0) return duplicateDeclaration(c, n, p);
  if (decision === null) return NONE;
  return settleIntent(c, { intentId: p.intentId, agentId: n.agentId, eventId: n.eventId, keyId: n.keyId, ts: n.ts, notAfter: p.window.notAfter }, decision, policy, now);
}

/**
 * A declaration whose intent id is taken: a redelivery of the same event changes nothing; a different event (another
 * agent claiming the id first, or the same agent trying to change a declared intent) is refused, on the record, with
 * no credential. Never silently dropped.
 */
async function duplicateDeclaration(c: PoolClient, n: LedgeredEvent, p: IntentDeclaredPayload): Promise<ReconcileOutcome> {
  const owner = (await c.query<{ event_id: string; agent_id: string }>('SELECT event_id, agent_id FROM intents WHERE intent_id = $1', [p.intentId])).rows[0];
  if (!owner || owner.event_id === n.eventId) return replayOutcome(c, n.eventId);
  const prior = await c.query('SELECT 1 FROM drift_findings WHERE action_event_id = $1', [n.eventId]);
  if ((prior.rowCount ?? 0) > 0) return replayOutcome(c, n.eventId);
  const finding =
    owner.agent_id === n.agentId
      ? { reasonCode: 'POLICY_DENIED' as const, severity: 'high' as const, detail: `agent ${n.agentId} re-declares intent ${p.intentId}, declared by event ${owner.event_id}: a declared intent cannot be changed; declare a new one` }
      : { reasonCode: 'INTENT_AGENT_MISMATCH' as const, severity: 'high' as const, detail: `agent ${n.agentId} declares intent ${p.intentId}, which agent ${owner.agent_id} declared first (event ${owner.event_id}); this declaration is refused` };
  return { alerts: [await recordFinding(c, n.eventId, n.agentId, p.intentId, '', finding)], revocations: [] };
}

interface DeclarationDecision {
  findings: DeclarationFinding[];
  denied: DeclarationReason | null;
  root: string | null;
}

/** Policy and delegation, for an intent whose parent chain is known (or known to be missing). */
function decideDeclaration(agentId: string, p: IntentDeclaredPayload, parents: IntentView[] | null, policy: ReconcilePolicy): DeclarationDecision {
  const notBefore = new Date(p.window.notBefore);
  const notAfter = new Date(p.window.notAfter);
  const findings: DeclarationFinding[] = [];
  if (p.parentIntentId !== undefined) {
    if (parents === null) findings.push({ reasonCode: 'DELEGATION_ESCALATION', severity: 'high', detail: `intent ${p.intentId} names parent ${p.parentIntentId}, which is not in the ledger` });
    else if (parents.length >= MAX_CHAIN) findings.push({ reasonCode: 'DELEGATION_ESCALATION', severity: 'high', detail: `intent ${p.intentId} is more than ${MAX_CHAIN - 1} delegations from its root` });
    else {
      const child = { intentId: p.intentId, allowedTools: p.allowedTools, allowedTargets: p.allowedTargets, openTargets: p.openTargets, dataClasses: p.dataClasses, notBefore, notAfter, maxActions: p.maxActions };
      findings.push(...checkDelegation(parents[0]!, child, policy.catalogue));
    }
  }
  if (policy.policy) {
    findings.push(...checkDeclaration(policy.policy, { agentId, intentId: p.intentId, allowedTools: p.allowedTools, dataClasses: p.dataClasses, notBefore, notAfter, approvalRef: p.approvalRef, delegationDepth: parents?.length ?? 0 }));
  }
  const merged = mergeByCode(findings).sort((a, b) => severityRank(b.severity) - severityRank(a.severity));
  return {
    findings: merged,
    denied: merged.length > 0 ? (merged[0]!.reasonCode as DeclarationReason) : null,
    root: parents && parents.length > 0 ? parents[parents.length - 1]!.intentId : null,
  };
}

/**
 * What follows from a decided intent: its findings, its credential (unless denied), the actions that cited it
 * before it was declared or that waited for it, and then the intents delegated from it that waited for it.
 */
async function settleIntent(
  c: PoolClient,
  i: { intentId: string; agentId: string; eventId: string; keyId: string; ts: string; notAfter: string },
  decision: DeclarationDecision,
  policy: ReconcilePolicy,
  now: () => Date,
): Promise<ReconcileOutcome> {
  const alerts: DriftAlert[] = [];
  for (const f of decision.findings) alerts.push(await recordFinding(c, i.eventId, i.agentId, i.intentId, '', f));
  if (!decision.denied) {
    // The just-in-time credential for this task: bound to the key that declared it, expiring with the intent.
    await c.query(
      `INSERT INTO credentials (credential_id, agent_id, intent_id, key_id, issued_at, expires_at) VALUES ($1, $2, $3, $4, now(), $5)
       ON CONFLICT DO NOTHING`,
      [credentialIdFor(i.agentId, i.intentId), i.agentId, i.intentId, i.keyId, i.notAfter],
    );
  }
  // Actions of this agent that cited the intent before it was declared (later in the agent's own chain) were judged
  // at once as INTENT_UNKNOWN and have revoked; now that the intent is here, the record says what really happened.
  const early = await c.query<{ event_id: string; tool: string; ts: Date }>(
    `SELECT a.event_id, a.tool, a.ts FROM actions a WHERE a.intent_id = $1 AND a.agent_id = $2
       AND EXISTS (SELECT 1 FROM drift_findings f WHERE f.action_event_id = a.event_id AND f.reason_code = 'INTENT_UNKNOWN')
       AND NOT EXISTS (SELECT 1 FROM drift_findings f WHERE f.action_event_id = a.event_id AND f.reason_code = 'INTENT_AFTER_ACTION')
     ORDER BY a.ts, a.event_id`,
    [i.intentId, i.agentId],
  );
  for (const a of early.rows) {
    const detail = `${a.tool} at ${a.ts.toISOString()} cited intent ${i.intentId} before it was declared (${i.ts}, later in the agent's chain)`;
    alerts.push(await recordFinding(c, a.event_id, i.agentId, i.intentId, a.tool, { reasonCode: 'INTENT_AFTER_ACTION', severity: 'high', detail }));
  }
  const out: ReconcileOutcome = { alerts, revocations: [] };
  const add = (r: ReconcileOutcome) => {
    out.alerts.push(...r.alerts);
    out.revocations.push(...r.revocations);
  };
  // Actions that arrived before this intent was settled are judged now.
  const waiting = await c.query<{ event_id: string }>('SELECT event_id FROM pending_actions WHERE intent_id = $1 ORDER BY arrived_at, event_id FOR UPDATE', [i.intentId]);
  for (const w of waiting.rows) add(await judgePending(c, w.event_id, policy, now));
  // Intents delegated from this one that waited for it are decided now (and theirs after them).
  const children = await c.query<{ intent_id: string }>(`SELECT intent_id FROM intents WHERE parent_intent_id = $1 AND status = 'pending' ORDER BY declared_at, intent_id FOR UPDATE`, [i.intentId]);
  for (const ch of children.rows) add(await settlePending(c, ch.intent_id, policy, now));
  return out;
}

/** Decides an intent that waited for its parent: with the parent if it has come, as an escalation if not. */
async function settlePending(c: PoolClient, intentId: string, policy: ReconcilePolicy, now: () => Date): Promise<ReconcileOutcome> {
  const row = (
    await c.query<{ agent_id: string; event_id: string; key_id: string; ts: Date; payload: IntentDeclaredPayload }>(
      `SELECT i.agent_id, i.event_id, e.key_id, e.ts, e.payload FROM intents i JOIN ledger_events e ON e.event_id = i.event_id WHERE i.intent_id = $1 AND i.status = 'pending'`,
      [intentId],
    )
  ).rows[0];
  if (!row) return NONE;
  const p = row.payload;
  const parents = await loadChain(c, p.parentIntentId ?? null);
  const decision = decideDeclaration(row.agent_id, p, parents && parents[0]!.status === 'pending' ? null : parents, policy);
  await c.query(`UPDATE intents SET status = $2, denied_for = $3, root_intent_id = $4, judge_after = NULL WHERE intent_id = $1`, [
    intentId, decision.denied ? 'denied' : 'open', decision.denied, decision.root,
  ]);
  return settleIntent(c, { intentId, agentId: row.agent_id, eventId: row.event_id, keyId: row.key_id, ts: row.ts.toISOString(), notAfter: p.window.notAfter }, decision, policy, now);
}

/** Intents whose grace window passed without their parent: decided without it (as escalations), a few at a time. */
export async function settleOverdueIntents(pool: Pool, policy: ReconcilePolicy, now: () => Date = () => new Date(), limit = 100): Promise<ReconcileOutcome & { settled: number }> {
  return withTransaction(pool, async (client) => {
    const due = await client.query<{ intent_id: string }>(
      `SELECT intent_id FROM intents WHERE status = 'pending' AND judge_after <= $1 ORDER BY judge_after, intent_id LIMIT $2 FOR UPDATE SKIP LOCKED`,
      [now(), limit],
    );
    const out: ReconcileOutcome & { settled: number } = { alerts: [], revocations: [], settled: due.rows.length };
    for (const d of due.rows) {
      const r = await settlePending(client, d.intent_id, policy, now);
      out.alerts.push(...r.alerts);
      out.revocations.push(...r.revocations);
    }
    return out;
  });
}

/** One finding per code (the ledger keeps one per event and code): details joined, the higher severity kept. */
function mergeByCode<T extends { reasonCode: ReasonCode; severity: Severity; detail: string }>(findings: T[]): T[] {
  const by = new Map<ReasonCode, T>();
  for (const f of findings) {
    const prior = by.get(f.reasonCode);
    by.set(f.reasonCode, prior ? { ...prior, severity: severityRank(f.severity) > severityRank(prior.severity) ? f.severity : prior.severity, detail: `${prior.detail}; ${f.detail}` } : f);
  }
  return [...by.values()];
}

export async function recordFinding(c: PoolClient, eventId: string, agentId: string, intentId: string | null, tool: string, f: { reasonCode: ReasonCode; severity: Severity; detail: string }): Promise<DriftAlert> {
  const r = await c.query<{ id: string }>(
    `INSERT INTO drift_findings (action_event_id, agent_id, intent_id, reason_code, severity, detail, tool)
     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
    [eventId, agentId, intentId, f.reasonCode, f.severity, f.detail, tool],
  );
  return {
    type: 'drift.finding', findingId: r.rows[0]!.id, agentId, intentId, actionEventId: eventId, tool, reasonCode: f.reasonCode, severity: f.severity, detail: f.detail,
    frameworks: frameworksFor(f.reasonCode), credentialsRevoked: [],
  };
}

async function onDecision(c: PoolClient, n: LedgeredEvent, p: AuthorizationDecidedPayload): Promise<void> {
  await c.query(
    `INSERT INTO authorization_decisions (event_id, decided_by, subject_agent_id, intent_id, tool, decision, reason_codes, reasons, decided_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING`,
    [n.eventId, n.agentId, p.subjectAgentId, p.intentId, p.tool, p.decision, p.reasons.map((r) => r.code), JSON.stringify(p.reasons), n.ts],
  );
}

/**
 * Closing an intent ends its credential. The notice goes out on every delivery of the close (a redelivery re-sends
 * it, as Kafka may have lost the first), naming the credential whether it ended now or at the first delivery.
 */
async function onIntentClosed(c: PoolClient, n: LedgeredEvent, p: IntentClosedPayload): Promise<ReconcileOutcome> {
  await c.query(`UPDATE intents SET status = 'closed', closed_at = $3 WHERE intent_id = $1 AND agent_id = $2 AND status = 'open'`, [p.intentId, n.agentId, n.ts]);
  await c.query(`UPDATE credentials SET status = 'expired' WHERE intent_id = $1 AND agent_id = $2 AND status = 'active'`, [p.intentId, n.agentId]);
  const ended = await c.query<{ credential_id: string }>(
    `SELECT c.credential_id FROM credentials c JOIN intents i USING (intent_id) WHERE c.intent_id = $1 AND c.agent_id = $2 AND c.status = 'expired' AND i.status = 'closed'`,
    [p.intentId, n.agentId],
  );
  return { alerts: [], revocations: [], closures: ended.rows.map((r) => ({ type: 'credential.closed', credentialId: r.credential_id, agentId: n.agentId, intentId: p.intentId, closedAt: n.ts })) };
}

type IntentRow = {
  intent_id: string; agent_id: string; allowed_tools: string[]; allowed_targets: Target[]; data_classes: string[];
  not_before: Date; not_after: Date; status: 'open' | 'closed' | 'denied' | 'pending'; denied_for: DeclarationReason | null; declared_at: Date;
  max_actions: number | null; parent_intent_id: string | null; open_targets: OpenTarget[] | null;
};

/**
 * The intent and the intents it was delegated from, root last; null when the intent is not in the ledger. A
 * parent that is missing ends the chain there (it was refused at declaration, so the child is `denied` anyway).
 */
export async function loadChain(c: PoolClient | Pool, intentId: string | null): Promise<IntentView[] | null> {
  if (intentId === null) return null;
  const chain: IntentView[] = [];
  const seen = new Set<string>();
  for (let id: string | null = intentId; id !== null && chain.length < MAX_CHAIN && !seen.has(id); ) {
    seen.add(id);
    const row: IntentRow | undefined = (
      await c.query<IntentRow>(
        `SELECT intent_id, agent_id, allowed_tools, allowed_targets, data_classes, not_before, not_after, status, denied_for, declared_at, max_actions, parent_intent_id,
                open_targets
           FROM intents WHERE intent_id = $1`,
        [id],
      )
    ).rows[0];
    if (!row) break;
    chain.push({
      intentId: row.intent_id, agentId: row.agent_id, allowedTools: row.allowed_tools, allowedTargets: row.allowed_targets, dataClasses: row.data_classes,
      notBefore: row.not_before, notAfter: row.not_after, status: row.status, deniedFor: row.denied_for ?? undefined, declaredAt: row.declared_at, maxActions: row.max_actions,
      openTargets: row.open_targets ?? undefined,
    });
    id = row.parent_intent_id;
  }
  return chain.length > 0 ? chain : null;
}

/** Is any event of the agent's chain before `seq` not (yet) in the ledger? */
async function hasGapBefore(c: PoolClient, agentId: string, seq: number): Promise<boolean> {
  const r = await c.query<{ n: number }>('SELECT count(*)::int AS n FROM ledger_events WHERE agent_id = $1 AND seq < $2', [agentId, seq]);
  return r.rows[0]!.n < seq - 1;
}

/**
 * For each intent given that has a budget: the actions already judged under it or under any intent delegated from
 * it (each by its own declaring agent: another agent citing an intent cannot spend its budget).
 */
export async function budgetSpent(c: PoolClient | Pool, intents: IntentView[]): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const i of intents) {
    if (i.maxActions == null) continue;
    const r = await c.query<{ n: number }>(
      `WITH RECURSIVE sub AS (
         SELECT intent_id, agent_id FROM intents WHERE intent_id = $1
         UNION SELECT i.intent_id, i.agent_id FROM intents i JOIN sub s ON i.parent_intent_id = s.intent_id)
       SELECT count(*)::int AS n FROM actions a JOIN sub s ON a.intent_id = s.intent_id AND a.agent_id = s.agent_id`,
      [i.intentId],
    );
    out.set(i.intentId, r.rows[0]!.n);
  }
  return out;
}

/** Actions already judged under an intent, by the same agent: the budget spent before this one. */
export async function actionsUnder(c: PoolClient | Pool, intentId: string, agentId: string): Promise<number> {
  return (await c.query<{ n: number }>('SELECT count(*)::int AS n FROM actions WHERE intent_id = $1 AND agent_id = $2', [intentId, agentId])).rows[0]!.n;
}

async function onAction(c: PoolClient, n: LedgeredEvent, p: ActionReportedPayload, policy: ReconcilePolicy, now: () => Date, ctx: ChunkContext): Promise<ReconcileOutcome> {
  if (ctx.judged.has(n.eventId)) return replayOutcome(c, n.eventId);
  ctx.judged.add(n.eventId);
  // The gateway half: does an observation wait for this report, or must this report wait for an observation?
  if (ctx.observationsOpen || (policy.policy && isGatewayOnly(policy.policy, p.tool))) await noteReport(c, n, p, policy, now);
  let chain = p.intentId === null ? null : ctx.chains.get(p.intentId);
  if (chain === undefined) {
    chain = await loadChain(c, p.intentId);
    if (p.intentId !== null) ctx.chains.set(p.intentId, chain);
  }
  const waitsForIntent = chain !== null && chain[0]!.status === 'pending';
  if (p.intentId !== null && graceOf(policy) > 0 && (waitsForIntent || (chain === null && (await hasGapBefore(c, n.agentId, n.seq))))) {
    // The intent an agent acts under is its own, declared earlier in its own chain, which reaches us in order: it
    // can still be on its way only if an earlier event of the chain is missing (a SEQ_GAP). Then the action waits
    // for it, up to the grace window (judgeOverdue); otherwise it is judged now, and revokes now. An action under an
    // intent that itself waits for its parent waits with it.
    await c.query(
      `INSERT INTO pending_actions (event_id, intent_id, agent_id, judge_after) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`,
      [n.eventId, p.intentId, n.agentId, new Date(now().getTime() + graceOf(policy))],
    );
    return NONE;
  }
  return judgeAction(c, n, p, chain, policy, now, ctx);
}

async function judgeAction(c: PoolClient, n: LedgeredEvent, p: ActionReportedPayload, chain: IntentView[] | null, policy: ReconcilePolicy, now: () => Date, ctx?: ChunkContext): Promise<ReconcileOutcome> {
  const intent = chain?.[0] ?? null;
  // Budgets count the actions written so far.
  if (chain?.some((i) => i.maxActions != null)) await flushActions(c, ctx);
  // The budget is the only use of the count: no budget, no count.
  const priorActions = intent && p.intentId !== null && intent.maxActions != null ? await actionsUnder(c, p.intentId, n.agentId) : 0;
  const spent = await budgetSpent(c, chain?.slice(1) ?? []);
  const verdict = evaluateChain(chain, { agentId: n.agentId, intentId: p.intentId, tool: p.tool, args: p.args, targets: p.targets, ts: new Date(n.ts), priorActions }, policy.catalogue, spent);
  const row = [n.eventId, p.actionId, n.agentId, p.intentId, p.tool, p.argsDigest, JSON.stringify(verdict.targets), p.outcome, n.ts, verdict.inScope];
  if (ctx) ctx.actions.push(row);
  else {
    await c.query(
      `INSERT INTO actions (event_id, action_id, agent_id, intent_id, tool, args_digest, targets, outcome, ts, in_scope)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
      row,
    );
  }
  if (verdict.findings.length === 0) return NONE;

  const alerts: DriftAlert[] = [];
  for (const f of verdict.findings) alerts.push(await recordFinding(c, n.eventId, n.agentId, p.intentId, p.tool, f));
  // Revoke the credential of the intent the action claimed; an action that claims no intent we can trust
  // (none, unknown, another agent's) puts every active credential of the agent in doubt.
  const scoped = intent !== null && intent.agentId === n.agentId;
  return { alerts, revocations: await revokeOnFindings(c, n, scoped ? intent!.intentId : null, alerts, policy, now) };
}

/**
 * When the worst of `alerts` is at or above the policy's severity, revokes the agent's active credential for
 * `intentId` (all of them when null), records why, and returns the notices to publish. `ev` is the event judged:
 * its production time starts the latency clock.
 */
export async function revokeOnFindings(c: PoolClient, ev: { eventId: string; agentId: string; producedAt: string }, intentId: string | null, alerts: DriftAlert[], policy: ReconcilePolicy, now: () => Date): Promise<RevocationNotice[]> {
  if (alerts.length === 0) return [];
  const worst = [...alerts].sort((a, b) => severityRank(b.severity) - severityRank(a.severity))[0]!;
  if (!shouldRevoke(worst, { revokeAt: policy.revokeAt })) return [];
  const creds = await c.query<{ credential_id: string; intent_id: string }>(
    `UPDATE credentials SET status = 'revoked', revoked_at = now()
      WHERE agent_id = $1 AND status = 'active' AND ($2::text IS NULL OR intent_id = $2)
      RETURNING credential_id, intent_id`,
    [ev.agentId, intentId],
  );
  const revokedAt = now();
  const latencyMs = revokedAt.getTime() - Date.parse(ev.producedAt);
  const revocations: RevocationNotice[] = [];
  for (const cr of creds.rows) {
    await c.query(
      `INSERT INTO revocations (credential_id, agent_id, intent_id, finding_id, action_event_id, reason_code, severity, action_produced_at, revoked_at, latency_ms)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
      [cr.credential_id, ev.agentId, cr.intent_id, worst.findingId, ev.eventId, worst.reasonCode, worst.severity, ev.producedAt, revokedAt.toISOString(), latencyMs],
    );
    revocations.push({ type: 'credential.revoked', credentialId: cr.credential_id, agentId: ev.agentId, intentId: cr.intent_id, actionEventId: ev.eventId, reasonCode: worst.reasonCode, severity: worst.severity, revokedAt: revokedAt.toISOString(), latencyMs });
    worst.credentialsRevoked.push(cr.credential_id);
  }
  return revocations;
}

/** A redelivered action: nothing changes, but what it caused is returned for re-sending (Kafka may have lost it). */
export async function replayOutcome(c: PoolClient, actionEventId: string): Promise<ReconcileOutcome> {
  const f = await c.query<{ id: string; agent_id: string; intent_id: string | null; reason_code: ReasonCode; severity: Severity; detail: string; tool: string }>(
    'SELECT id, agent_id, intent_id, reason_code, severity, detail, tool FROM drift_findings WHERE action_event_id = $1 ORDER BY id',
    [actionEventId],
  );
  const r = await c.query<{ credential_id: string; agent_id: string; intent_id: string; reason_code: ReasonCode; severity: Severity; revoked_at: Date; latency_ms: number }>(
    'SELECT credential_id, agent_id, intent_id, reason_code, severity, revoked_at, latency_ms FROM revocations WHERE action_event_id = $1 ORDER BY id',
    [actionEventId],
  );
  return {
    alerts: f.rows.map((x) => ({ type: 'drift.finding', findingId: x.id, agentId: x.agent_id, intentId: x.intent_id, actionEventId, tool: x.tool, reasonCode: x.reason_code, severity: x.severity, detail: x.detail, frameworks: frameworksFor(x.reason_code), credentialsRevoked: [] })),
    revocations: r.rows.map((x) => ({ type: 'credential.revoked', credentialId: x.credential_id, agentId: x.agent_id, intentId: x.intent_id, actionEventId, reasonCode: x.reason_code, severity: x.severity, revokedAt: x.revoked_at.toISOString(), latencyMs: x.latency_ms })),
  };
}

/** A pending action judged now: against its intent if it has arrived, else as one whose intent is unknown. */
async function judgePending(c: PoolClient, eventId: string, policy: ReconcilePolicy, now: () => Date): Promise<ReconcileOutcome> {
  await c.query('DELETE FROM pending_actions WHERE event_id = $1', [eventId]);
  const n = await readLedgered(c, eventId);
  if (!n) return NONE;
  const seen = await c.query('SELECT 1 FROM actions WHERE event_id = $1', [eventId]);
  if ((seen.rowCount ?? 0) > 0) return NONE;
  const p = n.payload as ActionReportedPayload;
  return judgeAction(c, n, p, await loadChain(c, p.intentId), policy, now);
}

/**
 * Judges the actions whose grace window has passed without their intent (as INTENT_UNKNOWN, or against the intent
 * if it came in the meantime), a few at a time, each batch in its own transaction. Rows another reconciler holds
 * are skipped, so several reconcilers may sweep at once. Returns what they caused, for sending.
 */
export async function judgeOverdue(pool: Pool, policy: ReconcilePolicy, now: () => Date = () => new Date(), limit = 100): Promise<ReconcileOutcome & { judged: number }> {
  return withTransaction(pool, async (client) => {
    const due = await client.query<{ event_id: string }>(
      'SELECT event_id FROM pending_actions WHERE judge_after <= $1 ORDER BY judge_after, event_id LIMIT $2 FOR UPDATE SKIP LOCKED',
      [now(), limit],
    );
    const out: ReconcileOutcome & { judged: number } = { alerts: [], revocations: [], judged: due.rows.length };
    for (const d of due.rows) {
      const r = await judgePending(client, d.event_id, policy, now);
      out.alerts.push(...r.alerts);
      out.revocations.push(...r.revocations);
    }
    return out;
  });
}

/** The reconciler's rules from configuration: catalogue and policy files, checked against each other at load. */
export function loadReconcilePolicy(config: Pick<Config, 'cataloguePath' | 'policyPath' | 'revokeAt'>): ReconcilePolicy {
  const catalogue = loadCatalogue(config.cataloguePath);
  const policy = loadPolicy(config.policyPath, catalogue);
  return { catalogue, policy, revokeAt: config.revokeAt ?? policy.revokeAt };
}
