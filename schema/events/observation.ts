import { z } from 'zod';
import { Target } from './intent';

/**
 * A tool call a gateway saw and let through: signed by the gateway's own registered key (the envelope's agent),
 * about the agent that made it (`subjectAgentId`). The reconciler matches it to the agent's own action.reported by
 * subject and `actionId`; a report whose tool or argsDigest differs does not match, so the call counts as unreported.
 */
export const ActionObservedPayload = z
  .object({
    observationId: z.string().min(1).max(128),
    subjectAgentId: z.string().min(1).max(128),
    intentId: z.string().min(1).max(128).nullable(),
    actionId: z.string().min(1).max(128),
    tool: z.string().min(1).max(128),
    argsDigest: z.string().regex(/^[0-9a-f]{64}$/),
    targets: z.array(Target).max(256),
    /** The credential the call was made with. */
    credentialId: z.string().min(1).max(128),
    outcome: z.enum(['ok', 'error']),
  })
  .strict();
export type ActionObservedPayload = z.infer<typeof ActionObservedPayload>;
