import { z } from 'zod';
import { Rfc3339Utc } from './time';

/**
 * Something an action touches: a recipient, an account, a file, a channel, a URL. Values compare normalised.
 * Kinds are typed by the tool catalogue (email, iban, url, file, channel, user, event_id, ...). In an intent a
 * target may be a `pattern`: `*` stands for any run of characters and `?` for one, matched against the whole
 * normalised value (`*@example.com`, `example.com/docs/*`); an action's targets are always exact.
 */
export const Target = z
  .object({
    kind: z.string().min(1).max(64).regex(/^[a-z][a-z0-9_]*$/, 'target kind is lowercase snake_case'),
    value: z.string().min(1).max(2048),
    match: z.enum(['exact', 'pattern']).optional(),
  })
  .strict();
export type Target = z.infer<typeof Target>;

/**
 * "This tool may touch any member of this kind": declared when the plan lists a collection and works through every
 * member with the tool (read the membership of each channel), whose names the planner cannot know in advance. The
 * reconciler honours it only for read and write tools, for the catalogue's name kinds (never an address), and only
 * for values with the syntax of a name (isNameLike).
 */
export const OpenTarget = z
  .object({
    tool: z.string().min(1).max(128),
    kind: z.string().min(1).max(64).regex(/^[a-z][a-z0-9_]*$/, 'target kind is lowercase snake_case'),
  })
  .strict();
export type OpenTarget = z.infer<typeof OpenTarget>;

const Window = z
  .object({ notBefore: Rfc3339Utc, notAfter: Rfc3339Utc })
  .strict()
  .refine((w) => Date.parse(w.notBefore) < Date.parse(w.notAfter), 'window.notBefore must be before window.notAfter');

/** What an agent says it is about to do, before it reads any untrusted content. */
export const IntentDeclaredPayload = z
  .object({
    intentId: z.string().min(1).max(128),
    task: z.string().min(1).max(8192),
    purpose: z.string().min(1).max(2048),
    allowedTools: z.array(z.string().min(1).max(128)).min(1).max(512),
    allowedTargets: z.array(Target).max(1024),
    dataClasses: z.array(z.string().min(1).max(64)).max(64),
    /** Optional; absent means none. */
    openTargets: z.array(OpenTarget).max(64).optional(),
    window: Window,
    /** At most this many actions under the intent; absent: no budget. */
    maxActions: z.number().int().min(0).max(1_000_000).optional(),
    /** The intent this one was delegated from (it may be another agent's): this one may only narrow it. */
    parentIntentId: z.string().min(1).max(128).optional(),
    /** A reference to the human approval the policy asks for (a ticket, a signed approval id). */
    approvalRef: z.string().min(1).max(256).optional(),
  })
  .strict();
export type IntentDeclaredPayload = z.infer<typeof IntentDeclaredPayload>;

export const IntentClosedPayload = z
  .object({
    intentId: z.string().min(1).max(128),
    outcome: z.enum(['completed', 'failed', 'abandoned']),
  })
  .strict();
export type IntentClosedPayload = z.infer<typeof IntentClosedPayload>;
