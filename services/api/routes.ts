import { z } from 'zod';
import type { Pool } from 'pg';
import { withTransaction } from '../common/transaction';
import type { Producer } from 'kafkajs';
import type { Role } from './analystTokens';
import * as S from './apiSchemas';
import * as Q from './queries';
import * as Stats from './statsQueries';
import { HttpError } from '../common/http';
import { buildEvidenceBundle, EvidenceBundle, IntegrityError } from '../integrity';
import type { RevocationNotice } from '../../consumers/reconciler/reconcileNotice';

/** What a handler gets: the parsed request, who asked, and the event that recorded the request in the ledger. */
export interface RouteContext {
  pool: Pool;
  producer: Producer;
  revocationsTopic: string;
  apiAgentId: string;
  params: Record<string, string>;
  query: Record<string, unknown>;
  body: Record<string, unknown>;
  analyst: { name: string; role: Role };
  activityEventId: string;
}

export interface Route {
  method: 'GET' | 'POST';
  /** With `{name}` placeholders. */
  path: string;
  role: Role;
  /** How the request is recorded in the ledger. */
  action: 'query' | 'acknowledge' | 'revoke';
  summary: string;
  query: z.ZodType;
  body?: z.ZodType;
  response: z.ZodType;
  /** The subject recorded with the activity (a finding or credential id), from the path. */
  subject?: (params: Record<string, string>, query: Record<string, unknown>) => string | null;
  handle(ctx: RouteContext): Promise<unknown>;
}

const notFound = (what: string) => new HttpError(404, 'NOT_FOUND', `${what} does not exist`);
const orNotFound = <T>(v: T | null, what: string): T => {
  if (v === null) throw notFound(what);
  return v;
};
const Revoked = S.Credential;
/** Finding ids are row numbers: anything else names no finding (404, not a database error). */
const findingId = (params: Record<string, string>): string => {
  if (!/^[1-9]\d{0,17}$/.test(params.id ?? '')) throw notFound(`finding ${params.id}`);
  return params.id!;
};

