import { z } from 'zod';
import { Target } from '../../schema/events/intent';
import { ID_PATTERN } from '../../schema/events/envelope';

/** What a gateway (or an agent) asks before a tool runs. The time judged is the service's own clock. */
export const AuthorizeRequest = z
  .object({
    agentId: z.string().regex(ID_PATTERN, 'agentId is 1-128 chars of [A-Za-z0-9._:@/-]'),
    intentId: z.string().min(1).max(128).nullable(),
    tool: z.string().min(1).max(128),
    args: z.record(z.string(), z.unknown()).optional(),
    targets: z.array(Target).max(256).optional(),
  })
  .strict();
export type AuthorizeRequest = z.infer<typeof AuthorizeRequest>;
