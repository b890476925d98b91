import { z } from 'zod';
import { Target } from './intent';
import { REASON_CODES } from '../reasons';
import { SEVERITIES } from '../reasons';

/**
 * A request-time decision: before a tool runs, whoever asked (the agent through the SDK, or a gateway through the
 * authorisation endpoint) records what was asked and what the evaluator said. The signer is the envelope's agent;
 * the agent the decision is about is `subjectAgentId` (the same when the agent asks for itself).
 */
export const AuthorizationDecidedPayload = z
  .object({
    decisionId: z.string().min(1).max(128),
    subjectAgentId: z.string().min(1).max(128),
    intentId: z.string().min(1).max(128).nullable(),
    tool: z.string().min(1).max(128),
    argsDigest: z.string().regex(/^[0-9a-f]{64}$/),
    targets: z.array(Target).max(256),
    decision: z.enum(['allow', 'deny']),
    reasons: z
      .array(
        z
          .object({
            code: z.enum(REASON_CODES),
            severity: z.enum(SEVERITIES),
            detail: z.string().max(4096),
          })
          .strict(),
      )
      .max(64),
  })
  .strict();
export type AuthorizationDecidedPayload = z.infer<typeof AuthorizationDecidedPayload>;
