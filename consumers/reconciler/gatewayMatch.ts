import { withTransaction } from '../../services/common/transaction';
import type { Pool, PoolClient } from 'pg';
import type { ActionObservedPayload, ActionReportedPayload } from '../../schema/events';
import { isGatewayOnly } from '../../schema/policy';
import type { Severity } from '../../schema/reasons';
import { graceOf, recordFinding, replayOutcome, revokeOnFindings, type DriftAlert, type LedgeredEvent, type ReconcileOutcome, type ReconcilePolicy } from './reconcileNotice';

/**
 * The gateway half of reconciliation: what a tool gateway saw (action.observed) against what the agent reported
 * (action.reported), matched by subject agent and the agent's actionId, with the same tool and argsDigest. An
 * observation with no such report within the grace window is UNREPORTED_ACTION (the agent hid a call); a reported
 * call to a tool the policy says only a gateway reaches, with no observation within the window, is
 * UNOBSERVED_ACTION (the agent got there some other way, or reported a call it did not make). Either side may come
 * first: each waits in its table, and the sweep (judgeUnmatched) looks for the other side once more before judging.
 */

export const UNREPORTED_SEVERITY: Severity = 'critical';
export const UNOBSERVED_SEVERITY: Severity = 'high';
/** An observation signed by a party that is not a registered gateway: a forgery against another agent. */
export const NOT_A_GATEWAY_SEVERITY: Severity = 'high';

const NONE: ReconcileOutcome = { alerts: [], revocations: [] };

/** The agent's report of this exact call, judged or still waiting for its intent; null when there is none. */
async function findReport(c: PoolClient, agentId: string, actionId: string, tool: string, digest: string): Promise<string | null> {
  const r = await c.query<{ event_id: string }>(
    `(SELECT event_id FROM actions WHERE agent_id = $1 AND action_id = $2 AND tool = $3 AND args_digest = $4 LIMIT 1)
     UNION ALL
     (SELECT p.event_id FROM pending_actions p JOIN ledger_events l USING (event_id)
       WHERE p.agent_id = $1 AND l.payload->>'actionId' = $2 AND l.payload->>'tool' = $3 AND l.payload->>'argsDigest' = $4 LIMIT 1)
     LIMIT 1`,
    [agentId, actionId, tool, digest],
  );
  return r.rows[0]?.event_id ?? null;
}

async function matched(c: PoolClient, observationEventId: string, reportEventId: string): Promise<void> {
  await c.query('UPDATE observations SET matched_event_id = $2 WHERE event_id = $1', [observationEventId, reportEventId]);
  await c.query('DELETE FROM awaiting_observations WHERE action_event_id = $1', [reportEventId]);
}

export async function onObserved(c: PoolClient, n: LedgeredEvent, p: ActionObservedPayload, policy: ReconcilePolicy, now: () => Date): Promise<ReconcileOutcome> {
  const role = (await c.query<{ role: string }>('SELECT role FROM agents WHERE agent_id = $1', [n.agentId])).rows[0]?.role;
  if (role !== 'gateway') {
    const prior = await c.query('SELECT 1 FROM drift_findings WHERE action_event_id = $1', [n.eventId]);
    if ((prior.rowCount ?? 0) > 0) return replayOutcome(c, n.eventId);
    const alert = await recordFinding(c, n.eventId, n.agentId, null, p.tool, {
      reasonCode: 'NOT_A_GATEWAY', severity: NOT_A_GATEWAY_SEVERITY,
      detail: `${n.agentId} signed an observation of ${p.subjectAgentId}'s call to ${p.tool}, but is not a registered gateway; the observation is ignored`,
    });
    return { alerts: [alert], revocations: await revokeOnFindings(c, n, null, [alert], policy, now) };
  }
  const ins = await c.query(
    `INSERT INTO observations (event_id, gateway_id, subject_agent_id, intent_id, action_id, tool, args_digest, targets, credential_id, ts, judge_after)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT DO NOTHING`,
    [n.eventId, n.agentId, p.subjectAgentId, p.intentId, p.actionId, p.tool, p.argsDigest, JSON.stringify(p.targets), p.credentialId, n.ts, new Date(now().getTime() + graceOf(policy))],
  );
  if (ins.rowCount === 0) return replayOutcome(c, n.eventId);
  const report = await findReport(c, p.subjectAgentId, p.actionId, p.tool, p.argsDigest);
  if (report !== null) await matched(c, n.eventId, report);
  return NONE;
}

/** Called for every new report: settles an observation waiting for it, or makes a gateway-only call wait for one. */
export async function noteReport(c: PoolClient, n: LedgeredEvent, p: ActionReportedPayload, policy: ReconcilePolicy, now: () => Date): Promise<void> {
  const hit = await c.query<{ event_id: string }>(
    `UPDATE observations SET matched_event_id = $5
      WHERE subject_agent_id = $1 AND action_id = $2 AND tool = $3 AND args_digest = $4 AND matched_event_id IS NULL AND NOT judged
      RETURNING event_id`,
    [n.agentId, p.actionId, p.tool, p.argsDigest, n.eventId],
  );
  if ((hit.rowCount ?? 0) > 0 || !policy.policy || !isGatewayOnly(policy.policy, p.tool)) return;
  // Already observed (and judged unreported before this report came): it was observed all the same.
  const seen = await c.query('SELECT 1 FROM observations WHERE subject_agent_id = $1 AND action_id = $2 AND tool = $3 AND args_digest = $4 LIMIT 1', [n.agentId, p.actionId, p.tool, p.argsDigest]);
  if ((seen.rowCount ?? 0) > 0) return;
  await c.query(
    `INSERT INTO awaiting_observations (action_event_id, agent_id, intent_id, action_id, tool, args_digest, judge_after) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING`,
    [n.eventId, n.agentId, p.intentId, p.actionId, p.tool, p.argsDigest, new Date(now().getTime() + graceOf(policy))],
  );
}

