import { z } from 'zod';
import { Rfc3339Utc } from '../../schema/events/time';

export const PROOF_TYPE = 'intent-ledger/inclusion-proof';

const Hex32 = z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex digits');
const Count = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

/**
 * What `intent-ledger proof <event-id>` prints and `verify --proof` reads: one leaf, its RFC 6962 audit path (nearest
 * the leaf first) and the signed tree head it leads to, with the event's raw bytes so the leaf can be tied to them.
 */
export const InclusionProofFile = z
  .object({
    v: z.literal(1),
    type: z.literal(PROOF_TYPE),
    leaf: z.object({ leafIndex: Count, eventId: z.string().min(1).max(128), eventHash: Hex32, rawSha256: Hex32 }).strict(),
    leafHash: Hex32,
    auditPath: z.array(Hex32).max(64),
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
    event: z.object({ raw: z.string() }).strict().optional(),
  })
  .strict();
export type InclusionProofFile = z.infer<typeof InclusionProofFile>;
