import { z } from 'zod';

/**
 * What an analyst did through the API: every query and every action, and every request refused to someone who
 * authenticated but lacked the role. Signed by the API service, so the ledger answers "who looked at what, who
 * acknowledged or revoked what, and when" with the same evidence as the agents' own events.
 */
export const AnalystActivityPayload = z
  .object({
    activityId: z.string().min(1).max(128),
    analyst: z.string().min(1).max(128),
    role: z.enum(['viewer', 'responder', 'admin']),
    action: z.enum(['query', 'acknowledge', 'revoke', 'refused']),
    method: z.enum(['GET', 'POST']),
    path: z.string().min(1).max(2048),
    query: z.record(z.string().max(64), z.string().max(1024)),
    subject: z.string().max(256).nullable(),
    note: z.string().max(2048).nullable(),
  })
  .strict();
export type AnalystActivityPayload = z.infer<typeof AnalystActivityPayload>;
