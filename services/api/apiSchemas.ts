import { z } from 'zod';
import { REASON_CODES, SEVERITIES } from '../../schema/reasons';
import { Rfc3339Utc } from '../../schema/events/time';
import { ID_PATTERN } from '../../schema/events/envelope';

/**
 * Every request parameter and response body of the analyst API, as zod schemas: the server validates requests with
 * them and the OpenAPI document is generated from them, so the two cannot disagree.
 */
const Id = z.string().regex(ID_PATTERN, '1-128 chars of [A-Za-z0-9._:@/-]');
const Limit = z.coerce.number().int().min(1).max(500).default(50);
const Cursor = z.string().regex(/^\d{1,18}$/, 'a cursor is the nextCursor of the previous page');

export const FindingsQuery = z
  .object({
    agent: Id.optional(),
    intent: z.string().min(1).max(128).optional(),
    reason: z.enum(REASON_CODES).optional(),
    /** The least severity to include. */
    severity: z.enum(SEVERITIES).optional(),
    since: Rfc3339Utc.optional(),
    until: Rfc3339Utc.optional(),
    acknowledged: z.enum(['true', 'false']).optional(),
    limit: Limit,
    cursor: Cursor.optional(),
  })
  .strict();

export const AgentsQuery = z.object({ limit: Limit, cursor: Id.optional() }).strict();
export const TimelineQuery = z.object({ limit: Limit, cursor: Cursor.optional() }).strict();
export const CredentialsQuery = z
  .object({ agent: Id.optional(), intent: z.string().min(1).max(128).optional(), status: z.enum(['active', 'revoked', 'expired']).optional(), limit: Limit, cursor: Id.optional() })
  .strict();
export const EvidenceQuery = z
  .object({ intent: z.string().min(1).max(128).optional(), agent: Id.optional() })
  .strict()
  .refine((q) => (q.intent === undefined) !== (q.agent === undefined), 'give exactly one of intent or agent');
export const AuditQuery = z.object({ analyst: z.string().max(64).optional(), limit: Limit, cursor: Cursor.optional() }).strict();
export const EmptyQuery = z.object({}).strict();

/** Bucket widths the aggregate routes count in (UTC). */
export const BUCKETS = ['minute', 'hour', 'day'] as const;
/** No aggregate returns more buckets than this; a wider window needs a wider bucket. */
export const MAX_BUCKETS = 1440;
export const FindingsStatsQuery = z
  .object({
    bucket: z.enum(BUCKETS).default('hour'),
    /** Default: the bucket of the oldest finding, at most MAX_BUCKETS buckets before `until`. */
    since: Rfc3339Utc.optional(),
    /** Default: now. */
    until: Rfc3339Utc.optional(),
  })
  .strict();
export const TopAgentsQuery = z.object({ limit: z.coerce.number().int().min(1).max(100).default(10), since: Rfc3339Utc.optional(), until: Rfc3339Utc.optional() }).strict();

export const AcknowledgeBody = z.object({ note: z.string().max(2048).optional() }).strict();
export const RevokeBody = z.object({ reason: z.string().min(1).max(2048) }).strict();

const Frameworks = z.object({ owaspAgentic: z.array(z.string()), maestro: z.array(z.string()), nistAiRmf: z.array(z.string()) });

export const Finding = z.object({
  id: z.string(),
  eventId: z.string().describe('the event judged: an action, or an intent refused at declaration'),
  agentId: z.string(),
  intentId: z.string().nullable(),
  tool: z.string(),
  reasonCode: z.enum(REASON_CODES),
  severity: z.enum(SEVERITIES),
  detail: z.string(),
  frameworks: Frameworks,
  createdAt: z.string(),
  acknowledgedAt: z.string().nullable(),
  acknowledgedBy: z.string().nullable(),
  ackNote: z.string().nullable(),
});
export const Page = <T extends z.ZodType>(item: T) => z.object({ items: z.array(item), nextCursor: z.string().nullable() });

export const AgentSummary = z.object({
  agentId: z.string(),
  displayName: z.string().nullable(),
  events: z.number(),
  lastSeq: z.number(),
  lastSeen: z.string().nullable(),
  findings: z.object({ low: z.number(), medium: z.number(), high: z.number(), critical: z.number() }),
  activeCredentials: z.number(),
  revokedCredentials: z.number(),
});
export const AgentDetail = AgentSummary.extend({
  keys: z.array(z.object({ keyId: z.string(), publicKey: z.string(), status: z.string(), registeredAt: z.string(), retiredAt: z.string().nullable() })),
  integrityFindings: z.array(z.object({ reasonCode: z.enum(REASON_CODES), severity: z.enum(SEVERITIES), detail: z.string(), createdAt: z.string() })),
});