/** The intent to revoke under: the one named, when it is the agent's own; otherwise null (all of the agent's). */
async function ownIntent(c: PoolClient, intentId: string | null, agentId: string): Promise<string | null> {
  if (intentId === null) return null;
  const r = await c.query<{ agent_id: string }>('SELECT agent_id FROM intents WHERE intent_id = $1', [intentId]);
  return r.rows[0]?.agent_id === agentId ? intentId : null;
}

/**
 * Judges observations and gateway-only reports whose grace window has passed without the other side, a few at a
 * time in one transaction; rows another reconciler holds are skipped. Returns what they caused, for sending.
 */
export async function judgeUnmatched(pool: Pool, policy: ReconcilePolicy, now: () => Date = () => new Date(), limit = 100): Promise<ReconcileOutcome & { judged: number }> {
  return withTransaction(pool, async (c) => {
    const out: ReconcileOutcome & { judged: number } = { alerts: [], revocations: [], judged: 0 };
    const obs = await c.query<{ event_id: string; gateway_id: string; subject_agent_id: string; intent_id: string | null; action_id: string; tool: string; args_digest: string; produced_at: Date }>(
      `SELECT o.event_id, o.gateway_id, o.subject_agent_id, o.intent_id, o.action_id, o.tool, o.args_digest, l.produced_at
         FROM observations o JOIN ledger_events l USING (event_id)
        WHERE NOT o.judged AND o.matched_event_id IS NULL AND o.judge_after <= $1
        ORDER BY o.judge_after LIMIT $2 FOR UPDATE OF o SKIP LOCKED`,
      [now(), limit],
    );
    for (const o of obs.rows) {
      out.judged += 1;
      const report = await findReport(c, o.subject_agent_id, o.action_id, o.tool, o.args_digest);
      if (report !== null) {
        await matched(c, o.event_id, report);
        continue;
      }
      await c.query('UPDATE observations SET judged = true WHERE event_id = $1', [o.event_id]);
      const other = (await c.query<{ tool: string; args_digest: string }>('SELECT tool, args_digest FROM actions WHERE agent_id = $1 AND action_id = $2 LIMIT 1', [o.subject_agent_id, o.action_id])).rows[0];
      const why = other
        ? other.tool !== o.tool
          ? `; it reported action ${o.action_id} as a call to ${other.tool}`
          : `; it reported action ${o.action_id} with other arguments (digest ${other.args_digest.slice(0, 12)}…)`
        : '';
      const alert = await recordFinding(c, o.event_id, o.subject_agent_id, o.intent_id, o.tool, {
        reasonCode: 'UNREPORTED_ACTION', severity: UNREPORTED_SEVERITY,
        detail: `gateway ${o.gateway_id} saw ${o.subject_agent_id} call ${o.tool} (action ${o.action_id}), which the agent did not report within ${graceOf(policy)} ms${why}`,
      });
      out.alerts.push(alert);
      out.revocations.push(...(await revokeOnFindings(c, { eventId: o.event_id, agentId: o.subject_agent_id, producedAt: o.produced_at.toISOString() }, await ownIntent(c, o.intent_id, o.subject_agent_id), [alert], policy, now)));
    }
    const waiting = await c.query<{ action_event_id: string; agent_id: string; intent_id: string | null; action_id: string; tool: string; args_digest: string; produced_at: Date }>(
      `SELECT a.action_event_id, a.agent_id, a.intent_id, a.action_id, a.tool, a.args_digest, l.produced_at
         FROM awaiting_observations a JOIN ledger_events l ON l.event_id = a.action_event_id
        WHERE a.judge_after <= $1 ORDER BY a.judge_after LIMIT $2 FOR UPDATE OF a SKIP LOCKED`,
      [now(), limit],
    );
    for (const w of waiting.rows) {
      out.judged += 1;
      await c.query('DELETE FROM awaiting_observations WHERE action_event_id = $1', [w.action_event_id]);
      const seen = await c.query<{ event_id: string; matched_event_id: string | null; judged: boolean }>(
        'SELECT event_id, matched_event_id, judged FROM observations WHERE subject_agent_id = $1 AND action_id = $2 AND tool = $3 AND args_digest = $4 LIMIT 1',
        [w.agent_id, w.action_id, w.tool, w.args_digest],
      );
      if (seen.rows[0]) {
        if (seen.rows[0].matched_event_id === null && !seen.rows[0].judged) await matched(c, seen.rows[0].event_id, w.action_event_id);
        continue;
      }
      const alert: DriftAlert = await recordFinding(c, w.action_event_id, w.agent_id, w.intent_id, w.tool, {
        reasonCode: 'UNOBSERVED_ACTION', severity: UNOBSERVED_SEVERITY,
        detail: `${w.agent_id} reported a call to ${w.tool} (action ${w.action_id}), which policy makes reachable only through a gateway, and no gateway observed it within ${graceOf(policy)} ms`,
      });
      out.alerts.push(alert);
      out.revocations.push(...(await revokeOnFindings(c, { eventId: w.action_event_id, agentId: w.agent_id, producedAt: w.produced_at.toISOString() }, await ownIntent(c, w.intent_id, w.agent_id), [alert], policy, now)));
    }
    return out;
  });
}
