import { z } from 'zod';
import { Rfc3339Utc } from '../../schema/events/time';

export const BUNDLE_TYPE = 'intent-ledger/evidence-bundle';

const Hex32 = z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex digits');
const Count = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

/**
 * Evidence for one intent or one agent, checkable with no database (`intent-ledger verify --bundle`): every event's
 * received bytes, the agents' public keys, each event's RFC 6962 inclusion proof against one signed tree head, and
 * that head. Findings are carried for the reader; they are the ledger's judgement, not something the bundle proves.
 */
export const EvidenceBundle = z
  .object({
    v: z.literal(1),
    type: z.literal(BUNDLE_TYPE),
    subject: z.object({ kind: z.enum(['intent', 'agent']), id: z.string().min(1).max(128) }).strict(),
    createdAt: Rfc3339Utc,
    treeHead: z
      .object({
        logId: z.string().min(1).max(200),
        treeSize: Count.min(1),
        rootHash: Hex32,
        timestamp: Rfc3339Utc,
        keyId: z.string().min(1).max(200),
        signature: z.string().min(1).max(200),
        publicKey: z.string().min(1).max(200),
      })
      .strict(),
    agentKeys: z.array(z.object({ agentId: z.string().min(1).max(128), keyId: z.string().min(1).max(200), publicKey: z.string().min(1).max(200) }).strict()).max(100_000),
    events: z
      .array(
        z
          .object({
            leaf: z.object({ leafIndex: Count, eventId: z.string().min(1).max(128), eventHash: Hex32, rawSha256: Hex32 }).strict(),
            raw: z.string(),
            /** Null for an event ledgered after the tree head (covered by its signature and chain only). */
            auditPath: z.array(Hex32).max(64).nullable(),
          })
          .strict(),
      )
      .max(100_000),
    findings: z.array(z.record(z.string(), z.unknown())).max(100_000),
  })
  .strict();
export type EvidenceBundle = z.infer<typeof EvidenceBundle>;