export const TimelineEntry = z.object({
  seq: z.number(),
  eventId: z.string(),
  type: z.string(),
  ts: z.string(),
  ledgeredAt: z.string(),
  leafIndex: z.string(),
  summary: z.string(),
  intentId: z.string().nullable(),
  tool: z.string().nullable(),
  inScope: z.boolean().nullable().describe('for actions: whether the reconciler found them within scope (null: not yet judged)'),
  findings: z.array(z.object({ reasonCode: z.enum(REASON_CODES), severity: z.enum(SEVERITIES), detail: z.string() })),
});

export const IntentDetail = z.object({
  intentId: z.string(),
  agentId: z.string(),
  eventId: z.string(),
  task: z.string(),
  purpose: z.string(),
  allowedTools: z.array(z.string()),
  allowedTargets: z.array(z.object({ kind: z.string(), value: z.string(), match: z.string().optional() })),
  dataClasses: z.array(z.string()),
  notBefore: z.string(),
  notAfter: z.string(),
  status: z.string(),
  deniedFor: z.string().nullable(),
  maxActions: z.number().nullable(),
  parentIntentId: z.string().nullable(),
  rootIntentId: z.string().nullable(),
  approvalRef: z.string().nullable(),
  declaredAt: z.string(),
  closedAt: z.string().nullable(),
  credential: z.object({ credentialId: z.string(), status: z.string(), expiresAt: z.string(), revokedAt: z.string().nullable() }).nullable(),
  declarationFindings: z.array(Finding),
  actions: z.array(
    z.object({
      eventId: z.string(),
      actionId: z.string(),
      agentId: z.string(),
      tool: z.string(),
      targets: z.array(z.object({ kind: z.string(), value: z.string() })),
      ts: z.string(),
      inScope: z.boolean(),
      findings: z.array(Finding),
    }),
  ),
  decisions: z.array(z.object({ eventId: z.string(), decidedBy: z.string(), tool: z.string(), decision: z.string(), reasonCodes: z.array(z.string()), decidedAt: z.string() })),
  children: z.array(z.object({ intentId: z.string(), agentId: z.string(), status: z.string() })),
});

export const Credential = z.object({
  credentialId: z.string(),
  agentId: z.string(),
  intentId: z.string(),
  keyId: z.string(),
  status: z.string(),
  issuedAt: z.string(),
  expiresAt: z.string(),
  revokedAt: z.string().nullable(),
  revocation: z
    .object({ reasonCode: z.enum(REASON_CODES), severity: z.enum(SEVERITIES), findingId: z.string().nullable(), revokedBy: z.string().nullable(), note: z.string().nullable(), latencyMs: z.number().nullable() })
    .nullable(),
});

export const Integrity = z.object({
  logId: z.string(),
  ledgerSize: z.string(),
  latestTreeHead: z.object({ treeSize: z.string(), rootHash: z.string(), timestamp: z.string(), keyId: z.string(), signature: z.string() }).nullable(),
  leavesAfterLatestHead: z.string(),
  integrityFindings: z.record(z.string(), z.number()),
  rejectedEvents: z.record(z.string(), z.number()),
});

export const AuditEntry = z.object({ seq: z.number(), eventId: z.string(), ts: z.string(), analyst: z.string(), role: z.string(), action: z.string(), method: z.string(), path: z.string(), subject: z.string().nullable() });

const SeverityCounts = z.object({ low: z.number(), medium: z.number(), high: z.number(), critical: z.number() });

export const FindingsStats = z.object({
  bucket: z.enum(BUCKETS),
  since: z.string().describe('start of the first bucket'),
  until: z.string().describe('end of the window (exclusive)'),
  total: z.number().describe('findings in the window'),
  allTime: z.number().describe('findings in the ledger, whatever their time'),
  bySeverity: SeverityCounts,
  byReason: z.record(z.string(), z.number()),
  buckets: z.array(SeverityCounts.extend({ start: z.string() })).describe('every bucket of the window, empty ones as zeros'),
});

export const TopAgents = z.object({
  items: z.array(
    z.object({
      agentId: z.string(),
      displayName: z.string().nullable(),
      driftingActions: z.number().describe('distinct events with at least one finding'),
      findings: z.number(),
      bySeverity: SeverityCounts,
      revokedCredentials: z.number(),
      lastFindingAt: z.string(),
    }),
  ),
});

export const CredentialStats = z.object({
  active: z.number(),
  revoked: z.number(),
  expired: z.number(),
  revocationsByReason: z.record(z.string(), z.number()),
  latencyMs: z
    .object({ count: z.number(), p50: z.number(), p99: z.number(), max: z.number() })
    .nullable()
    .describe('action produced -> credential revoked, over automatic revocations (null when there are none)'),
});

export const ApiError = z.object({ error: z.object({ code: z.string(), message: z.string() }) });
