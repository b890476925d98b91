import { z } from 'zod';
import { Target } from './intent';

/**
 * One tool call the agent made. Arguments travel in full or as a digest (SHA-256 hex of their JCS form) when they
 * are too sensitive to ledger; targets are what the agent says the call touches, and the reconciler also derives
 * them from the arguments with the tool catalogue, so an agent cannot hide a target by leaving it out.
 */
export const ActionReportedPayload = z
  .object({
    actionId: z.string().min(1).max(128),
    intentId: z.string().min(1).max(128).nullable(),
    tool: z.string().min(1).max(128),
    args: z.record(z.string(), z.unknown()).optional(),
    argsDigest: z.string().regex(/^[0-9a-f]{64}$/),
    targets: z.array(Target).max(256),
    outcome: z.enum(['ok', 'error', 'denied', 'unknown']),
  })
  .strict();
export type ActionReportedPayload = z.infer<typeof ActionReportedPayload>;