export const ROUTES: Route[] = [
  {
    method: 'GET', path: '/v1/findings', role: 'viewer', action: 'query', summary: 'Drift findings, newest first, filtered and paginated', query: S.FindingsQuery,
    response: S.Page(S.Finding), handle: (c) => Q.listFindings(c.pool, c.query as z.infer<typeof S.FindingsQuery>),
  },
  {
    method: 'GET', path: '/v1/findings/{id}', role: 'viewer', action: 'query', summary: 'One drift finding', query: S.EmptyQuery, response: S.Finding,
    subject: (p) => `finding:${p.id}`,
    handle: async (c) => orNotFound(await Q.getFinding(c.pool, findingId(c.params)), `finding ${c.params.id}`),
  },
  {
    method: 'POST', path: '/v1/findings/{id}/acknowledge', role: 'responder', action: 'acknowledge', summary: 'Acknowledge a finding (the first acknowledgement stands)',
    query: S.EmptyQuery, body: S.AcknowledgeBody, response: S.Finding, subject: (p) => `finding:${p.id}`,
    handle: async (c) => orNotFound(await Q.acknowledgeFinding(c.pool, findingId(c.params), c.analyst.name, (c.body.note as string | undefined) ?? null), `finding ${c.params.id}`),
  },
  {
    method: 'GET', path: '/v1/agents', role: 'viewer', action: 'query', summary: 'Agents with their event, finding and credential counts', query: S.AgentsQuery,
    response: S.Page(S.AgentSummary), handle: (c) => Q.listAgents(c.pool, c.query as z.infer<typeof S.AgentsQuery>),
  },
  {
    method: 'GET', path: '/v1/agents/{id}', role: 'viewer', action: 'query', summary: 'One agent: keys, counts, integrity findings', query: S.EmptyQuery, response: S.AgentDetail,
    subject: (p) => `agent:${p.id}`,
    handle: async (c) => orNotFound(await Q.getAgent(c.pool, c.params.id!), `agent ${c.params.id}`),
  },
  {
    method: 'GET', path: '/v1/agents/{id}/timeline', role: 'viewer', action: 'query', summary: "An agent's events in its own order, each with the reconciler's verdict",
    query: S.TimelineQuery, response: S.Page(S.TimelineEntry), subject: (p) => `agent:${p.id}`,
    handle: (c) => Q.agentTimeline(c.pool, c.params.id!, c.query as z.infer<typeof S.TimelineQuery>),
  },
  {
    method: 'GET', path: '/v1/intents/{id}', role: 'viewer', action: 'query', summary: 'One intent beside the actions, decisions and findings under it', query: S.EmptyQuery,
    response: S.IntentDetail, subject: (p) => `intent:${p.id}`,
    handle: async (c) => orNotFound(await Q.getIntent(c.pool, c.params.id!), `intent ${c.params.id}`),
  },
  {
    method: 'GET', path: '/v1/credentials', role: 'viewer', action: 'query', summary: 'Just-in-time credentials and their revocations', query: S.CredentialsQuery,
    response: S.Page(S.Credential), handle: (c) => Q.listCredentials(c.pool, c.query as z.infer<typeof S.CredentialsQuery>),
  },
  {
    method: 'GET', path: '/v1/credentials/{id}', role: 'viewer', action: 'query', summary: 'One credential', query: S.EmptyQuery, response: S.Credential,
    subject: (p) => `credential:${p.id}`,
    handle: async (c) => orNotFound(await Q.getCredential(c.pool, c.params.id!), `credential ${c.params.id}`),
  },
  {
    method: 'POST', path: '/v1/credentials/{id}/revoke', role: 'responder', action: 'revoke', summary: 'Revoke a credential now; gateways learn it from the revocations topic',
    query: S.EmptyQuery, body: S.RevokeBody, response: Revoked, subject: (p) => `credential:${p.id}`,
    handle: (c) => revokeCredential(c),
  },
  {
    method: 'GET', path: '/v1/integrity', role: 'viewer', action: 'query', summary: 'Ledger size, latest signed tree head, integrity findings and rejections', query: S.EmptyQuery,
    response: S.Integrity, handle: (c) => Q.integrityStatus(c.pool),
  },
  {
    method: 'GET', path: '/v1/stats/findings', role: 'viewer', action: 'query', summary: 'Drift findings per time bucket and severity, and by reason, over a window (UTC buckets)',
    query: S.FindingsStatsQuery, response: S.FindingsStats, handle: (c) => Stats.findingsStats(c.pool, c.query as z.infer<typeof S.FindingsStatsQuery>),
  },
  {
    method: 'GET', path: '/v1/stats/agents', role: 'viewer', action: 'query', summary: 'The agents with the most drifting actions',
    query: S.TopAgentsQuery, response: S.TopAgents, handle: (c) => Stats.topDriftingAgents(c.pool, c.query as z.infer<typeof S.TopAgentsQuery>),
  },
  {
    method: 'GET', path: '/v1/stats/credentials', role: 'viewer', action: 'query', summary: 'Credentials by status, revocations by reason, revocation latency',
    query: S.EmptyQuery, response: S.CredentialStats, handle: (c) => Stats.credentialStats(c.pool),
  },
  {
    method: 'GET', path: '/v1/evidence', role: 'viewer', action: 'query', summary: 'Evidence bundle for an intent or an agent, checkable offline with `intent-ledger verify --bundle`',
    query: S.EvidenceQuery, response: EvidenceBundle, subject: (_p, q) => (q.intent ? `intent:${String(q.intent)}` : `agent:${String(q.agent)}`),
    handle: async (c) => {
      const q = c.query as { intent?: string; agent?: string };
      try {
        return await buildEvidenceBundle(c.pool, q.intent !== undefined ? { kind: 'intent', id: q.intent } : { kind: 'agent', id: q.agent! });
      } catch (e) {
        if (e instanceof IntegrityError && e.code === 'EVENT_NOT_FOUND') throw new HttpError(404, 'NOT_FOUND', e.message);
        if (e instanceof IntegrityError && (e.code === 'NOT_YET_COVERED' || e.code === 'BUNDLE_TOO_LARGE')) throw new HttpError(409, e.code, e.message);
        throw e;
      }
    },
  },
  {
    method: 'GET', path: '/v1/audit', role: 'admin', action: 'query', summary: "The analysts' own trail: every query and action, as the ledger holds it", query: S.AuditQuery,
    response: S.Page(S.AuditEntry), handle: (c) => Q.auditTrail(c.pool, c.apiAgentId, c.query as z.infer<typeof S.AuditQuery>),
  },
];

/** Revokes an active credential by hand: one transaction, then the notice every gateway listens for. */
async function revokeCredential(c: RouteContext) {
  const id = c.params.id!;
  const reason = String(c.body.reason);
  const notice = await withTransaction(c.pool, async (client): Promise<RevocationNotice> => {
    const cred = (
      await client.query<{ credential_id: string; agent_id: string; intent_id: string; status: string }>(
        'SELECT credential_id, agent_id, intent_id, status FROM credentials WHERE credential_id = $1 FOR UPDATE',
        [id],
      )
    ).rows[0];
    if (!cred) throw notFound(`credential ${id}`);
    if (cred.status !== 'active') throw new HttpError(409, 'NOT_ACTIVE', `credential ${id} is already ${cred.status}`);
    const at = new Date();
    await client.query(`UPDATE credentials SET status = 'revoked', revoked_at = $2 WHERE credential_id = $1`, [id, at]);
    await client.query(
      `INSERT INTO revocations (credential_id, agent_id, intent_id, reason_code, severity, revoked_at, revoked_by, note, action_event_id)
       VALUES ($1, $2, $3, 'ANALYST_REVOKED', 'high', $4, $5, $6, $7)`,
      [id, cred.agent_id, cred.intent_id, at, c.analyst.name, reason, c.activityEventId],
    );
    return {
      type: 'credential.revoked', credentialId: id, agentId: cred.agent_id, intentId: cred.intent_id, actionEventId: c.activityEventId, reasonCode: 'ANALYST_REVOKED',
      severity: 'high', revokedAt: at.toISOString(), latencyMs: 0,
    };
  });
  await c.producer.send({ topic: c.revocationsTopic, messages: [{ key: notice.agentId, value: JSON.stringify(notice) }] });
  return (await Q.getCredential(c.pool, id))!;
}
